//! Fabricated but realistic data (clinic intake workflows) for render tests, the byte
//! measurement and demos without a daemon. Nothing here talks to boltd.

use bolt_shared::model::*;
use chrono::{DateTime, Duration, Utc};

const WORKFLOWS: [(&str, &str); 4] = [
    ("wf-visit", "Visit Intake"),
    ("wf-lab", "Lab Results"),
    ("wf-sync", "Nightly Sync"),
    ("wf-reg", "Patient Registration"),
];

fn uuid(n: u64) -> String {
    format!("0190a3b4-5c6d-7e8f-9a0b-{n:012x}")
}

fn state_for(i: usize) -> WorkOrderState {
    match i {
        2 => WorkOrderState::Running,
        4 => WorkOrderState::Pending,
        _ if i.is_multiple_of(7) => WorkOrderState::Failed,
        _ if i % 11 == 3 => WorkOrderState::Crashed,
        _ if i % 13 == 5 => WorkOrderState::Cancelled,
        _ => WorkOrderState::Success,
    }
}

pub fn row(i: usize, state: WorkOrderState) -> WorkOrderRow {
    let now = Utc::now();
    let (workflow_id, workflow) = WORKFLOWS[i % WORKFLOWS.len()];
    let id = uuid(0x42_0000 + i as u64);
    let received_at = now - Duration::seconds(30 + 37 * i as i64);
    let first_error =
        (state == WorkOrderState::Failed || state == WorkOrderState::Crashed).then(|| FirstError {
            job: "Validate Visit".into(),
            error_type: Some(if state == WorkOrderState::Failed {
                "JobError".into()
            } else {
                "RuntimeCrash".into()
            }),
            message: Some(format!("visit has no patient (P-{:04})", 40 + i)),
        });
    WorkOrderRow {
        short_ref: short_ref(&id),
        id,
        project: "clinic-intake".into(),
        workflow_id: workflow_id.into(),
        workflow: workflow.into(),
        state,
        origin: if workflow_id == "wf-sync" {
            Origin::Cron
        } else {
            Origin::Webhook
        },
        received_at,
        last_activity: received_at + Duration::milliseconds(800),
        duration_ms: state.is_final().then_some(120 + (i as i64 * 97) % 4000),
        run_count: 1,
        first_error,
        input_wiped: false,
        hit: None,
    }
}

pub fn counts() -> Vec<StateCount> {
    vec![
        StateCount {
            state: WorkOrderState::Success,
            count: 1204,
        },
        StateCount {
            state: WorkOrderState::Failed,
            count: 17,
        },
        StateCount {
            state: WorkOrderState::Crashed,
            count: 2,
        },
        StateCount {
            state: WorkOrderState::Running,
            count: 1,
        },
    ]
}

/// `n` rows with mixed states, newest first.
pub fn page(n: usize, next_cursor: Option<&str>) -> WorkOrderPage {
    WorkOrderPage {
        rows: (0..n).map(|i| row(i, state_for(i))).collect(),
        next_cursor: next_cursor.map(str::to_string),
        counts: counts(),
        counts_capped: false,
    }
}

pub fn dataclip(body: Option<&str>) -> DataclipInfo {
    DataclipInfo {
        id: uuid(0xdc),
        kind: DataclipType::HttpRequest,
        name: None,
        size_bytes: body.map(|b| b.len() as u64),
        wiped_at: None,
        wipe_reason: None,
        body: body.map(str::to_string),
    }
}

pub const VISIT_INPUT: &str = r#"{"data": {"clinic": "Hill", "visit_id": "V-7781", "patient": null, "items": [{"code": "BP", "value": "120/80"}, {"code": "WT", "value": 71.5}, {"code": "HT", "value": 172}]}, "request": {"method": "POST", "path": "/i/visits", "headers": {"content-type": "application/json"}, "query": {}}}"#;

