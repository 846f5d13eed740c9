//! Roles on the socket through the real binaries: `[access]` opens the socket to a Unix
//! group, and boltd checks each request against the caller's role (viewer, editor,
//! admin); refusals name the role needed and the caller's. Users are created for the test.

#![allow(clippy::unwrap_used)] // test helpers: a failed step should stop the test at once

use bolt_e2e::{Daemon, UnixUser, ok, unix_user};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::Output;

const PROJECT: &str = r#"
name: roles
workflows:
  pipeline:
    name: Pipeline
    jobs:
      fetch:
        name: Fetch
        body: |
          fn(state => ({ ...state, ok: true }))
    triggers:
      hook: {type: webhook, custom_path: roles}
    edges:
      hook->fetch: {source_trigger: hook, target_job: fetch, condition_type: always}
"#;

const GROUP: &str = "bolt-e2e-roles";
/// The viewer's second group, listed as `group:` in viewers.
const ONCALL: &str = "bolt-e2e-oncall";

/// The refusal bolt printed (and that it failed).
fn refused(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "bolt succeeded: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn users() -> Option<[UnixUser; 4]> {
    Some([
        unix_user("bolt-e2e-viewer", &[GROUP, ONCALL])?,
        unix_user("bolt-e2e-editor", &[GROUP])?,
        unix_user("bolt-e2e-admin", &[GROUP])?,
        unix_user("bolt-e2e-nobody", &[GROUP])?,
    ])
}

fn config(viewers: &str, editors: &str) -> String {
    format!(
        "[access]\ngroup = \"{GROUP}\"\nviewers = [{viewers}]\neditors = [{editors}]\nadmins = [\"bolt-e2e-admin\"]\n"
    )
}

#[test]
fn viewers_read_editors_change_admins_manage_and_refusals_name_both_roles() {
    let Some([viewer, editor, admin, nobody]) = users() else {
        return;
    };
    let mut daemon = Daemon::start_with_config(&config(
        &format!("\"group:{ONCALL}\""),
        "\"bolt-e2e-editor\"",
    ));
    // The socket is the group's (0660) in a directory of its own (0750).
    let socket = std::fs::metadata(&daemon.socket).unwrap();
    let dir = std::fs::metadata(daemon.socket.parent().unwrap()).unwrap();
    let gid = nix_gid(GROUP);
    assert_eq!(
        (socket.permissions().mode() & 0o777, socket.gid()),
        (0o660, gid)
    );
    assert_eq!((dir.permissions().mode() & 0o777, dir.gid()), (0o750, gid));

    daemon.deploy_text(PROJECT);
    let reply = daemon.post("/i/roles", "{}");
    let work_order = reply.json()["work_order_id"].as_str().unwrap().to_string();
    daemon.wait_work_order(&work_order);

    // A viewer (here through `group:`) reads…
    ok(&daemon.bolt_as(&viewer, &["runs"]));
    ok(&daemon.bolt_as(&viewer, &["show", &work_order]));
    ok(&daemon.bolt_as(&viewer, &["audit"]));
    ok(&daemon.bolt_as(&viewer, &["versions", "Pipeline"]));
    // …and may not rerun.
    let said = refused(&daemon.bolt_as(&viewer, &["rerun", &work_order]));
    assert!(
        said.contains("rerun needs the editor role; bolt-e2e-viewer is a viewer"),
        "{said}"
    );
    let status = ok(&daemon.bolt_as(&viewer, &["status"]));
    assert!(
        status.contains("you        bolt-e2e-viewer (viewer;"),
        "{status}"
    );
    let shown = ok(&daemon.bolt_as(&viewer, &["access"]));
    assert!(
        shown.contains("you are bolt-e2e-viewer (viewer)"),
        "{shown}"
    );

    // An editor reruns and edits, and may not manage credentials.
    ok(&daemon.bolt_as(&editor, &["rerun", &work_order]));
    ok(&daemon.bolt_as(&editor, &["trigger", "Pipeline"]));
    let said =
        refused(&daemon.bolt_as(&editor, &["credential", "set", "api", "--field", "user=u"]));
    assert!(
        said.contains("credential_update needs the admin role; bolt-e2e-editor is an editor"),
        "{said}"
    );

    // An admin does.
    ok(&daemon.bolt_as(&admin, &["credential", "set", "api", "--field", "user=u"]));
    ok(&daemon.bolt_as(&admin, &["credential", "show", "api"]));

    // In the group but in no list: no role at all.
    let said = refused(&daemon.bolt_as(&nobody, &["runs"]));
    assert!(
        said.contains("list_work_orders needs the viewer role; bolt-e2e-nobody has no role"),
        "{said}"
    );

    // Reloading [access] (admins only) gives the viewer the editor role.
    std::fs::write(
        daemon.config_path(),
        config("", "\"bolt-e2e-editor\", \"bolt-e2e-viewer\""),
    )
    .unwrap();
    let said = refused(&daemon.bolt_as(&editor, &["access", "reload"]));
    assert!(
        said.contains("access_reload needs the admin role"),
        "{said}"
    );
    ok(&daemon.bolt_as(&admin, &["access", "reload"]));
    ok(&daemon.bolt_as(&viewer, &["rerun", &work_order]));

    // Who did what is on record.
    let audit = ok(&daemon.bolt(&["audit", "--kind", "work_order.rerun", "--json"]));
    let actors: Vec<String> = serde_json::from_str::<serde_json::Value>(&audit)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actors, ["bolt-e2e-viewer", "bolt-e2e-editor"]);
    daemon.stop();
}

#[test]
fn without_access_only_boltd_s_user_reaches_the_socket() {
    let Some([viewer, ..]) = users() else {
        return;
    };
    let daemon = Daemon::start();
    let mode = std::fs::metadata(&daemon.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let said = refused(&daemon.bolt_as(&viewer, &["status"]));
    assert!(said.to_lowercase().contains("permission denied"), "{said}");
    // boltd's own user is admin, as always.
    let shown = ok(&daemon.bolt(&["access"]));
    assert!(shown.contains("you are root (admin)"), "{shown}");
    assert!(shown.contains("no [access]"), "{shown}");
}

fn nix_gid(group: &str) -> u32 {
    let out = std::process::Command::new("getent")
        .args(["group", group])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split(':')
        .nth(2)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}
