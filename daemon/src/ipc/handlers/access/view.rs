//! `bolt access`: the roles and what the caller may do.

use crate::access::Caller;
use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::protocol::Response;
use std::sync::Arc;

pub fn handle(daemon: &Arc<Daemon>, caller: &Caller) -> HandlerResult {
    Ok(Response::Access(Box::new(daemon.access.view(caller))))
}