fn step(
    id: u64,
    job_id: &str,
    job: &str,
    reason: ExitReason,
    at: DateTime<Utc>,
    input: Option<&str>,
    output: Option<&str>,
) -> StepView {
    let failed = reason != ExitReason::Success;
    let sid = uuid(id);
    StepView {
        short_ref: short_ref(&sid),
        id: sid,
        job_id: job_id.into(),
        job: job.into(),
        exit_reason: Some(reason),
        error_type: failed.then(|| "JobError".to_string()),
        error_message: failed
            .then(|| "visit has no patient\nat line 3, column 29 of the job".to_string()),
        started_at: at,
        finished_at: Some(at + Duration::milliseconds(12)),
        duration_ms: Some(if failed { 12 } else { 3 }),
        attached: false,
        input: input.map(|b| dataclip(Some(b))),
        output: output.map(|b| dataclip(Some(b))),
    }
}

fn run(
    id: u64,
    wo: &str,
    state: RunState,
    origin: Origin,
    at: DateTime<Utc>,
    starting_job: Option<&str>,
    steps: Vec<StepView>,
) -> RunView {
    let rid = uuid(id);
    RunView {
        short_ref: short_ref(&rid),
        id: rid,
        work_order_id: wo.into(),
        state,
        error_type: (state == RunState::Failed).then(|| "JobError".to_string()),
        origin,
        starting_job: starting_job.map(str::to_string),
        version: 3,
        created_at: at,
        claimed_at: Some(at),
        started_at: Some(at),
        finished_at: Some(at + Duration::milliseconds(800)),
        attempt: 1,
        steps,
        logs_dropped: LogsDropped::default(),
    }
}

/// A failed Visit Intake work order with two runs: the first, and a rerun from Validate Visit.
pub fn show_failed() -> ShowResult {
    let mut row = row(0, WorkOrderState::Failed);
    row.run_count = 2;
    let first = row.received_at;
    let second = first + Duration::minutes(3);
    let output = r#"{"data": {"reported": true, "visit_id": "V-7781"}}"#;
    let runs = vec![
        run(
            0x101,
            &row.id,
            RunState::Failed,
            Origin::Webhook,
            first,
            None,
            vec![
                step(
                    0x201,
                    "job-validate",
                    "Validate Visit",
                    ExitReason::Fail,
                    first,
                    Some(VISIT_INPUT),
                    Some(VISIT_INPUT),
                ),
                step(
                    0x202,
                    "job-report",
                    "Report Bad Visit",
                    ExitReason::Success,
                    first,
                    Some(VISIT_INPUT),
                    Some(output),
                ),
            ],
        ),
        run(
            0x102,
            &row.id,
            RunState::Failed,
            Origin::Rerun,
            second,
            Some("job-validate"),
            vec![
                step(
                    0x203,
                    "job-validate",
                    "Validate Visit",
                    ExitReason::Fail,
                    second,
                    Some(VISIT_INPUT),
                    Some(VISIT_INPUT),
                ),
                step(
                    0x204,
                    "job-report",
                    "Report Bad Visit",
                    ExitReason::Success,
                    second,
                    Some(VISIT_INPUT),
                    Some(output),
                ),
            ],
        ),
    ];
    ShowResult {
        kind: RefKind::WorkOrder,
        id: row.id.clone(),
        work_order: WorkOrderView {
            input: Some(dataclip(Some(VISIT_INPUT))),
            row,
            runs,
            source_address: Some("10.0.0.7:51234".into()),
        },
    }
}

pub fn logs(run_id: &str, n: usize) -> Vec<LogLine> {
    let messages = [
        (
            LogLevel::Info,
            "Validate Visit: starting (adaptor @openfn/language-http@7.2.0)",
        ),
        (
            LogLevel::Debug,
            "state.data has keys clinic, visit_id, patient, items",
        ),
        (LogLevel::Warn, "visit V-7781 has 3 items but no patient"),
        (LogLevel::Error, "JobError: visit has no patient"),
    ];
    (0..n)
        .map(|i| {
            let (level, message) = messages[i % messages.len()];
            LogLine {
                id: i as i64 + 1,
                run_id: run_id.into(),
                step_id: Some(uuid(0x203)),
                source: "JOB".into(),
                level,
                message: message.into(),
                timestamp: Utc::now() - Duration::seconds(60 - i as i64),
            }
        })
        .collect()
}

