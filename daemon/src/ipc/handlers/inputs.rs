//! Saved inputs: `bolt input save|list|rm`.

use super::HandlerResult;
use crate::daemon::Daemon;
use crate::queue::reruns;
use bolt_shared::model::*;
use bolt_shared::protocol::*;
use std::sync::Arc;

pub async fn save_input(
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

pub async fn list_inputs(daemon: &Arc<Daemon>) -> HandlerResult {
    let inputs = daemon
        .store
        .readers
        .read(crate::store::saved_inputs::list)
        .await?;
    Ok(Response::Inputs { inputs })
}

pub async fn remove_input(daemon: &Arc<Daemon>, name: String) -> HandlerResult {
    let label = name.clone();
    let removed = daemon
        .store
        .writer
        .write(move |tx| crate::saved_inputs::remove(tx, &name))
        .await?;
    let message = match removed {
        crate::saved_inputs::Removed::Deleted => format!("removed saved input `{label}`"),
        crate::saved_inputs::Removed::Unnamed => format!(
            "removed saved input `{label}`; runs that used it still show it in their history"
        ),
    };
    Ok(Response::Done { message })
}
