//! `bolt trigger`: a manual run, optionally waited for.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::store::StoreError;
use crate::store::work_orders::{Input, NewWorkOrder};
use crate::triggers::intake;
use crate::workflows;
use bolt_shared::model::{DataclipType, Origin};
use bolt_shared::protocol::{ManualInput, Response, TriggerResult};
use std::sync::Arc;
use std::time::Duration;

pub async fn handle(
    daemon: &Arc<Daemon>,
    workflow: String,
    input: ManualInput,
    wait: bool,
) -> HandlerResult {
    let (deployed, input) = daemon
        .store
        .readers
        .read(move |conn| {
            let deployed = workflows::find(conn, &workflow)?;
            let input = match input {
                ManualInput::Json { value } => Input::json(DataclipType::SavedInput, &value, None),
                ManualInput::Empty => Input::json(DataclipType::Global, &serde_json::json!({}), None),
                ManualInput::Named { name } => {
                    match crate::store::work_orders::saved_input(conn, &name)? {
                        Some((id, true)) => Input::Existing(id),
                        Some((_, false)) => return Err(StoreError::Invalid(format!("the saved input `{name}` was wiped"))),
                        None => return Err(StoreError::Invalid(format!("there is no saved input named `{name}`; save one with `bolt input save REF --step JOB --name {name}`"))),
                    }
                }
            };
            Ok((deployed, input))
        })
        .await?;
    let events = wait.then(|| daemon.events.subscribe());
    let created = intake::submit(
        daemon,
        NewWorkOrder {
            workflow_id: deployed.id,
            project_id: deployed.project_id,
            version_id: deployed.version_id,
            trigger_id: None,
            origin: Origin::Manual,
            input,
            starting_job: None,
            priority: 0,
            source_address: None,
        },
    )
    .await?;
    let (wo, run) = (created.work_order_id.clone(), created.run_id.clone());
    let audited = daemon
        .store
        .writer
        .write(move |tx| {
            let mut metadata = serde_json::Map::new();
            metadata.insert("run".into(), run.into());
            crate::audit::record_for_work_order(tx, "workflow.triggered", &wo, &wo, metadata)
        })
        .await;
    if let Err(error) = audited {
        tracing::warn!(%error, "cannot record a manual run in the audit log");
    }
    let mut result = TriggerResult {
        work_order_id: created.work_order_id,
        run_id: created.run_id.clone(),
        final_state: None,
        output: None,
    };
    if let Some(events) = events {
        // A workflow may set its own limit, up to the ceiling.
        let timeout = Duration::from_secs(daemon.config.engine.max_run_timeout_secs + 30);
        if let Some(done) = intake::wait_for_run(daemon, events, &created.run_id, timeout).await? {
            result.final_state = Some(done.state);
            result.output = done.final_state;
        }
    }
    Ok(Response::Triggered(result))
}
