//! Realistic history for benchmarks: N work orders of the example project, with runs, steps,
//! dataclips, log lines and the search index, written straight into the store in large
//! transactions (as the daemon indexes them). Only behind the `seeder` feature: the daemon
//! is the only writer of its schema, and the product never carries fake data.

use crate::history::counts;
use crate::project::{apply, parse_project};
use crate::refs;
use crate::store::dataclips;
use crate::store::{Store, StoreResult};
use anyhow::anyhow;
use rusqlite::{Transaction, params};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const EXAMPLE_PROJECT: &str = include_str!("../../../config/example-project.yaml");
/// Work orders written per writer transaction while seeding.
const SEED_BATCH: u64 = 20_000;
/// FTS5 keeps new index entries in memory up to this many bytes before writing a segment
/// (default 1 MB). Seeding raises it so a transaction's entries become one segment instead
/// of hundreds that automerge then merges again; queries read the same kind of b-tree.
const SEED_FTS_HASHSIZE: i64 = 512 * 1024 * 1024;
const DEFAULT_FTS_HASHSIZE: i64 = 1024 * 1024;
/// How far back received times are spread.
const HISTORY_DAYS: i64 = 30;
/// A word in about a third of the seeded records: the search benchmarks' common word.
pub const COMMON_WORD: &str = "malaria";

/// A deployed workflow: ids the seeded rows point at and the jobs its runs step through.
#[derive(Clone)]
pub struct Workflow {
    pub key: String,
    pub id: String,
    pub project_id: String,
    pub version_id: String,
    pub trigger_id: String,
    pub trigger_type: String,
    /// (key, name) in execution order.
    pub jobs: Vec<(String, String)>,
}

pub fn deploy_example(store: &Store) -> anyhow::Result<Vec<Workflow>> {
    let no_files = |path: &str| Err(format!("the example project reads no files ({path})"));
    let parsed = parse_project(EXAMPLE_PROJECT, "example-project.yaml", &no_files)
        .map_err(|errors| anyhow!("{errors}"))?;
    store
        .writer
        .write_blocking(move |tx| apply(tx, &parsed.spec, None, Default::default()))?;
    load_workflows(store)
}

