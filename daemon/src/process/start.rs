//! Starting boltd: lock, socket, store, servers, signals, shutdown.

use crate::daemon::{Daemon, StopMode};
use crate::files;
use crate::process::lifecycle::{PidLock, SocketFile, prepare_socket};
use crate::process::shutdown::{self, Signals};
use crate::store::Store;
use anyhow::Context;
use bolt_shared::paths::Resolved;
use interprocess::local_socket::{GenericFilePath, ListenerOptions, ToFsName};
use interprocess::os::unix::local_socket::ListenerOptionsExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Runs the daemon until SIGTERM, SIGINT or `bolt stop`.
pub async fn run(resolved: Resolved, http_override: Option<String>) -> anyhow::Result<()> {
    let mut config = resolved.config.clone();
    if let Some(listen) = http_override {
        config.http.listen = listen;
    }
    files::ensure_private_dir(&resolved.data_dir, files::DATA_DIR)?;
    // The lock comes first: a second boltd must not touch a live daemon's socket.
    let lock = PidLock::acquire(&resolved.data_dir)?;
    let (journal, unrecorded) = open_unrecorded_journal(&resolved.data_dir)?;
    let socket_dir = prepare_socket(&resolved.socket)?;

    let vault = crate::secrets::Vault::open(&resolved.data_dir)?;
    files::tighten_store_files(&resolved.data_dir.join(crate::store::DB_FILE))?;
    let readers = config.workers().clamp(2, 8);
    let store = Store::open(&resolved.data_dir, readers)
        .with_context(|| format!("opening the store in {}", resolved.data_dir.display()))?;
    // Before anything reads a credential: the key must be the store's.
    let vault = crate::credentials::rotate::reconcile(&store, vault, &resolved.data_dir).await?;

    let name = resolved
        .socket
        .as_path()
        .to_fs_name::<GenericFilePath>()
        .with_context(|| format!("socket path {}", resolved.socket.display()))?;
    // No name reclamation: the socket is removed at exit only if it is still this one.
    let listener = ListenerOptions::new()
        .name(name)
        .mode(0o600)
        .reclaim_name(false)
        .create_tokio()
        .with_context(|| format!("listening on {}", resolved.socket.display()))?;
    let socket_file = SocketFile::bound(&resolved.socket);
    if let Some(group) = config.access.as_ref().and_then(|a| a.group.as_deref()) {
        crate::access::open_socket_to_group(&resolved.socket, &resolved.data_dir, group)?;
    }
    drop(socket_dir);
    let access = crate::access::Access::new(config.access.clone(), resolved.config_path.clone());

    let daemon = Arc::new(
        Daemon::new(
            config,
            resolved.data_dir.clone(),
            resolved.socket.clone(),
            store,
            vault,
            access,
        )
        .with_unrecorded_journal(journal),
    );
    tracing::info!(
        pid = std::process::id(),
        data_dir = %resolved.data_dir.display(),
        socket = %resolved.socket.display(),
        pidfile = %lock.path().display(),
        "boltd started"
    );

    let mut signals = Signals::install();
    let mut webhooks = None;
    if !daemon.config.http.listen.is_empty() {
        let (addr, server) =
            crate::triggers::webhook::serve(daemon.clone(), &daemon.config.http.listen).await?;
        if let Ok(mut slot) = daemon.http_listen.write() {
            *slot = Some(addr.to_string());
        }
        webhooks = Some(server);
        tracing::info!(%addr, "webhook server listening");
    }
    let (close_ipc, ipc_closed) = tokio::sync::watch::channel(false);
    // The audit chain is sealed and syslog forwarding on before the first request can
    // change anything; on a store refusing writes that waits, in the background.
    if let Err(err) = crate::audit::start(&daemon).await {
        if daemon.store.health.writable() {
            return Err(err);
        }
        tracing::warn!(%err, "the store refuses writes: audit delivery starts once it takes them again");
        let later = daemon.clone();
        tokio::spawn(async move {
            if let Err(err) = start_audit(&later).await {
                tracing::error!(%err, "audit delivery could not start");
            }
        });
    }
    let ipc = tokio::spawn(crate::ipc::serve(daemon.clone(), listener, ipc_closed));
    // Runs start only once the last shutdown's leftovers are settled. On a full disk that
    // waits for space, while webhooks are answered 503 and clients see why in `bolt status`.
    let recovered = tokio::select! {
        recovered = recover(&daemon, &unrecorded) => Some(recovered?),
        mode = shutdown::wait_for_stop(&daemon, &mut signals) => {
            daemon.request_stop(mode);
            None
        }
    };
    let mut workers = Vec::new();
    if recovered.is_some() {
        workers.push(tokio::spawn(crate::queue::dispatch::run(daemon.clone())));
        tokio::spawn(crate::installer::refresh_at_start(daemon.clone()));
    }
    let scheduler = tokio::spawn(crate::triggers::cron::run(daemon.clone()));
    let retention = tokio::spawn(crate::retention::run(daemon.clone()));
    tokio::spawn(crate::notify::run(daemon.clone()));

    let mode = shutdown::wait_for_stop(&daemon, &mut signals).await;
    tracing::info!(?mode, "shutting down: no more webhooks or new runs");
    // Webhooks, claims, cron and retention stop; the runs under way go on.
    daemon.shut_down();
    for dispatcher in workers {
        let _ = dispatcher.await;
    }
    let deadline = Instant::now() + mode.grace(&daemon.config);
    let left = match mode {
        StopMode::Drain => shutdown::drain(&daemon, &mut signals, deadline).await,
        StopMode::Now => daemon.running_count(),
    };
    if left > 0 {
        tracing::warn!(
            left,
            "stopping with runs unfinished: the next start marks them lost (and retries them where the workflow's policy says so)"
        );
    }
    // Answer the webhooks already taken (their work orders are on disk either way), and let
    // a cron tick or a retention batch under way commit. The HTTP server stayed up for the
    // runs' collections requests until now.
    daemon.close_http();
    let answer_by = Instant::now() + LAST_WRITES_GRACE;
    if let Some(webhooks) = webhooks {
        let _ = tokio::time::timeout_at(answer_by, webhooks).await;
    }
    let _ = tokio::time::timeout_at(answer_by, scheduler).await;
    let _ = tokio::time::timeout_at(answer_by, retention).await;
    let _ = close_ipc.send(true);
    let _ = ipc.await;
    // Nothing more is written: leave one self-contained database file (for backups).
    let store = daemon.clone();
    let fold = tokio::task::spawn_blocking(move || store.store.fold_wal());
    match fold.await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            tracing::warn!(
                "writes still under way kept the write-ahead log from being folded into the database; the next start does it"
            )
        }
        Ok(Err(err)) => {
            tracing::warn!(%err, "could not fold the write-ahead log into the database; the next start does it")
        }
        Err(err) => tracing::warn!(%err, "the final checkpoint stopped unexpectedly"),
    }
    socket_file.remove();
    drop(lock);
    tracing::info!("boltd stopped");
    Ok(())
}

