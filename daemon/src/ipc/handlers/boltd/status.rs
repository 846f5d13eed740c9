//! `bolt status`: boltd's version, queue, store health, nodes, subscribers and alert channels.

use crate::daemon::Daemon;
use crate::ipc::handlers::HandlerResult;
use bolt_shared::model::{DaemonStatus, NodeStatus, WorkOrderFilter};
use bolt_shared::protocol::{PROTOCOL_VERSION, Response};
use std::sync::Arc;

pub async fn handle(daemon: &Arc<Daemon>) -> HandlerResult {
    let counts = daemon
        .store
        .readers
        .read(|conn| {
            // The hourly buckets (kept by triggers): no scan of every work order.
            let (counts, _) = crate::history::counts(conn, &WorkOrderFilter::default())?;
            let totals = crate::store::work_orders::totals(conn)?;
            Ok((
                counts,
                totals.queued,
                totals.running,
                totals.projects,
                totals.workflows,
                crate::audit::atna::outbox_state(conn)?,
                crate::store::nodes::list(conn)?,
            ))
        })
        .await
        // The store's health matters most when it can't be read: answer without counts.
        .unwrap_or_else(|err| {
            tracing::warn!(%err, "status: the store could not be read");
            Default::default()
        });
    let (counts, queue_depth, running, projects, workflows, (waiting, last_error), nodes) = counts;
    let audit_syslog =
        daemon
            .config
            .audit
            .syslog
            .clone()
            .map(|target| bolt_shared::audit::SyslogDelivery {
                target,
                waiting,
                last_error,
            });
    let now = chrono::Utc::now();
    Ok(Response::Status(Box::new(DaemonStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        protocol: PROTOCOL_VERSION,
        pid: std::process::id(),
        started_at: daemon.started_at,
        uptime_secs: (now - daemon.started_at).num_seconds().max(0) as u64,
        data_dir: daemon.data_dir.display().to_string(),
        socket: daemon.socket.display().to_string(),
        http_listen: daemon.http_listen(),
        queue_depth,
        running,
        workers: daemon.config.workers(),
        projects,
        workflows,
        work_orders: counts.iter().map(|c| c.count).sum(),
        counts,
        store: daemon.store.timings.summary(),
        stopping: daemon.is_stopping(),
        store_health: daemon.store.health.snapshot(),
        log_lines_dropped: crate::logging::dropped_lines(),
        subscribers: daemon.fanout.count() as u64,
        notify: crate::notify::status(daemon).await,
        audit_syslog,
        database: daemon.store.database().map(str::to_string),
        node_id: daemon.membership.node_id.clone(),
        nodes: nodes
            .into_iter()
            .map(|n| NodeStatus {
                this_node: n.id == daemon.membership.node_id,
                id: n.id,
                hostname: n.hostname,
                pid: u32::try_from(n.pid).unwrap_or_default(),
                started_at: crate::store::from_micros(n.started_at),
                heartbeat_at: crate::store::from_micros(n.heartbeat_at),
                running: u64::try_from(n.running).unwrap_or_default(),
                workers: u64::try_from(n.workers).unwrap_or_default(),
            })
            .collect(),
    })))
}
