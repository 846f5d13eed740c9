//! History, search and reprocessing against a real daemon.

use bolt_e2e::Daemon;
use bolt_shared::model::*;
use std::time::{Duration, Instant};

/// Three steps: `load` → `transform` (fails when told to) → `save`; plus a slow workflow.
const PROJECT: &str = r#"
name: history
workflows:
  records:
    name: Records
    jobs:
      load:
        name: Load
        body: |
          fn(state => { console.log('loading record ' + state.data.id); return { ...state, data: { ...state.data, loaded: true } }; });
      transform:
        name: Transform
        body: |
          fn(state => {
            if (state.data.poison && !state.data.fixed) throw new Error('poisoned record ' + state.data.id);
            return { ...state, data: { ...state.data, shape: 'out-' + state.data.id + '-shaped' } };
          });
      save:
        name: Save
        body: |
          fn(state => ({ ...state, data: { ...state.data, saved: true } }));
    triggers:
      webhook: {type: webhook, custom_path: records}
    edges:
      webhook->load: {source_trigger: webhook, target_job: load, condition_type: always}
      load->transform: {source_job: load, target_job: transform, condition_type: on_job_success}
      transform->save: {source_job: transform, target_job: save, condition_type: on_job_success}
  slow:
    name: Slow
    concurrency: 1
    jobs:
      spin:
        name: Spin
        body: |
          fn(state => { const end = Date.now() + (state.data.ms || 3000); while (Date.now() < end) {} return state; });
    triggers:
      webhook: {type: webhook, custom_path: slow}
    edges:
      webhook->spin: {source_trigger: webhook, target_job: spin, condition_type: always}
"#;

fn seeded() -> (Daemon, Vec<String>) {
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    let mut ids = Vec::new();
    for i in 0..6 {
        let body = if i % 3 == 2 {
            format!(r#"{{"id": "R{i}", "poison": true}}"#)
        } else {
            format!(r#"{{"id": "R{i}"}}"#)
        };
        ids.push(daemon.post_work_order("/i/records", &body));
    }
    for id in &ids {
        daemon.wait_work_order(id);
    }
    (daemon, ids)
}

fn filter(states: &[WorkOrderState]) -> WorkOrderFilter {
    WorkOrderFilter {
        states: states.to_vec(),
        ..WorkOrderFilter::default()
    }
}

#[test]
fn filters_and_their_combinations() {
    let (daemon, ids) = seeded();
    let failed = daemon.list(filter(&[WorkOrderState::Failed]), 50, None);
    assert_eq!(failed.rows.len(), 2);
    assert!(
        failed
            .rows
            .iter()
            .all(|r| r.state == WorkOrderState::Failed)
    );
    let error = failed.rows[0].first_error.as_ref().unwrap();
    assert_eq!(error.job, "Transform");
    assert_eq!(error.error_type.as_deref(), Some("JobError"));
    // Newest first.
    assert_eq!(failed.rows[0].id, ids[5]);
    let both = daemon.list(
        filter(&[WorkOrderState::Failed, WorkOrderState::Success]),
        50,
        None,
    );
    assert_eq!(both.rows.len(), 6);
    let by_workflow = daemon.list(
        WorkOrderFilter {
            workflow: Some("slow".into()),
            ..WorkOrderFilter::default()
        },
        50,
        None,
    );
    assert!(by_workflow.rows.is_empty());
    let future = daemon.list(
        WorkOrderFilter {
            since: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            ..WorkOrderFilter::default()
        },
        50,
        None,
    );
    assert!(future.rows.is_empty());
    let past = daemon.list(
        WorkOrderFilter {
            states: vec![WorkOrderState::Success],
            workflow: Some("Records".into()),
            since: Some(chrono::Utc::now() - chrono::Duration::hours(1)),
            by: Some(TimeField::Activity),
            ..WorkOrderFilter::default()
        },
        50,
        None,
    );
    assert_eq!(past.rows.len(), 4);
    let counts: u64 = failed.counts.iter().map(|c| c.count).sum();
    assert_eq!(counts, 6, "header counts cover every state of the filter");
    // The CLI speaks the same filters.
    let json = daemon.bolt_json(&[
        "runs",
        "--status",
        "failed",
        "--workflow",
        "records",
        "--since",
        "1h",
    ]);
    assert_eq!(json["rows"].as_array().unwrap().len(), 2);
}

#[test]
fn search_finds_values_only_in_outputs_inputs_or_logs() {
    let (daemon, ids) = seeded();
    let search = |text: &str| {
        daemon
            .list(
                WorkOrderFilter {
                    search: Some(text.into()),
                    ..WorkOrderFilter::default()
                },
                50,
                None,
            )
            .rows
    };
    // Only in an output: the transformed shape.
    let hits = search("out-R1-shaped");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, ids[1]);
    assert_eq!(hits[0].hit.as_ref().unwrap().source, MatchSource::Output);
    assert!(hits[0].hit.as_ref().unwrap().snippet.contains('['));
    // Only in an input: the poison flag's record id nested in the request body.
    let hits = search("R4");
    assert!(hits.iter().any(|h| h.id == ids[4]));
    // Only in a log line.
    let hits = search("loading record R3");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].hit.as_ref().unwrap().source, MatchSource::Log);
    // By short ref.
    let short = short_ref(&ids[2]);
    let hits = search(&short);
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, ids[2]);
}

