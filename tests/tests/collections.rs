//! Collections end to end: boltd's collections API over real HTTP with a run's own token,
//! `bolt collections`, project.yaml `collections:` and the rest of a Lightning export, cron
//! cursor jobs, and the real @openfn/language-collections adaptor.

use bolt_e2e::{Daemon, http};
use bolt_shared::model::*;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

/// Writes a bolt.toml with small collection limits, for the limit tests.
fn small_limits_config(dir: &Path) -> String {
    let path = dir.join("bolt.toml");
    std::fs::write(
        &path,
        "[collections]\nmax_value_chars = 1000\nmax_collection_bytes = 20000\n",
    )
    .expect("write config");
    path.display().to_string()
}

/// Two projects; the stores project's job calls the collections API the way the adaptor
/// does, with the token boltd gave its run (so the comment below must mention it).
const STORES: &str = r#"
name: stores
collections:
  stock:
    name: stock
workflows:
  probe:
    name: Probe
    jobs:
      probe:
        name: Probe
        adaptor: '@openfn/language-http@7.2.10'
        body: |
          // Calls boltd's collections. API directly, as the collections adaptor does.
          fn(async state => {
            const { collections_endpoint: base, collections_token: token } = state.configuration;
            const call = async (method, path, body, headers = {}) => {
              const s = await request(method, base + path, {
                headers: { Authorization: 'Bearer ' + token, ...headers },
                body, errors: false, parseAs: 'text',
              })({ ...state });
              let parsed = s.data;
              try { parsed = JSON.parse(s.data); } catch (e) {}
              return { status: s.response.statusCode, body: parsed };
            };
            const out = { endpoint: base };
            const items = [];
            for (let i = 0; i < 7; i++) {
              items.push({ key: `ward-${i % 2 ? 'b' : 'a'}:${i}`, value: JSON.stringify({ n: i }) });
            }
            out.upsert = await call('POST', '/stock', { items });
            out.update = await call('PUT', '/stock/ward-a:2', { value: JSON.stringify({ n: 'two' }) });
            out.one = await call('GET', '/stock/ward-a:2');
            out.missing = await call('GET', '/stock/nope');
            out.pattern = await call('GET', '/stock?key=ward-b:*');
            out.pages = [];
            let cursor = null;
            do {
              const more = cursor ? '&cursor=' + encodeURIComponent(cursor) : '';
              const page = await call('GET', '/stock?limit=3' + more);
              out.pages.push(page.body.items.map(i => i.key));
              cursor = page.body.cursor;
            } while (cursor);
            out.removeOne = await call('DELETE', '/stock/ward-a:0');
            out.removeMissing = await call('DELETE', '/stock/ward-a:0');
            out.removePattern = await call('DELETE', '/stock?key=ward-b:*');
            out.after = await call('GET', '/stock');
            out.unknownCollection = await call('GET', '/no-such-collection');
            out.otherProject = await call('GET', '/secrets');
            out.badParameter = await call('GET', '/stock?colour=red');
            out.badVersion = await call('GET', '/stock', undefined, { 'x-api-version': '3' });
            out.tooLong = await call('PUT', '/stock/big', { value: 'x'.repeat(1001) });
            const bulk = [];
            for (let i = 0; i < 30; i++) bulk.push({ key: 'bulk-' + i, value: 'y'.repeat(900) });
            out.full = await call('POST', '/stock', { items: bulk });
            out.afterRefusals = await call('GET', '/stock?limit=100');
            // For the test only: the token, reversed, so the scrubber lets it through.
            out.reversed = token.split('').reverse().join('');
            state.data = out;
            return state;
          });
    triggers:
      webhook:
        type: webhook
        custom_path: probe
    edges:
      webhook->probe: {source_trigger: webhook, target_job: probe, condition_type: always}
"#;

const CLINICS: &str = r#"
name: clinics
collections:
  secrets:
    name: secrets
workflows:
  noop:
    name: Noop
    jobs:
      noop:
        name: Noop
        body: fn(s => s)
    triggers:
      webhook:
        type: webhook
        custom_path: noop
    edges:
      webhook->noop: {source_trigger: webhook, target_job: noop, condition_type: always}
"#;