/// The example project's workflows as deployed in the store.
pub fn load_workflows(store: &Store) -> anyhow::Result<Vec<Workflow>> {
    let workflows = store.readers.read_blocking(|db| {
        let conn = super::sqlite_of(db, "the seeder")?;
        let mut stmt = conn.prepare(
            "SELECT w.key, w.id, w.project_id,
                    (SELECT v.id FROM workflow_versions v WHERE v.workflow_id = w.id ORDER BY v.version DESC LIMIT 1),
                    t.id, t.type
             FROM workflows w JOIN triggers t ON t.workflow_id = w.id ORDER BY w.key",
        )?;
        let rows: Vec<Workflow> = stmt
            .query_map([], |r| {
                Ok(Workflow {
                    key: r.get(0)?,
                    id: r.get(1)?,
                    project_id: r.get(2)?,
                    version_id: r.get(3)?,
                    trigger_id: r.get(4)?,
                    trigger_type: r.get(5)?,
                    jobs: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for mut w in rows {
            let mut jobs =
                conn.prepare("SELECT key, name FROM jobs WHERE workflow_id = ?1 ORDER BY position, key")?;
            w.jobs = jobs
                .query_map([&w.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            out.push(w);
        }
        Ok(out)
    })?;
    if workflows.len() != 2 {
        return Err(anyhow!(
            "expected the example project's 2 workflows, found {}",
            workflows.len()
        ));
    }
    Ok(workflows)
}

/// A small, fast, seeded generator (splitmix64): reproducible data without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ra", "tu", "ben", "zo", "fi", "nar", "el", "du", "sha", "pe", "gor", "vi",
    "om", "tal", "re", "bu", "xi", "an", "mo", "ku", "se", "di", "lan", "po", "ve", "jo", "ti",
];
const DIAGNOSES: &[&str] = &[
    "fever",
    "cough",
    "diarrhoea",
    "pneumonia",
    "anaemia",
    "hypertension",
    "diabetes",
    "tuberculosis",
    "measles",
    "injury",
    "malnutrition",
    "asthma",
];
const CLINICS: &[&str] = &[
    "Hill",
    "Riverside",
    "Market",
    "Lakeview",
    "Northgate",
    "Old Town",
];
const ITEMS: &[&str] = &[
    "malaria-rdt",
    "paracetamol",
    "ors-sachet",
    "amoxicillin",
    "zinc",
    "bednet",
    "vitamin-a",
    "iron-folate",
    "bp-check",
    "glucose-strip",
];
const FIRST_NAMES: &[&str] = &[
    "Amina", "Joseph", "Grace", "Peter", "Fatima", "John", "Mary", "Ali",
];
const LAST_NAMES: &[&str] = &[
    "Okafor", "Mensah", "Banda", "Otieno", "Diallo", "Phiri", "Kamau",
];

/// A made-up word from 2–3 syllables: ~27,000 of them, so most are rare.
fn word(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    (0..n).map(|_| *rng.pick(SYLLABLES)).collect()
}

fn words(rng: &mut Rng, count: u64) -> String {
    (0..count).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
}

/// A patient-like record of 1–4 KB with nested arrays.
fn patient_record(rng: &mut Rng, patient: &str, day: &str) -> Value {
    let target = 1024 + rng.below(3 * 1024) as usize;
    let items: Vec<Value> = (0..1 + rng.below(4))
        .map(|_| {
            json!({"code": rng.pick(ITEMS), "qty": 1 + rng.below(5), "lot": format!("L-{}", rng.below(10_000))})
        })
        .collect();
    let mut record = json!({
        "patient_id": patient,
        "name": format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
        "clinic": rng.pick(CLINICS),
        "visit_date": day,
        "vitals": {"temp_c": 36.0 + rng.below(40) as f64 / 10.0, "bp": format!("{}/{}", 100 + rng.below(50), 60 + rng.below(30)), "weight_kg": 20 + rng.below(70)},
        "items": items,
        "notes": words(rng, 8),
        "history": [],
    });
    let mut size = record.to_string().len();
    let mut history = Vec::new();
    while size < target {
        let diagnosis = if rng.chance(5) {
            COMMON_WORD
        } else {
            *rng.pick(DIAGNOSES)
        };
        let note_words = 6 + rng.below(10);
        let notes = words(rng, note_words);
        let entry = json!({
            "date": format!("2026-{:02}-{:02}", 1 + rng.below(12), 1 + rng.below(28)),
            "diagnosis": diagnosis,
            "treatment": [rng.pick(ITEMS), rng.pick(ITEMS)],
            "notes": notes,
        });
        size += entry.to_string().len() + 1;
        history.push(entry);
    }
    record["history"] = Value::Array(history);
    record
}

/// UUID v7 for a time in microseconds, so id order is time order.
pub fn id_at(micros: i64) -> String {
    let micros = micros.max(0) as u64;
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        micros / 1_000_000,
        ((micros % 1_000_000) * 1000) as u32,
    );
    uuid::Uuid::new_v7(ts).to_string()
}

/// How a seeded work order ended.
#[derive(Clone, Copy, PartialEq)]
enum Outcome {
    Success,
    Failed,
    Crashed,
    Killed,
    Lost,
}

impl Outcome {
    fn pick(rng: &mut Rng) -> Outcome {
        match rng.below(100) {
            0..85 => Outcome::Success,
            85..95 => Outcome::Failed,
            95..97 => Outcome::Crashed,
            97..99 => Outcome::Killed,
            _ => Outcome::Lost,
        }
    }
    fn state(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "failed",
            Outcome::Crashed => "crashed",
            Outcome::Killed => "killed",
            Outcome::Lost => "lost",
        }
    }
    fn exit_reason(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failed => "fail",
            Outcome::Crashed => "crash",
            Outcome::Killed => "kill",
            Outcome::Lost => "lost",
        }
    }
    fn error(self) -> Option<(&'static str, &'static str)> {
        match self {
            Outcome::Success => None,
            Outcome::Failed => Some(("Error", "visit has no items")),
            Outcome::Crashed => Some((
                "RuntimeCrash",
                "TypeError: cannot read properties of undefined (reading 'qty')",
            )),
            Outcome::Killed => Some((
                "TimeoutError",
                "the step ran longer than the run timeout (300s)",
            )),
            Outcome::Lost => Some((
                "LostAfterStart",
                "boltd stopped while this run was in progress (crash, kill or power loss)",
            )),
        }
    }
}

struct SeedClip {
    id: String,
    kind: &'static str,
    body: String,
    request: Option<String>,
    index: String,
}

struct SeedStep {
    id: String,
    job_key: String,
    job_name: String,
    input: String,
    output: Option<SeedClip>,
    exit_reason: &'static str,
    error: Option<(&'static str, &'static str)>,
    started: i64,
    finished: i64,
    logs: Vec<(&'static str, String)>,
}

/// One work order with its input, run, steps, outputs and log lines, ready to insert.
struct SeedWorkOrder {
    id: String,
    workflow: usize,
    received: i64,
    finished: i64,
    outcome: Outcome,
    input: SeedClip,
    run_id: String,
    steps: Vec<SeedStep>,
}

fn clip(rng: &mut Rng, micros: i64, kind: &'static str, patient: &str, day: &str) -> SeedClip {
    let value = patient_record(rng, patient, day);
    let request = (kind == "http_request").then(|| {
        json!({"method": "POST", "path": "/i/visits", "query_params": {}, "headers": {"content-type": "application/json"}})
            .to_string()
    });
    SeedClip {
        id: id_at(micros),
        kind,
        index: dataclips::index_text(&value),
        body: value.to_string(),
        request,
    }
}

fn generate(rng: &mut Rng, workflows: &[Workflow], received: i64, patients: u64) -> SeedWorkOrder {
    // Most traffic is webhook visits; the nightly workflow gets the rest.
    let workflow = if rng.chance(75) {
        workflows
            .iter()
            .position(|w| w.trigger_type == "webhook")
            .unwrap_or(0)
    } else {
        workflows
            .iter()
            .position(|w| w.trigger_type == "cron")
            .unwrap_or(1)
    };
    let wf = &workflows[workflow];
    let outcome = Outcome::pick(rng);
    let patient = format!("P-{:06}", rng.below(patients));
    let day = chrono::DateTime::from_timestamp_micros(received)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let kind = if wf.trigger_type == "webhook" {
        "http_request"
    } else {
        "global"
    };
    let input = clip(rng, received, kind, &patient, &day);
    let run_id = id_at(received + 1_000);
    // Which jobs ran: the success path, or stop at the first job on failure.
    let path: Vec<&(String, String)> = match (wf.jobs.len(), outcome) {
        (n, Outcome::Success) if n >= 2 => vec![&wf.jobs[0], &wf.jobs[n - 1]],
        (n, Outcome::Failed) if n >= 3 && rng.chance(50) => vec![&wf.jobs[0], &wf.jobs[1]],
        _ => wf.jobs.iter().take(1).collect(),
    };
    let mut steps = Vec::new();
    let mut at = received + 5_000;
    let mut previous = input.id.clone();
    for (i, (key, name)) in path.iter().enumerate() {
        let started = at;
        let finished = started + 20_000 + rng.below(400_000) as i64;
        let last = i + 1 == path.len();
        let step_outcome = if i == 0 && outcome == Outcome::Failed {
            Outcome::Failed
        } else if last {
            outcome
        } else {
            Outcome::Success
        };
        let output = (step_outcome == Outcome::Success || step_outcome == Outcome::Failed)
            .then(|| clip(rng, finished, "step_result", &patient, &day));
        let mut logs = vec![
            (
                "info",
                format!(
                    "{name}: processing visit for {patient} at {}",
                    rng.pick(CLINICS)
                ),
            ),
            (
                "info",
                format!(
                    "{} items checked, notes: {}",
                    1 + rng.below(5),
                    words(rng, 4)
                ),
            ),
        ];
        if let Some((kind, message)) = step_outcome.error() {
            logs.push(("error", format!("{kind}: {message} ({patient})")));
        } else if rng.chance(30) {
            logs.push((
                "warn",
                format!("slow lookup for {patient}: {}ms", rng.below(3000)),
            ));
        }
        steps.push(SeedStep {
            id: id_at(started),
            job_key: key.clone(),
            job_name: name.clone(),
            input: previous.clone(),
            exit_reason: step_outcome.exit_reason(),
            error: step_outcome.error(),
            started,
            finished,
            logs,
            output,
        });
        if let Some(out) = &steps[steps.len() - 1].output {
            previous = out.id.clone();
        }
        at = finished + 1_000;
    }
    SeedWorkOrder {
        id: id_at(received),
        workflow,
        received,
        finished: at,
        outcome,
        input,
        run_id,
        steps,
    }
}

fn insert_clip(
    tx: &Transaction,
    project: &str,
    wo: &str,
    source: &str,
    clip: &SeedClip,
    at: i64,
) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO dataclips (id, project_id, type, body, request, size_bytes, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![clip.id, project, clip.kind, clip.body, clip.request, clip.body.len() as i64, at])?;
    dataclips::index(tx, wo, source, &clip.id, &clip.index)
}

/// Inserts a batch of work orders with the daemon's schema and search indexing.
fn insert_batch(
    tx: &Transaction,
    workflows: &[Workflow],
    batch: &[SeedWorkOrder],
    mut log_id: i64,
) -> StoreResult<i64> {
    for wo in batch {
        let wf = &workflows[wo.workflow];
        insert_clip(tx, &wf.project_id, &wo.id, "input", &wo.input, wo.received)?;
        let failing = wo.steps.iter().find(|s| s.error.is_some());
        tx.prepare_cached(
            "INSERT INTO work_orders (id, workflow_id, version_id, trigger_id, origin, dataclip_id, state, received_at,
                last_activity, duration_ms, run_count, error_job, error_type, error_message)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, ?11, ?12, ?13)",
        )?
        .execute(params![
            wo.id, wf.id, wf.version_id, wf.trigger_id, wf.trigger_type, wo.input.id, wo.outcome.state(),
            wo.received, wo.finished, (wo.finished - wo.received) / 1000,
            failing.map(|s| &s.job_name), failing.and_then(|s| s.error).map(|e| e.0), failing.and_then(|s| s.error).map(|e| e.1)
        ])?;
        counts::record_new(tx, &wf.id, wo.received, wo.outcome.state())?;
        refs::index_new(tx, "work_orders", &wo.id)?;
        refs::index_new(tx, "runs", &wo.run_id)?;
        // Outputs first: the run points at its final dataclip.
        for step in &wo.steps {
            if let Some(output) = &step.output {
                insert_clip(tx, &wf.project_id, &wo.id, "output", output, step.finished)?;
            }
        }
        let run_error = wo.outcome.error();
        tx.prepare_cached(
            "INSERT INTO runs (id, work_order_id, version_id, dataclip_id, origin, state, error_type, error_message,
                final_dataclip_id, created_at, claimed_at, started_at, finished_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12)",
        )?
        .execute(params![
            wo.run_id, wo.id, wf.version_id, wo.input.id, wf.trigger_type, wo.outcome.state(),
            run_error.map(|e| e.0), run_error.map(|e| e.1),
            wo.steps.last().and_then(|s| s.output.as_ref()).map(|c| &c.id),
            wo.received, wo.received + 2_000, wo.finished
        ])?;
        for step in &wo.steps {
            tx.prepare_cached(
                "INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, output_dataclip_id, exit_reason,
                    error_type, error_message, started_at, finished_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                step.id, wo.run_id, step.job_key, step.job_name, step.input, step.output.as_ref().map(|c| &c.id),
                step.exit_reason, step.error.map(|e| e.0), step.error.map(|e| e.1), step.started, step.finished
            ])?;
            tx.prepare_cached(
                "INSERT INTO run_steps (run_id, step_id, attached) VALUES (?1, ?2, 0)",
            )?
            .execute(params![wo.run_id, step.id])?;
            refs::index_new(tx, "steps", &step.id)?;
            for (i, (level, message)) in step.logs.iter().enumerate() {
                log_id += 1;
                tx.prepare_cached(
                    "INSERT INTO log_lines (id, run_id, step_id, source, level, message, timestamp) VALUES (?1, ?2, ?3, 'JOB', ?4, ?5, ?6)",
                )?
                .execute(params![log_id, wo.run_id, step.id, level, message, step.started + i as i64 * 1_000])?;
                dataclips::index(tx, &wo.id, "log", &log_id.to_string(), message)?;
            }
        }
    }
    Ok(log_id)
}

