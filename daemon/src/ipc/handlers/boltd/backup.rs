//! `bolt backup`: an online copy of the store while boltd runs, with progress frames.

use crate::daemon::Daemon;
use crate::ipc::handlers::{Events, HandlerResult, bad_request};
use crate::store::{DB_FILE, backup};
use bolt_shared::backup::BackupProgress;
use bolt_shared::protocol::{ProgressEvent, Response};
use std::sync::Arc;

pub async fn handle(
    daemon: &Arc<Daemon>,
    path: String,
    force: bool,
    events: Events,
) -> HandlerResult {
    let dest = std::path::PathBuf::from(&path);
    if !dest.is_absolute() {
        return Err(bad_request(format!(
            "the backup path {path} must be absolute (bolt sends it so)"
        )));
    }
    if let Some(database) = daemon.store.database() {
        return Err(bad_request(format!(
            "bolt backup copies a SQLite store; this boltd keeps its records in PostgreSQL ({database}): back that database up with PostgreSQL's own tools (pg_dump, or your provider's snapshots), and keep each node's bolt.key apart from it"
        )));
    }
    let db = daemon.data_dir.join(DB_FILE);
    let report = tokio::task::spawn_blocking(move || {
        // A frame per percent at most: a big store copies in many steps.
        let last = std::sync::atomic::AtomicU64::new(u64::MAX);
        backup::online_copy(&db, &dest, force, &|pages, total_pages| {
            let percent = pages * 100 / total_pages.max(1);
            if last.swap(percent, std::sync::atomic::Ordering::Relaxed) != percent {
                events(ProgressEvent::Backup(BackupProgress::Copied {
                    pages,
                    total_pages,
                }));
            }
        })
    })
    .await
    .map_err(|e| bad_request(format!("the backup stopped: {e}")))??;
    let metadata = serde_json::json!({ "path": report.path, "pages": report.pages });
    // The copy is made; a store refusing writes (a full disk) only loses this audit row.
    if let Err(err) = daemon
        .store
        .writer
        .write(move |tx| crate::project::audit(tx, "backed_up", "store", "store", Some(metadata)))
        .await
    {
        tracing::warn!(%err, "the backup was made but could not be audited");
    }
    Ok(Response::BackedUp(report))
}
