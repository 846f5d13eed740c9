//! `bolt input save`: keeps a step's input under a name, to run with later.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use crate::queue::reruns;
use bolt_shared::model::short_ref;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    reference: String,
    step: String,
    name: String,
) -> HandlerResult {
    let label = name.clone();
    let id = daemon
        .store
        .writer
        .write(move |tx| {
            let id = reruns::save_input(tx, &reference, &step, &name)?;
            let metadata = serde_json::json!({ "from": reference, "step": step, "dataclip": id });
            crate::audit::record(tx, "input.saved", &name, Some(&metadata))?;
            Ok(id)
        })
        .await?;
    Ok(Response::Done {
        message: format!(
            "saved input `{label}` ({}); run with it: bolt trigger WORKFLOW --input-name {label}",
            short_ref(&id)
        ),
    })
}