/// FTS5 stores this setting in the index itself: seeding sets it and puts it back.
fn set_fts_hashsize(tx: &Transaction, bytes: i64) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO search_fts (search_fts, rank) VALUES ('hashsize', ?1)",
        [bytes],
    )?;
    Ok(())
}

/// What seeding leaves for the measurements: a sample of ids and patients to look up.
pub struct Seeded {
    pub sample_ids: Vec<String>,
    pub sample_patients: Vec<String>,
}

pub fn seed(store: &Store, workflows: &[Workflow], total: u64) -> anyhow::Result<Seeded> {
    let now = chrono::Utc::now().timestamp_micros();
    let span = HISTORY_DAYS * 86_400_000_000;
    let start = now - span;
    // About four visits per patient: a patient id is rare but exists.
    let patients = (total / 4).clamp(1, 999_999);
    let step = span / total.max(1) as i64;
    // Generate on one thread while the writer inserts the previous batch on the other.
    let (sender, batches) = std::sync::mpsc::sync_channel::<Vec<SeedWorkOrder>>(1);
    let generator_workflows = workflows.to_vec();
    let generator = std::thread::spawn(move || {
        let mut rng = Rng(0x5EED);
        let mut i = 0u64;
        let mut busy = Duration::ZERO;
        while i < total {
            let began = Instant::now();
            let n = SEED_BATCH.min(total - i);
            let batch: Vec<SeedWorkOrder> = (i..i + n)
                .map(|k| {
                    let received = start + k as i64 * step + rng.below(step.max(1) as u64) as i64;
                    generate(&mut rng, &generator_workflows, received, patients)
                })
                .collect();
            i += n;
            busy += began.elapsed();
            if sender.send(batch).is_err() {
                break;
            }
        }
        busy
    });
    // A connection of its own, one plain transaction per batch. Not the daemon's writer:
    // it runs each job in a savepoint, and with the statement journal in memory every
    // statement's release walks the savepoint's whole journal, so a 20,000 work order job
    // slows down quadratically. A bigger page cache than the daemon's 32 MB, for seeding.
    let mut conn = crate::store::open_connection(&store.path)?;
    conn.execute_batch("PRAGMA cache_size = -1000000")?;
    {
        let tx = conn.transaction()?;
        set_fts_hashsize(&tx, SEED_FTS_HASHSIZE)?;
        tx.commit()?;
    }
    let started = Instant::now();
    let mut log_id: i64 = 0;
    let mut done = 0u64;
    let mut sample_ids = Vec::new();
    let mut sample_patients = Vec::new();
    let mut bytes = 0u64;
    for batch in batches {
        for wo in batch.iter().step_by(97) {
            sample_ids.push(wo.id.clone());
            if let Some(p) = wo.input.body.get(15..23) {
                sample_patients.push(p.to_string());
            }
        }
        bytes += batch
            .iter()
            .map(|w| {
                w.input.body.len()
                    + w.steps
                        .iter()
                        .filter_map(|s| s.output.as_ref())
                        .map(|c| c.body.len())
                        .sum::<usize>()
            })
            .sum::<usize>() as u64;
        done += batch.len() as u64;
        let tx = conn.transaction()?;
        log_id = insert_batch(&tx, workflows, &batch, log_id)?;
        tx.commit()?;
        if done.is_multiple_of(SEED_BATCH * 5) || done == total {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "  seeded {done:>9} work orders in {secs:7.1}s ({:.0}/s, {:.1} MB/s of dataclip JSON)",
                done as f64 / secs,
                bytes as f64 / secs / 1e6
            );
        }
    }
    let generating = generator
        .join()
        .map_err(|_| anyhow!("the seed generator panicked"))?;
    {
        let tx = conn.transaction()?;
        set_fts_hashsize(&tx, DEFAULT_FTS_HASHSIZE)?;
        tx.commit()?;
    }
    drop(conn);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seed: {total} work orders, {log_id} log lines, {:.0} MB dataclip JSON in {secs:.1}s = {:.0} work orders/s",
        bytes as f64 / 1e6,
        total as f64 / secs
    );
    println!(
        "  (generating the JSON took {:.1}s on its own thread; the rest is SQLite + FTS indexing)",
        generating.as_secs_f64()
    );
    // The record's patient id sits at a fixed place: {"patient_id":"P-000123",…
    sample_patients.retain(|p| p.starts_with("P-"));
    Ok(Seeded {
        sample_ids,
        sample_patients,
    })
}

/// Samples ids and patients from a store seeded earlier (`bolt-bench seed`), and counts its
/// work orders.
pub fn sample(store: &Store) -> StoreResult<(u64, Seeded)> {
    store.readers.read_blocking(|db| {
        let conn = super::sqlite_of(db, "the seeder")?;
        let total: i64 = conn.query_row("SELECT COUNT(*) FROM work_orders", [], |r| r.get(0))?;
        let mut ids = conn.prepare("SELECT id FROM work_orders WHERE rowid % 97 = 0")?;
        let sample_ids: Vec<String> = ids
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        // The record's patient id sits at a fixed place: {"patient_id":"P-000123",…
        let mut patients = conn.prepare(
            "SELECT substr(body, 16, 8) FROM dataclips WHERE rowid % 97 = 0 AND type <> 'step_result'",
        )?;
        let mut sample_patients: Vec<String> = patients
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        sample_patients.retain(|p| p.starts_with("P-"));
        Ok((
            total as u64,
            Seeded {
                sample_ids,
                sample_patients,
            },
        ))
    })
}