/// After the runs, how long the webhook replies, cron tick and retention batch under way get.
const LAST_WRITES_GRACE: Duration = Duration::from_secs(2);

/// Starts audit delivery once the store takes writes again (it seals the chain first).
async fn start_audit(daemon: &Arc<Daemon>) -> anyhow::Result<()> {
    loop {
        match crate::audit::start(daemon).await {
            Ok(()) => return Ok(()),
            Err(err) if !daemon.store.health.writable() => {
                tracing::warn!(%err, "the store refuses writes: audit delivery starts once it takes them again");
                daemon.store.health.until_writable().await;
            }
            Err(err) => return Err(err),
        }
    }
}

/// The journal of runs boltd could not record, and the ids a previous boltd left in it. A
/// journal that can't be read or written is not fatal; one that isn't boltd's own file is.
fn open_unrecorded_journal(
    data_dir: &std::path::Path,
) -> anyhow::Result<(crate::queue::unrecorded::journal::Journal, Vec<String>)> {
    use crate::queue::unrecorded::journal::Journal;
    match Journal::open(data_dir) {
        Ok(opened) => Ok(opened),
        Err(err @ files::FileError::Io { .. }) => {
            tracing::warn!(%err, "runs the store refuses will be found lost after a restart");
            Ok((Journal::disabled(), Vec::new()))
        }
        Err(err) => Err(err.into()),
    }
}

/// Queues again the runs a previous boltd could not record, marks runs a crash left in
/// flight as lost, queues retries their policy asks for, and picks up the log line counter.
async fn recover(daemon: &Arc<Daemon>, unrecorded: &[String]) -> anyhow::Result<()> {
    let (requeued, lost, retried, max_log) = loop {
        let left_over = unrecorded.to_vec();
        let settled = daemon
            .store
            .writer
            .write(move |tx| {
                let requeued = crate::queue::unrecorded::requeue_left_over(tx, &left_over)?;
                let lost = crate::store::work_orders::mark_lost(tx)?;
                let retried = crate::queue::executor::retry_lost(tx, &lost)?;
                let max_log = crate::store::logs::max_id(tx)?;
                Ok((requeued, lost, retried, max_log))
            })
            .await;
        match settled {
            Ok(settled) => break settled,
            Err(err) if !daemon.store.health.writable() => {
                tracing::warn!(%err, "the store refuses writes: runs start once it takes them again");
                daemon.store.health.until_writable().await;
            }
            Err(err) => return Err(err.into()),
        }
    };
    daemon.unrecorded.clear();
    if !requeued.is_empty() {
        tracing::warn!(
            runs = requeued.len(),
            "runs boltd could not record before it stopped were queued again"
        );
    }
    daemon.set_log_id_floor(max_log);
    if !lost.is_empty() {
        tracing::warn!(
            lost = lost.len(),
            retried = retried.len(),
            "runs interrupted by the last shutdown were marked lost"
        );
    }
    Ok(())
}
