//! `bolt adaptor list`: the adaptors installed in boltd's data dir.

use crate::daemon::Daemon;
use crate::engine::adaptors::installed::InstalledAdaptors;
use crate::installer;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let adaptors = InstalledAdaptors::in_data_dir(&daemon.data_dir)
        .list()
        .iter()
        .map(installer::info)
        .collect();
    Ok(Response::Adaptors { adaptors })
}