#[test]
fn pagination_is_stable_while_new_work_orders_arrive() {
    let (daemon, ids) = seeded();
    let first = daemon.list(WorkOrderFilter::default(), 2, None);
    assert_eq!(
        first.rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        [ids[5].clone(), ids[4].clone()]
    );
    for i in 0..3 {
        daemon.post_work_order("/i/records", &format!(r#"{{"id": "new{i}"}}"#));
    }
    let mut seen: Vec<String> = first.rows.iter().map(|r| r.id.clone()).collect();
    let mut cursor = first.next_cursor;
    while let Some(after) = cursor {
        let page = daemon.list(WorkOrderFilter::default(), 2, Some(after));
        seen.extend(page.rows.iter().map(|r| r.id.clone()));
        cursor = page.next_cursor;
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(
        seen, expected,
        "no row skipped or repeated while new ones arrived"
    );
}

#[test]
fn rerun_from_start_and_from_a_middle_step() {
    let (daemon, ids) = seeded();
    let poisoned = &ids[2];
    let before = daemon.show(poisoned);
    let transform_input = before.runs[0].steps[1]
        .input
        .as_ref()
        .unwrap()
        .body
        .clone()
        .unwrap();

    // From a middle step: the new run starts at Transform with exactly its stored input.
    let out = daemon.bolt(&["rerun", poisoned, "--from", "transform"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view = daemon.wait_work_order(poisoned);
    assert_eq!(view.runs.len(), 2);
    let rerun = &view.runs[0];
    assert_eq!(rerun.origin, Origin::Rerun);
    let load = &rerun.steps[0];
    assert!(load.attached, "upstream step is attached, not re-executed");
    assert_eq!(load.id, before.runs[0].steps[0].id);
    let transform = rerun
        .steps
        .iter()
        .find(|s| s.job_id == "transform" && !s.attached)
        .unwrap();
    assert_eq!(
        transform.input.as_ref().unwrap().body.as_ref().unwrap(),
        &transform_input
    );
    assert_eq!(
        transform.exit_reason,
        Some(ExitReason::Fail),
        "still poisoned"
    );

    // Fix the job (a new version), then rerun from the start: it uses the latest version.
    let fixed = PROJECT.replace("if (state.data.poison && !state.data.fixed)", "if (false)");
    daemon.deploy_text(&fixed);
    let out = daemon.bolt(&["rerun", poisoned]);
    assert!(out.status.success());
    let view = daemon.wait_work_order(poisoned);
    assert_eq!(view.runs.len(), 3);
    assert_eq!(view.row.state, WorkOrderState::Success);
    assert_eq!(view.runs[0].version, 2);
    assert_eq!(view.runs[0].steps.len(), 3);
    assert!(view.runs[0].steps.iter().all(|s| !s.attached));
}

#[test]
fn bulk_rerun_goes_in_received_order_and_reports_a_summary() {
    let (daemon, ids) = seeded();
    let refused = daemon.bolt(&["rerun", "--all-matching", "--status", "failed"]);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("2 work orders match; add --yes"));
    let out = daemon.bolt_json(&[
        "rerun",
        "--all-matching",
        "--status",
        "failed",
        "--from",
        "transform",
        "--yes",
    ]);
    let outcomes = out.as_array().unwrap();
    let order: Vec<&str> = outcomes
        .iter()
        .map(|o| o["work_order_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [ids[2].as_str(), ids[5].as_str()], "oldest first");
    let runs: Vec<&str> = outcomes
        .iter()
        .map(|o| o["run_id"].as_str().unwrap())
        .collect();
    assert!(runs[0] < runs[1], "queued in received order");
}

fn wait_state(daemon: &Daemon, id: &str, state: WorkOrderState) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while daemon.show(id).row.state != state {
        assert!(Instant::now() < deadline, "{id} never reached {state}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn cancel_queued_and_running_runs() {
    let daemon = Daemon::start();
    daemon.deploy_text(PROJECT);
    // Concurrency 1: the second waits in the queue while the first spins.
    let running = daemon.post_work_order("/i/slow", r#"{"ms": 20000}"#);
    let queued = daemon.post_work_order("/i/slow", r#"{"ms": 10}"#);
    wait_state(&daemon, &running, WorkOrderState::Running);
    assert_eq!(daemon.show(&queued).row.state, WorkOrderState::Pending);
    let out = daemon.bolt(&["cancel", &queued]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(daemon.show(&queued).row.state, WorkOrderState::Cancelled);
    let started = Instant::now();
    let out = daemon.bolt(&["cancel", &running]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let view = daemon.wait_work_order(&running);
    assert_eq!(view.row.state, WorkOrderState::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the engine was interrupted, not waited for"
    );
    let again = daemon.bolt(&["cancel", &running]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already ended"));
}

#[test]
fn saved_inputs_run_again_and_survive_retention() {
    let (daemon, ids) = seeded();
    let out = daemon.bolt(&[
        "input",
        "save",
        &ids[0],
        "--step",
        "transform",
        "--name",
        "good-record",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = daemon.bolt_json(&[
        "trigger",
        "records",
        "--input-name",
        "good-record",
        "--wait",
    ]);
    assert_eq!(out["final_state"], "success");
    // Wipe everything older than now: the saved input stays.
    let out = daemon.bolt(&["project", "set", "--dataclip-retention-days", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn retention_deletes_and_wipes_what_it_should_and_wiped_inputs_refuse_rerun() {
    let config = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config.path(), "[retention]\ninterval_secs = 1\n").unwrap();
    let daemon = Daemon::start_with(&[
        ("BOLT_CONFIG", config.path().to_str().unwrap()),
        ("BOLT_RETENTION_DAY_SECS", "3"),
    ]);
    daemon.deploy_text(PROJECT);
    let old = daemon.post_work_order("/i/records", r#"{"id": "old"}"#);
    daemon.wait_work_order(&old);
    let out = daemon.bolt(&["input", "save", &old, "--step", "load", "--name", "keep-me"]);
    assert!(out.status.success());
    // With a day shortened to three seconds for the test, a "day" passes quickly.
    std::thread::sleep(Duration::from_millis(3200));
    let fresh = daemon.post_work_order("/i/records", r#"{"id": "fresh"}"#);
    daemon.wait_work_order(&fresh);
    let out = daemon.bolt(&["project", "set", "--dataclip-retention-days", "1"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let view = daemon.show(&old);
        if view.input.as_ref().and_then(|i| i.wipe_reason) == Some(WipeReason::Retention) {
            break;
        }
        assert!(Instant::now() < deadline, "old input was never wiped");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        daemon.show(&fresh).input.unwrap().body.is_some(),
        "fresh data is kept"
    );
    let refused = daemon.bolt(&["rerun", &old]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr)
            .contains("wiped by the project's data retention policy")
    );
    // The named input survived.
    let out = daemon.bolt_json(&["trigger", "records", "--input-name", "keep-me", "--wait"]);
    assert_eq!(out["final_state"], "success");
    // History retention deletes the old work order entirely, keeping the fresh one.
    let out = daemon.bolt(&["project", "set", "--history-retention-days", "1"]);
    assert!(out.status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = daemon.list(WorkOrderFilter::default(), 50, None).rows;
        if !rows.iter().any(|r| r.id == old) {
            assert!(rows.iter().any(|r| r.id == fresh));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "old work order was never deleted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn failures_group_by_workflow_job_and_error() {
    let (daemon, _) = seeded();
    let groups = daemon.bolt_json(&["failures", "--since", "1h"]);
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["workflow"], "Records");
    assert_eq!(groups[0]["job"], "Transform");
    assert_eq!(groups[0]["error_type"], "JobError");
    assert_eq!(groups[0]["count"], 2);
}

#[test]
fn zero_persistence_keeps_logs_but_no_bodies() {
    let daemon = Daemon::start();
    daemon.deploy_text(&PROJECT.replace(
        "name: history\n",
        "name: history\nretention_policy: erase_all\n",
    ));
    let id = daemon.post_work_order("/i/records", r#"{"id": "private-P99"}"#);
    let view = daemon.wait_work_order(&id);
    assert_eq!(view.row.state, WorkOrderState::Success);
    assert_eq!(
        view.input.as_ref().unwrap().wipe_reason,
        Some(WipeReason::ZeroPersistence)
    );
    for step in &view.runs[0].steps {
        assert!(step.output.as_ref().unwrap().body.is_none());
    }
    let logs = daemon.bolt(&["logs", &id]);
    assert!(
        String::from_utf8_lossy(&logs.stdout).contains("loading record private-P99"),
        "logs are kept"
    );
    let refused = daemon.bolt(&["rerun", &id]);
    assert!(String::from_utf8_lossy(&refused.stderr).contains("erased as soon as it was read"));
}