fn job(id: &str, name: &str, body: &str) -> JobView {
    JobView {
        id: id.into(),
        key: id.into(),
        name: name.into(),
        adaptor: "@openfn/language-http@7.2.0".into(),
        credential: None,
        body: body.into(),
    }
}

fn edge(
    key: &str,
    trigger: Option<&str>,
    source: Option<&str>,
    target: &str,
    condition: ConditionType,
) -> EdgeView {
    EdgeView {
        id: key.into(),
        key: key.into(),
        source_trigger: trigger.map(str::to_string),
        source_job: source.map(str::to_string),
        target_job: target.into(),
        condition,
        expression: None,
        label: None,
        enabled: true,
    }
}

pub fn workflows() -> Vec<WorkflowView> {
    let now = Utc::now();
    vec![
        WorkflowView {
            id: "wf-visit".into(),
            project: "clinic-intake".into(),
            key: "visit-intake".into(),
            name: "Visit Intake".into(),
            enabled: true,
            version: 3,
            constants: Default::default(),
            triggers: vec![TriggerView {
                id: "tr-visit".into(),
                key: "webhook".into(),
                kind: TriggerType::Webhook,
                enabled: true,
                cron_expression: None,
                cron_description: None,
                next_fire: None,
                custom_path: Some("/i/visits".into()),
                webhook_url: Some("http://localhost:4000/i/visits".into()),
                webhook_reply: Some(WebhookReply::BeforeStart),
                auth: vec![],
            }],
            jobs: vec![
                job(
                    "job-validate",
                    "Validate Visit",
                    "fn(state => {\n  const visit = state.data;\n  if (!visit.patient) throw new Error('visit has no patient');\n  return state;\n});\n",
                ),
                job(
                    "job-summarise",
                    "Summarise Visit",
                    "post('/summaries', state => state.data);\n",
                ),
                job(
                    "job-report",
                    "Report Bad Visit",
                    "post('/alerts', state => ({ text: 'bad visit' }));\n",
                ),
            ],
            edges: vec![
                edge(
                    "e1",
                    Some("webhook"),
                    None,
                    "job-validate",
                    ConditionType::Always,
                ),
                edge(
                    "e2",
                    None,
                    Some("job-validate"),
                    "job-summarise",
                    ConditionType::OnJobSuccess,
                ),
                edge(
                    "e3",
                    None,
                    Some("job-validate"),
                    "job-report",
                    ConditionType::OnJobFailure,
                ),
            ],
            success_24h: 812,
            failed_24h: 9,
        },
        WorkflowView {
            id: "wf-sync".into(),
            project: "clinic-intake".into(),
            key: "nightly-sync".into(),
            name: "Nightly Sync".into(),
            enabled: true,
            version: 1,
            constants: Default::default(),
            triggers: vec![TriggerView {
                id: "tr-sync".into(),
                key: "cron".into(),
                kind: TriggerType::Cron,
                enabled: true,
                cron_expression: Some("0 2 * * *".into()),
                cron_description: Some("At 02:00 every day".into()),
                next_fire: Some(now + Duration::minutes(15 * 60 + 12) + Duration::seconds(30)),
                custom_path: None,
                webhook_url: None,
                webhook_reply: None,
                auth: vec![],
            }],
            jobs: vec![job("job-sync", "Sync to DHIS2", "get('/api/visits');\n")],
            edges: vec![edge(
                "e4",
                Some("tr-sync"),
                None,
                "job-sync",
                ConditionType::Always,
            )],
            success_24h: 1,
            failed_24h: 0,
        },
    ]
}

pub fn credentials() -> Vec<CredentialSummary> {
    vec![
        CredentialSummary {
            name: "dhis2-play".into(),
            keys: vec!["baseUrl".into(), "username".into(), "password".into()],
            used_by: vec!["Nightly Sync / Sync to DHIS2".into()],
            updated_at: Utc::now() - Duration::days(3),
        },
        CredentialSummary {
            name: "slack-alerts".into(),
            keys: vec!["access_token".into()],
            used_by: vec![],
            updated_at: Utc::now() - Duration::hours(5),
        },
    ]
}