fn deploy_file(daemon: &Daemon, name: &str, yaml: &str) -> std::process::Output {
    let path = daemon.data_dir().join(name);
    std::fs::write(&path, yaml).expect("write project");
    let out = daemon.bolt(&["deploy", path.to_str().expect("utf-8")]);
    assert!(
        out.status.success(),
        "deploy failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn run_webhook(daemon: &Daemon, path: &str, body: &str) -> WorkOrderView {
    let reply = daemon.post(path, body);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let id = reply.json()["work_order_id"]
        .as_str()
        .expect("work_order_id")
        .to_string();
    daemon.wait_work_order(&id)
}

fn final_output(view: &WorkOrderView) -> Value {
    let step = view.runs[0].steps.last().expect("a step ran");
    let body = step
        .output
        .as_ref()
        .and_then(|o| o.body.as_deref())
        .unwrap_or_else(|| panic!("no output: {step:?}"));
    serde_json::from_str(body).expect("output is JSON")
}

#[test]
fn the_collections_api_serves_a_runs_token_over_real_http() {
    let config_dir = tempfile::tempdir().unwrap();
    let config = small_limits_config(config_dir.path());
    let daemon = Daemon::start_with(&[("BOLT_CONFIG", config.as_str())]);
    deploy_file(&daemon, "stores.yaml", STORES);
    deploy_file(&daemon, "clinics.yaml", CLINICS);
    let view = run_webhook(&daemon, "/i/probe", "{}");
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    let out = final_output(&view)["data"].clone();
    assert_eq!(
        out["endpoint"],
        format!("http://{}/collections", daemon.http),
        "runs reach boltd's own server"
    );

    // Set, update, get.
    assert_eq!(
        out["upsert"],
        json!({"status": 200, "body": {"error": null, "upserted": 7}})
    );
    assert_eq!(out["update"]["body"], json!({"error": null, "upserted": 1}));
    assert_eq!(out["one"]["status"], 200);
    let one = &out["one"]["body"];
    assert_eq!(one["key"], "ward-a:2");
    assert_eq!(one["value"], "{\"n\":\"two\"}");
    let keys: Vec<&str> = one
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        ["created", "key", "updated", "value"],
        "Lightning's item shape"
    );
    assert_eq!(out["missing"]["status"], 204, "{}", out["missing"]);

    // A pattern; pages of three with the cursor, the updated item in its place.
    let pattern: Vec<&str> = out["pattern"]["body"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(pattern, ["ward-b:1", "ward-b:3", "ward-b:5"]);
    assert_eq!(out["pattern"]["body"]["cursor"], Value::Null);
    assert_eq!(
        out["pages"],
        json!([
            ["ward-a:0", "ward-b:1", "ward-a:2"],
            ["ward-b:3", "ward-a:4", "ward-b:5"],
            ["ward-a:6"]
        ])
    );

    // Removing one, a missing one, a pattern.
    assert_eq!(
        out["removeOne"]["body"],
        json!({"deleted": 1, "error": null, "key": "ward-a:0"})
    );
    assert_eq!(
        out["removeMissing"]["body"],
        json!({"deleted": 0, "error": "Item Not Found", "key": "ward-a:0"})
    );
    assert_eq!(
        out["removePattern"]["body"],
        json!({"deleted": 3, "error": null, "key": "ward-b:*"})
    );
    let left: Vec<&str> = out["after"]["body"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["ward-a:2", "ward-a:4", "ward-a:6"]);

    // Refusals, as Lightning answers them (and bolt's own, with what to change).
    assert_eq!(
        out["unknownCollection"],
        json!({"status": 404, "body": {"error": "Not Found"}})
    );
    assert_eq!(
        out["otherProject"],
        json!({"status": 401, "body": {"error": "Unauthorized"}}),
        "a token of one project cannot read another project's collection"
    );
    assert_eq!(out["badParameter"]["status"], 400);
    assert_eq!(out["badVersion"]["status"], 400);
    assert_eq!(out["tooLong"]["status"], 422);
    let message = out["tooLong"]["body"]["message"].as_str().unwrap();
    assert!(
        message.contains("1001 characters") && message.contains("max_value_chars"),
        "{message}"
    );
    assert_eq!(out["full"]["status"], 402);
    assert_eq!(out["full"]["body"]["error"], "exceeds_limit");
    assert!(
        out["full"]["body"]["message"]
            .as_str()
            .unwrap()
            .contains("max_collection_bytes"),
        "{}",
        out["full"]
    );
    assert_eq!(
        out["afterRefusals"]["body"]["items"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "a refused write leaves nothing behind"
    );

    // After the run: its token is refused, and it was never stored.
    let token: String = out["reversed"].as_str().unwrap().chars().rev().collect();
    let auth = format!("Bearer {token}");
    let after_run = http(
        &daemon.http,
        "GET",
        "/collections/stock",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(after_run.status, 401, "{}", after_run.body);
    assert_eq!(after_run.json(), json!({"error": "Unauthorized"}));
    let bytes = daemon.database_bytes();
    assert!(
        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
        "the run's token must not be stored"
    );
    for (name, value) in [("none", None), ("junk", Some("Bearer not-a-token"))] {
        let headers: Vec<(&str, &str)> = value.map(|v| ("authorization", v)).into_iter().collect();
        let reply = http(&daemon.http, "GET", "/collections/stock", &headers, b"");
        assert_eq!(reply.status, 401, "{name}: {}", reply.body);
    }
    // The items are the stores project's, and `bolt collections` sees them.
    let listed = daemon.bolt_json(&["collections", "--project", "stores", "list"]);
    assert_eq!(listed[0]["name"], "stock");
    assert_eq!(listed[0]["items"], 3);
    let clinics = daemon.bolt_json(&["collections", "--project", "clinics", "get", "secrets", "*"]);
    assert_eq!(clinics, json!([]));
}

const LEDGER: &str = r#"
name: ledger
collections:
  entries:
    name: entries
workflows:
  fill:
    name: Fill
    jobs:
      fill:
        name: Fill
        adaptor: '@openfn/language-http@7.2.10'
        body: |
          // Fills a collection through boltd's collections. API and reads it back in pages.
          fn(async state => {
            const { collections_endpoint: base, collections_token: token } = state.configuration;
            const call = async (method, path, body) => {
              const s = await request(method, base + path, {
                headers: { Authorization: 'Bearer ' + token }, body, errors: false,
              })({ ...state });
              return s.data;
            };
            const out = { upserted: [] };
            for (let b = 0; b < 3; b++) {
              const items = [];
              for (let i = 0; i < 1000; i++) {
                items.push({ key: `k-${b}-${String(i).padStart(4, '0')}`, value: String(b * 1000 + i) });
              }
              out.upserted.push((await call('POST', '/entries', { items })).upserted);
            }
            const read = async limit => {
              const pages = [];
              let cursor = null;
              do {
                const query = [limit ? 'limit=' + limit : null, cursor ? 'cursor=' + encodeURIComponent(cursor) : null]
                  .filter(Boolean).join('&');
                const page = await call('GET', '/entries' + (query ? '?' + query : ''));
                pages.push(page.items.map(i => i.key));
                cursor = page.cursor;
              } while (cursor);
              return pages;
            };
            out.byDefault = await read(null);
            out.by1500 = await read(1500);
            out.wholeAtOnce = (await read(5000)).map(p => p.length);
            state.data = out;
            return state;
          });
    triggers:
      webhook:
        type: webhook
        custom_path: fill
    edges:
      webhook->fill: {source_trigger: webhook, target_job: fill, condition_type: always}
"#;

#[test]
fn pages_and_the_cursor_cover_a_large_collection() {
    let daemon = Daemon::start();
    deploy_file(&daemon, "ledger.yaml", LEDGER);
    let view = run_webhook(&daemon, "/i/fill", "{}");
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    let out = final_output(&view)["data"].clone();
    assert_eq!(out["upserted"], json!([1000, 1000, 1000]));
    let keys = |pages: &Value| -> Vec<String> {
        pages
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| {
                p.as_array()
                    .unwrap()
                    .iter()
                    .map(|k| k.as_str().unwrap().to_string())
            })
            .collect()
    };
    let mut expected = Vec::new();
    for b in 0..3 {
        for i in 0..1000 {
            expected.push(format!("k-{b}-{i:04}"));
        }
    }
    // Lightning's default page is 1,000 items; pages past the store's read batch (500) too.
    let sizes = |pages: &Value| -> Vec<usize> {
        pages
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_array().unwrap().len())
            .collect()
    };
    assert_eq!(sizes(&out["byDefault"]), [1000, 1000, 1000]);
    assert_eq!(
        keys(&out["byDefault"]),
        expected,
        "every item once, in insertion order"
    );
    assert_eq!(sizes(&out["by1500"]), [1500, 1500]);
    assert_eq!(keys(&out["by1500"]), expected);
    assert_eq!(out["wholeAtOnce"], json!([3000]));
    let exported = daemon.bolt(&["collections", "export", "entries"]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let doc: Value = serde_json::from_slice(&exported.stdout).expect("export is JSON");
    assert_eq!(doc["collection"], "entries");
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 3000);
    assert_eq!(items[2999]["key"], "k-2-0999");
    assert_eq!(items[2999]["value"], "2999", "values exactly as stored");
}

#[test]
fn bolt_collections_commands_read_and_change_items() {
    let daemon = Daemon::start();
    deploy_file(&daemon, "stores.yaml", STORES);
    let ok = |args: &[&str], stdin: Option<&str>| {
        let out = daemon.bolt_with_stdin(args, stdin);
        assert!(
            out.status.success(),
            "bolt {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let fails = |args: &[&str]| {
        let out = daemon.bolt(args);
        assert!(!out.status.success(), "bolt {args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // One project: no --project needed.
    let text = ok(
        &[
            "collections",
            "set",
            "stock",
            "2025-05:ward-1a",
            "--value",
            r#"{"onHand": 410}"#,
        ],
        None,
    );
    assert!(text.contains("set `2025-05:ward-1a`"), "{text}");
    ok(
        &[
            "collections",
            "set",
            "stock",
            "2025-05:ward-2b",
            "--value",
            "-",
        ],
        Some(r#"{"onHand": 120}"#),
    );
    ok(
        &["collections", "set", "stock", "2025-06:ward-1a"],
        Some("385"),
    );
    let set = daemon.bolt_json(&[
        "collections",
        "set",
        "stock",
        "note",
        "--value",
        r#""plain text""#,
    ]);
    assert_eq!(
        set,
        json!({"collection": "stock", "key": "note", "upserted": 1, "project": "stores"})
    );
    let text = fails(&["collections", "set", "stock", "bad", "--value", "{not json"]);
    assert!(
        text.contains("not valid JSON") && text.contains("--value"),
        "{text}"
    );

    assert_eq!(
        ok(&["collections", "get", "stock", "2025-05:ward-1a"], None).trim(),
        "{\n  \"onHand\": 410\n}"
    );
    let item = daemon.bolt_json(&["collections", "get", "stock", "2025-05:ward-1a"]);
    assert_eq!(item["value"], json!({"onHand": 410}));
    assert_eq!(item["key"], "2025-05:ward-1a");
    let may = daemon.bolt_json(&["collections", "get", "stock", "2025-05:*"]);
    let keys: Vec<&str> = may
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["2025-05:ward-1a", "2025-05:ward-2b"]);
    let table = ok(&["collections", "get", "stock", "*"], None);
    assert!(
        table.contains("KEY") && table.contains("2025-06:ward-1a") && table.contains("385"),
        "{table}"
    );
    let limited = daemon.bolt_json(&["collections", "get", "stock", "*", "--limit", "1"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);
    let text = fails(&["collections", "get", "stock", "nope"]);
    assert!(text.contains("no key `nope`"), "{text}");

    let listed = daemon.bolt_json(&["collections", "list"]);
    assert_eq!(listed[0]["name"], "stock");
    assert_eq!(listed[0]["items"], 4);
    let text = ok(&["collections", "list"], None);
    assert!(
        text.contains("NAME") && text.contains("stock") && text.contains('4'),
        "{text}"
    );

    let removed = daemon.bolt_json(&["collections", "rm", "stock", "2025-05:*"]);
    assert_eq!(removed["deleted"], 2);
    let text = ok(&["collections", "rm", "stock", "note"], None);
    assert!(text.contains("removed `note`"), "{text}");
    let text = ok(&["collections", "rm", "stock", "note"], None);
    assert!(text.contains("nothing removed"), "{text}");

    // Export: exactly as stored.
    let export = daemon.bolt(&["collections", "export", "stock"]);
    let doc: Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(doc["project"], "stores");
    assert_eq!(doc["items"].as_array().unwrap().len(), 1);
    assert_eq!(doc["items"][0]["value"], "385");
    let file = daemon.data_dir().join("stock.json");
    ok(
        &[
            "collections",
            "export",
            "stock",
            "-o",
            file.to_str().unwrap(),
        ],
        None,
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved, doc);

    // Create and delete whole collections; errors say what to do.
    let created = daemon.bolt_json(&["collections", "create", "ledger"]);
    assert_eq!(created["created"], true);
    let text = fails(&["collections", "create", "Bad Name"]);
    assert!(text.contains("not a valid collection name"), "{text}");
    let text = fails(&["collections", "get", "nowhere", "k"]);
    assert!(
        text.contains("no collection `nowhere`") && text.contains("ledger, stock"),
        "{text}"
    );
    let text = fails(&["collections", "delete", "ledger"]);
    assert!(text.contains("--yes"), "{text}");
    ok(&["collections", "delete", "ledger", "--yes"], None);

    // With two projects, --project is needed.
    deploy_file(&daemon, "clinics.yaml", CLINICS);
    let text = fails(&["collections", "list"]);
    assert!(
        text.contains("several projects") && text.contains("--project"),
        "{text}"
    );
    let clinics = daemon.bolt_json(&["collections", "list", "--project", "clinics"]);
    assert_eq!(clinics[0]["name"], "secrets");
    let text = fails(&["collections", "list", "--project", "nope"]);
    assert!(text.contains("no project named `nope`"), "{text}");
}

/// A project as Lightning exports it, collections and channels included.
const LIGHTNING_EXPORT: &str = r#"
name: openhie
description: Registry sync
credentials:
  jane@acme.org-Registry:
    name: Registry
    owner: jane@acme.org
collections:
  patients-cache:
    name: patients-cache
workflows:
  Sync:
    name: Sync
    jobs:
      Fetch:
        name: Fetch
        adaptor: '@openfn/language-common@latest'
        credential: jane@acme.org-Registry
        body: fn(s => s)
    triggers:
      cron:
        type: cron
        enabled: false
        cron_expression: '0 6 * * *'
        cron_cursor_job: Fetch
    edges:
      cron->Fetch:
        source_trigger: cron
        target_job: Fetch
        condition_type: always
        enabled: true
channels:
  registry-proxy:
    name: registry-proxy
    destination_url: https://registry.example.org/api
    enabled: true
"#;

#[test]
fn deploy_and_export_keep_collections_channels_owners_and_cursor_jobs() {
    let daemon = Daemon::start();
    let out = deploy_file(&daemon, "openhie.yaml", LIGHTNING_EXPORT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("channels"), "{stderr}");
    assert!(!stderr.contains("cron_cursor_job"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("created collection patients-cache"),
        "{stdout}"
    );
    let exported = daemon.bolt(&["export"]);
    let yaml = String::from_utf8_lossy(&exported.stdout).into_owned();
    for expected in [
        "owner: jane@acme.org",
        "credential: jane@acme.org-Registry",
        "cron_cursor_job: Fetch",
        "patients-cache:",
        "destination_url: https://registry.example.org/api",
    ] {
        assert!(yaml.contains(expected), "{expected} missing:\n{yaml}");
    }
    // The export deploys as it is, changing nothing.
    let again = deploy_file(&daemon, "exported.yaml", &yaml);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(stdout.contains("no changes"), "{stdout}");
    // Items survive a redeploy; a file without the collection keeps it (with a warning)…
    daemon.bolt(&["collections", "set", "patients-cache", "p1", "--value", "1"]);
    let without = LIGHTNING_EXPORT.replace("  patients-cache:\n    name: patients-cache\n", "");
    let out = deploy_file(&daemon, "without.yaml", &without);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("patients-cache") && stderr.contains("--prune-collections"),
        "{stderr}"
    );
    assert_eq!(daemon.bolt_json(&["collections", "list"])[0]["items"], 1);
    // …and --prune-collections deletes it.
    let path = daemon.data_dir().join("without.yaml");
    let out = daemon.bolt(&["deploy", path.to_str().unwrap(), "--prune-collections"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted collection patients-cache"));
    assert_eq!(daemon.bolt_json(&["collections", "list"]), json!([]));
}

#[test]
fn trigger_edges_of_older_exports_run_as_always_or_deploy_disabled() {
    let daemon = Daemon::start();
    let yaml = r#"
name: older
workflows:
  intake:
    name: Intake
    jobs:
      store:
        name: Store
        body: |
          fn(state => ({ ...state, stored: true }))
    triggers:
      webhook:
        type: webhook
        custom_path: older
    edges:
      webhook->store:
        source_trigger: webhook
        target_job: store
        condition_type: on_job_success
  alerts:
    name: Alerts
    jobs:
      alert:
        name: Alert
        body: |
          fn(state => ({ ...state, alerted: true }))
    triggers:
      webhook:
        type: webhook
        custom_path: alerts
    edges:
      webhook->alert:
        source_trigger: webhook
        target_job: alert
        condition_type: on_job_failure
"#;
    let out = deploy_file(&daemon, "older.yaml", yaml);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("webhook->store") && stderr.contains("runs as `always`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("webhook->alert") && stderr.contains("deployed disabled"),
        "{stderr}"
    );
    let view = run_webhook(&daemon, "/i/older", r#"{"id": 1}"#);
    assert_eq!(view.row.state, WorkOrderState::Success);
    assert_eq!(
        final_output(&view)["stored"],
        true,
        "the job ran as after `always`"
    );
    let view = run_webhook(&daemon, "/i/alerts", r#"{"id": 2}"#);
    assert!(
        view.runs[0].steps.is_empty(),
        "the disabled edge runs nothing: {view:?}"
    );
    let yaml = String::from_utf8_lossy(&daemon.bolt(&["export"]).stdout).into_owned();
    assert!(yaml.contains("condition_type: always"), "{yaml}");
    assert!(yaml.contains("condition_type: on_job_failure"), "{yaml}");
}

#[test]
fn a_cron_run_with_a_cursor_job_starts_from_that_jobs_last_output() {
    let daemon = Daemon::start_with(&[("BOLT_CRON_CHECK_MS", "100")]);
    let project = |enabled: bool| {
        format!(
            r#"
name: tally
workflows:
  nightly:
    name: Nightly
    jobs:
      count:
        name: Count
        body: |
          fn(state => ({{ data: {{ count: (state.data.count || 0) + 1 }} }}))
      publish:
        name: Publish
        body: |
          fn(state => ({{ data: {{ published: state.data.count }} }}))
    triggers:
      cron:
        type: cron
        enabled: {enabled}
        cron_expression: '* * * * *'
        cron_cursor_job: count
    edges:
      cron->count: {{source_trigger: cron, target_job: count, condition_type: always}}
      count->publish: {{source_job: count, target_job: publish, condition_type: on_job_success}}
"#
        )
    };
    deploy_file(&daemon, "tally.yaml", &project(false));
    let manual = daemon.bolt_with_stdin(
        &["trigger", "nightly", "--input", "-", "--wait", "--json"],
        Some(r#"{"data": {"count": 41}}"#),
    );
    assert!(
        manual.status.success(),
        "{}",
        String::from_utf8_lossy(&manual.stderr)
    );
    let manual: Value = serde_json::from_slice(&manual.stdout).unwrap();
    assert_eq!(manual["output"]["data"], json!({"published": 42}));
    deploy_file(&daemon, "tally.yaml", &project(true));
    let deadline = Instant::now() + Duration::from_secs(10);
    let fired = loop {
        let page = daemon.list(WorkOrderFilter::default(), 100, None);
        if let Some(row) = page.rows.into_iter().find(|r| r.origin == Origin::Cron) {
            break row;
        }
        assert!(Instant::now() < deadline, "cron did not fire");
        std::thread::sleep(Duration::from_millis(50));
    };
    let view = daemon.wait_work_order(&fired.id);
    let input: Value = serde_json::from_str(
        view.runs[0].steps[0]
            .input
            .as_ref()
            .unwrap()
            .body
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        input["data"],
        json!({"count": 42}),
        "the input is the cursor job's last output, not the run's final state"
    );
    assert_eq!(final_output(&view)["data"], json!({"published": 43}));
}

/// The real adaptor: a job that names only language-common and uses `collections.`, as
/// jobs on Lightning do; boltd adds @openfn/language-collections@0.8.0 to its step.
const ADAPTOR_JOB: &str = r#"
name: stockroom
collections:
  stock:
    name: stock
workflows:
  snapshot:
    name: Snapshot
    jobs:
      snapshot:
        name: Snapshot
        adaptor: '@openfn/language-common@3.3.4'
        body: |
          collections.set('stock', item => item.key, $.data.items);
          collections.get('stock', 'ward-a:1');
          fn(state => { state.exact = state.data; return state; });
          collections.get('stock', 'ward-b:*');
          fn(state => { state.matched = state.data.map(e => e.key); return state; });
          collections.each('stock', { key: 'ward-*', pageSize: 2 }, (state, value, key) => {
            state.walked = (state.walked || []).concat(key);
          });
          collections.remove('stock', 'ward-a:1');
          collections.remove('stock', 'ward-b:*');
          collections.get('stock', '*');
          fn(state => {
            state.left = state.data.map(e => e.key);
            delete state.data;
            return state;
          });
    triggers:
      webhook:
        type: webhook
        custom_path: snapshot
    edges:
      webhook->snapshot: {source_trigger: webhook, target_job: snapshot, condition_type: always}
"#;

#[test]
#[ignore = "needs the npm collections adaptor (adaptor-loader/node-builtins branches)"]
fn the_real_collections_adaptor_works_against_boltd() {
    let daemon = Daemon::start();
    bolt_e2e::install_npm_adaptor(daemon.data_dir(), "@openfn/language-collections", "0.8.0");
    deploy_file(&daemon, "stockroom.yaml", ADAPTOR_JOB);
    let items: Vec<Value> = (0..6)
        .map(|i| json!({"key": format!("ward-{}:{i}", if i % 2 == 0 { "a" } else { "b" }), "n": i}))
        .collect();
    let view = run_webhook(&daemon, "/i/snapshot", &json!({"items": items}).to_string());
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    let out = final_output(&view);
    assert_eq!(out["exact"], json!({"key": "ward-a:1", "n": 1}));
    assert_eq!(out["matched"], json!(["ward-b:1", "ward-b:3", "ward-b:5"]));
    assert_eq!(
        out["walked"],
        json!([
            "ward-a:0", "ward-b:1", "ward-a:2", "ward-b:3", "ward-a:4", "ward-b:5"
        ]),
        "each() follows the cursor past pages of two"
    );
    assert_eq!(out["left"], json!(["ward-a:0", "ward-a:2", "ward-a:4"]));
    assert!(out.get("configuration").is_none());
}

/// A run that holds its token out (reversed, so the scrubber lets it through) and waits
/// until `control/done` is set, so a real adaptor outside can use the token meanwhile.
const HOLD: &str = r#"
name: stockroom
collections:
  stock:
    name: stock
  control:
    name: control
workflows:
  hold:
    name: Hold
    jobs:
      hold:
        name: Hold
        adaptor: '@openfn/language-http@7.2.10'
        body: |
          // Lends this run's collections. token out and waits until it is told it is done.
          fn(async state => {
            const { collections_endpoint: base, collections_token: token } = state.configuration;
            console.log('token ' + token.split('').reverse().join(''));
            for (let i = 0; i < 600; i++) {
              const s = await request('GET', base + '/control/done', {
                headers: { Authorization: 'Bearer ' + token }, errors: false, parseAs: 'text',
              })({ ...state });
              if (s.response.statusCode === 200) return { data: { released: true } };
              await new Promise(resolve => setTimeout(resolve, 100));
            }
            throw new Error('never released');
          });
    triggers:
      webhook:
        type: webhook
        custom_path: hold
    edges:
      webhook->hold: {source_trigger: webhook, target_job: hold, condition_type: always}
"#;

/// The real adaptor's operations, called as the runtime calls them (`op(state)`).
const PROBE: &str = r#"
import { collections } from '@openfn/language-collections';
let state = {
  configuration: { collections_endpoint: process.env.ENDPOINT, collections_token: process.env.TOKEN },
  data: {},
};
const run = async op => { state = await op(state); return state; };
const out = {};
const items = [];
for (let i = 0; i < 2500; i++) items.push({ key: `ward-${i % 2 ? 'b' : 'a'}:${String(i).padStart(4, '0')}`, n: i });
await run(collections.set('stock', item => item.key, items));
await run(collections.get('stock', 'ward-a:0002'));
out.exact = state.data;
await run(collections.get('stock', 'nope'));
out.missing = state.data;
await run(collections.get('stock', 'ward-b:000*'));
out.matched = state.data.map(e => e.key);
await run(collections.get('stock', { key: 'ward-a:*', createdAfter: '2000-01-01T00:00:00Z' }));
out.filtered = state.data.length;
out.walked = [];
await run(collections.each('stock', { key: 'ward-*', pageSize: 700 }, (s, value, key) => { out.walked.push(key); }));
out.limited = [];
await run(collections.each('stock', { key: 'ward-b:*', limit: 3 }, (s, value, key) => { out.limited.push(value.n); }));
out.limitedCursor = typeof state.data.cursor;
await run(collections.remove('stock', 'ward-a:0000'));
await run(collections.remove('stock', 'ward-b:*'));
await run(collections.get('stock', '*'));
out.left = state.data.length;
try {
  await run(collections.get('no-such-collection', 'k'));
} catch (e) {
  out.unknown = e.message;
}
await run(collections.set('control', 'done', true));
console.log(JSON.stringify(out));
"#;

#[test]
fn the_real_adaptor_under_node_talks_to_boltd_unchanged() {
    let daemon = Daemon::start();
    let packages = tempfile::tempdir().unwrap();
    bolt_e2e::adaptors::npm_install(packages.path(), "@openfn/language-collections@0.8.0");
    std::fs::write(packages.path().join("probe.mjs"), PROBE).unwrap();
    deploy_file(&daemon, "stockroom.yaml", HOLD);
    let reply = daemon.post("/i/hold", "{}");
    let id = reply.json()["work_order_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    let token = loop {
        let lines = match daemon.request(bolt_shared::protocol::Request::Logs {
            reference: id.clone(),
            level: None,
            after_id: None,
        }) {
            bolt_shared::protocol::Response::Logs { lines, .. } => lines,
            other => panic!("unexpected {other:?}"),
        };
        if let Some(line) = lines.iter().find_map(|l| l.message.strip_prefix("token ")) {
            break line.chars().rev().collect::<String>();
        }
        assert!(Instant::now() < deadline, "the run never lent its token");
        std::thread::sleep(Duration::from_millis(50));
    };
    let probe = std::process::Command::new("node")
        .arg(packages.path().join("probe.mjs"))
        .current_dir(packages.path())
        .env("ENDPOINT", format!("http://{}/collections", daemon.http))
        .env("TOKEN", &token)
        .output()
        .expect("run node");
    assert!(
        probe.status.success(),
        "the adaptor failed: {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let stdout = String::from_utf8_lossy(&probe.stdout);
    let out: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("no result ({e}): {stdout}"));
    assert_eq!(out["exact"], json!({"key": "ward-a:0002", "n": 2}));
    assert_eq!(out["missing"], json!({}));
    assert_eq!(
        out["matched"],
        json!([
            "ward-b:0001",
            "ward-b:0003",
            "ward-b:0005",
            "ward-b:0007",
            "ward-b:0009"
        ])
    );
    assert_eq!(out["filtered"], 1250);
    let walked = out["walked"].as_array().unwrap();
    assert_eq!(
        walked.len(),
        2500,
        "each() follows the cursor across pages of 700"
    );
    assert_eq!(walked[0], "ward-a:0000");
    assert_eq!(walked[2499], "ward-b:2499");
    assert_eq!(out["limited"], json!([1, 3, 5]));
    assert_eq!(
        out["limitedCursor"], "string",
        "a stop at the limit leaves a cursor"
    );
    assert_eq!(out["left"], 1249);
    assert_eq!(out["unknown"], "COLLECTION_NOT_FOUND");
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success);
    // The run is over: its token is too.
    let auth = format!("Bearer {token}");
    let reply = http(
        &daemon.http,
        "GET",
        "/collections/stock",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(reply.status, 401);
}

#[test]
fn runs_finishing_during_a_stop_still_reach_their_collections() {
    let mut daemon = Daemon::start();
    let project = r#"
name: stores
collections:
  stock:
    name: stock
workflows:
  slow:
    name: Slow
    jobs:
      slow:
        name: Slow
        adaptor: '@openfn/language-http@7.2.10'
        body: |
          // Writes to its collections. after a while, when boltd may be stopping.
          fn(async state => {
            const { collections_endpoint: base, collections_token: token } = state.configuration;
            console.log('started');
            await new Promise(resolve => setTimeout(resolve, 1500));
            const s = await request('POST', base + '/stock', {
              headers: { Authorization: 'Bearer ' + token },
              body: { items: [{ key: 'during-drain', value: '1' }] }, errors: false,
            })({ ...state });
            return { data: { status: s.response.statusCode } };
          });
    triggers:
      webhook:
        type: webhook
        custom_path: slow
    edges:
      webhook->slow: {source_trigger: webhook, target_job: slow, condition_type: always}
"#;
    deploy_file(&daemon, "slow.yaml", project);
    let reply = daemon.post("/i/slow", "{}");
    let id = reply.json()["work_order_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let started = match daemon.request(bolt_shared::protocol::Request::Logs {
            reference: id.clone(),
            level: None,
            after_id: None,
        }) {
            bolt_shared::protocol::Response::Logs { lines, .. } => {
                lines.iter().any(|l| l.message == "started")
            }
            other => panic!("unexpected {other:?}"),
        };
        if started {
            break;
        }
        assert!(Instant::now() < deadline, "the run did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(daemon.pid().to_string())
        .status();
    // Stopping: new webhooks are refused with a clear answer, the run goes on.
    let deadline = Instant::now() + Duration::from_secs(5);
    let refused = loop {
        let reply = daemon.post("/i/slow", "{}");
        if reply.status == 503 {
            break reply;
        }
        assert!(
            Instant::now() < deadline,
            "webhooks were still taken: {}",
            reply.body
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(refused.body.contains("stopping"), "{}", refused.body);
    assert!(daemon.wait_exited(Duration::from_secs(30)).success());
    daemon.restart();
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success, "{view:?}");
    assert_eq!(
        final_output(&view)["data"]["status"],
        200,
        "the collections API answered during the drain"
    );
    let item = daemon.bolt_json(&["collections", "get", "stock", "during-drain"]);
    assert_eq!(item["value"], 1);
}
