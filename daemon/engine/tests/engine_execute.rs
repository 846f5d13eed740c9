//! The daemon's entry point: `engine::execute` on a multi-threaded tokio runtime, with step
//! events and live log lines on the channel.

#![allow(clippy::unwrap_used)]

use bolt_engine::{
    CancelToken, EdgeCondition, EngineEvent, Limits, Plan, PlanEdge, PlanStep, execute,
};
use bolt_shared::model::ExitReason;
use serde_json::json;

fn step(id: &str, expression: &str, next: &[(&str, EdgeCondition)]) -> PlanStep {
    PlanStep {
        id: id.into(),
        expression: Some(expression.into()),
        adaptor: Some("@openfn/language-common@3.3.4".into()),
        next: next
            .iter()
            .map(|(target, condition)| PlanEdge {
                target: (*target).into(),
                condition: condition.clone(),
                disabled: false,
                label: None,
            })
            .collect(),
        ..Default::default()
    }
}

async fn run(plan: Plan, input: serde_json::Value) -> (bolt_engine::RunOutcome, Vec<EngineEvent>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let outcome = execute(
        plan,
        input,
        Limits::default(),
        Default::default(),
        tx,
        CancelToken::new(),
    )
    .await;
    let mut events = Vec::new();
    while let Ok(event) = rx.try_recv() {
        events.push(event);
    }
    (outcome, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diamond_runs_breadth_first_with_repeated_step_ids() {
    let plan = Plan {
        steps: vec![
            step(
                "a",
                "fn(s => { console.log('in a'); return { ...s, a: true }; })",
                &[
                    ("b", EdgeCondition::Always),
                    ("c", EdgeCondition::OnJobSuccess),
                ],
            ),
            step(
                "b",
                "fn(s => ({ ...s, b: true }))",
                &[("d", EdgeCondition::Always)],
            ),
            step(
                "c",
                "fn(s => ({ ...s, c: true }))",
                &[("d", EdgeCondition::Expression("state.c === true".into()))],
            ),
            step("d", "fn(s => ({ ...s, d: true }))", &[]),
        ],
        start: None,
        globals: None,
    };
    let (outcome, events) = run(plan, json!({"data": {}, "configuration": {"secret": 1}})).await;
    assert_eq!(outcome.exit_reason, ExitReason::Success);
    assert_eq!(
        outcome.final_state.unwrap(),
        json!({
            "d": {"data": {}, "a": true, "b": true, "d": true},
            "d-1": {"data": {}, "a": true, "c": true, "d": true}
        })
    );
    let started: Vec<(String, String)> = events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::StepStarted {
                step_id, job_id, ..
            } => Some((step_id.clone(), job_id.clone())),
            _ => None,
        })
        .collect();
    let expected: Vec<(String, String)> =
        [("a", "a"), ("b", "b"), ("c", "c"), ("d", "d"), ("d-1", "d")]
            .iter()
            .map(|(s, j)| (s.to_string(), j.to_string()))
            .collect();
    assert_eq!(started, expected);
    assert!(events.iter().any(|e| matches!(e, EngineEvent::Log { source, message, step_id: Some(id), .. } if source == "JOB" && message == "in a" && id == "a")));
    // The input shown for a step never carries credentials.
    assert!(events.iter().all(|e| !matches!(e, EngineEvent::StepStarted { input, .. } if input.get("configuration").is_some())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_handled_downstream_does_not_fail_the_run() {
    let plan = Plan {
        steps: vec![
            step(
                "risky",
                "fn(s => { throw new Error('nope'); })",
                &[
                    ("recover", EdgeCondition::OnJobFailure),
                    ("happy", EdgeCondition::OnJobSuccess),
                ],
            ),
            step("recover", "fn(s => ({ ...s, recovered: true }))", &[]),
            step("happy", "fn(s => s)", &[]),
        ],
        start: None,
        globals: None,
    };
    let (outcome, events) = run(plan, json!({"data": {}})).await;
    assert_eq!(outcome.exit_reason, ExitReason::Success);
    let state = outcome.final_state.unwrap();
    assert_eq!(state["recovered"], json!(true));
    assert_eq!(state["errors"]["risky"]["name"], json!("JobError"));
    let risky = events.iter().find_map(|e| match e {
        EngineEvent::StepFinished {
            step_id,
            exit_reason,
            error_type,
            error_message,
            ..
        } if step_id == "risky" => Some((*exit_reason, error_type.clone(), error_message.clone())),
        _ => None,
    });
    assert_eq!(
        risky,
        Some((
            ExitReason::Fail,
            Some("JobError".into()),
            Some("nope".into())
        ))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_leaf_fails_the_run_and_a_crash_stops_it() {
    let plan = Plan {
        steps: vec![step("only", "fn(s => s.data.x.y)", &[])],
        start: None,
        globals: None,
    };
    let (outcome, _) = run(plan, json!({"data": {}})).await;
    assert_eq!(outcome.exit_reason, ExitReason::Fail);
    assert_eq!(outcome.error_type.as_deref(), Some("TypeError"));

    let plan = Plan {
        steps: vec![
            step("a", "fn(s => missing)", &[("b", EdgeCondition::Always)]),
            step("b", "fn(s => s)", &[]),
        ],
        start: None,
        globals: None,
    };
    let (outcome, events) = run(plan, json!({"data": {}})).await;
    assert_eq!(outcome.exit_reason, ExitReason::Crash);
    assert_eq!(outcome.error_type.as_deref(), Some("RuntimeCrash"));
    let a_finished = events.iter().find_map(|e| match e {
        EngineEvent::StepFinished {
            step_id,
            exit_reason,
            error_type,
            ..
        } if step_id == "a" => Some((*exit_reason, error_type.clone())),
        _ => None,
    });
    assert_eq!(
        a_finished,
        Some((ExitReason::Crash, Some("ReferenceError".into())))
    );
    assert_eq!(outcome.final_state, None);
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, EngineEvent::StepStarted { step_id, .. } if step_id == "b"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_token_stops_the_run() {
    let plan = Plan {
        steps: vec![step("spin", "fn(s => { while (true) {} })", &[])],
        start: None,
        globals: None,
    };
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let cancel = CancelToken::new();
    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        trigger.cancel();
    });
    let outcome = execute(
        plan,
        json!({}),
        Limits::default(),
        Default::default(),
        tx,
        cancel,
    )
    .await;
    assert_eq!(outcome.exit_reason, ExitReason::Cancel);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_rules_drop_response_and_configuration_from_outputs() {
    let plan = Plan {
        steps: vec![step(
            "a",
            "fn(s => ({ ...s, response: { statusCode: 200 }, kept: true }))",
            &[],
        )],
        start: None,
        globals: None,
    };
    let (outcome, _) = run(
        plan,
        json!({"data": {}, "configuration": {"password": "p"}}),
    )
    .await;
    assert_eq!(
        outcome.final_state.unwrap(),
        json!({"data": {}, "kept": true})
    );
}
