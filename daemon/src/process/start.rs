//! Starting boltd: lock, socket, store, servers, signals, shutdown.

use crate::daemon::{Daemon, StopMode};
use crate::files;
use crate::process::lifecycle::{PidLock, SocketFile, prepare_socket};
use crate::process::shutdown::{self, Signals};
use crate::store::{Location, Store, StoreError};
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
    let location = Location::of(resolved.store_url.as_deref(), &resolved.data_dir)?;
    if let Location::DataDir(dir) = &location {
        files::tighten_store_files(&dir.join(crate::store::DB_FILE))?;
    }
    let readers = config.workers().clamp(2, 8);
    let store = open_store(&location, &resolved.data_dir, readers).await?;
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

    let membership = crate::cluster::Membership::new(
        crate::cluster::node_id(&resolved.data_dir)?,
        config
            .store
            .lease_secs
            .map_or(crate::cluster::DEFAULT_LEASE, Duration::from_secs),
        store.database().is_some(),
    );
    let daemon = Arc::new(
        Daemon::new(
            config,
            resolved.data_dir.clone(),
            resolved.socket.clone(),
            store,
            vault,
            access,
        )
        .with_unrecorded_journal(journal)
        .with_membership(membership),
    );
    tracing::info!(
        pid = std::process::id(),
        node = %daemon.membership.node_id,
        store = daemon.store.database().unwrap_or("SQLite in the data dir"),
        data_dir = %resolved.data_dir.display(),
        socket = %resolved.socket.display(),
        pidfile = %lock.path().display(),
        "boltd started"
    );

    // With other nodes on the store: their live events reach this node's clients, and
    // theirs this node's (kept until boltd stops).
    let _relay = match &location {
        Location::Postgres(settings) => {
            tokio::spawn(crate::cluster::follow_changes(daemon.clone()));
            Some(crate::process::relay::start(
                settings.clone(),
                daemon.membership.node_id.clone(),
                &daemon.events,
            ))
        }
        Location::DataDir(_) => None,
    };
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
        workers.push(tokio::spawn(crate::cluster::run(daemon.clone())));
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
    if recovered.is_some()
        && let Err(err) = crate::cluster::leave(&daemon).await
    {
        tracing::warn!(%err, "could not hand this node's claimed runs back to the queue");
    }
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

/// Opens the store. A PostgreSQL server that can't be reached yet (boltd started before
/// it, or during a failover) is waited for, saying so every few seconds; wrong settings
/// (credentials, a missing database, a newer schema) stop boltd with the reason.
async fn open_store(
    location: &Location,
    data_dir: &std::path::Path,
    readers: usize,
) -> anyhow::Result<Store> {
    let describe = || match location {
        Location::DataDir(dir) => format!("opening the store in {}", dir.display()),
        Location::Postgres(settings) => format!("opening the store at {settings}"),
    };
    loop {
        let (location, data_dir) = (location.clone(), data_dir.to_path_buf());
        let opened =
            tokio::task::spawn_blocking(move || Store::open_at(&location, &data_dir, readers))
                .await
                .context("opening the store stopped unexpectedly")?;
        match opened {
            Err(StoreError::Db(err)) if err.is_unreachable() => {
                tracing::warn!(%err, "waiting for the database: boltd starts once it answers (Ctrl-C or SIGTERM stops it)");
                tokio::time::sleep(DATABASE_WAIT).await;
            }
            other => return other.with_context(describe),
        }
    }
}

/// How often boltd tries again to reach a database that is down at start.
const DATABASE_WAIT: Duration = Duration::from_secs(3);

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

/// Queues again the runs a previous boltd could not record, joins the store's nodes
/// (marking runs this node's crash left in flight as lost, queueing the retries their
/// policy asks for) and picks up the log line ids.
async fn recover(daemon: &Arc<Daemon>, unrecorded: &[String]) -> anyhow::Result<()> {
    let me = daemon.membership.clone();
    let workers = daemon.config.workers();
    let (requeued, joined, log_ids) = loop {
        let left_over = unrecorded.to_vec();
        let me = me.clone();
        let settled = daemon
            .store
            .writer
            .write(move |tx| {
                let requeued = crate::queue::unrecorded::requeue_left_over(tx, &left_over)?;
                let joined = crate::cluster::join(tx, &me, workers)?;
                let log_ids = if me.shared {
                    LogIdStart::Block(crate::store::nodes::reserve_log_block(tx, true)?)
                } else {
                    LogIdStart::After(crate::store::logs::max_id(tx)?)
                };
                Ok((requeued, joined, log_ids))
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
    match log_ids {
        LogIdStart::After(max) => daemon.log_ids.start_after(max),
        LogIdStart::Block(block) => daemon.log_ids.start_in_block(block),
    }
    let crate::cluster::Joined {
        lost: lost_count,
        retried: retried_count,
    } = joined;
    daemon.unrecorded.clear();
    if !requeued.is_empty() {
        tracing::warn!(
            runs = requeued.len(),
            "runs boltd could not record before it stopped were queued again"
        );
    }
    if lost_count > 0 {
        tracing::warn!(
            lost = lost_count,
            retried = retried_count,
            "runs interrupted by the last shutdown were marked lost"
        );
    }
    Ok(())
}

/// Where this node's log line ids start.
enum LogIdStart {
    /// After the highest stored id (the only node).
    After(i64),
    /// In a block of the shared sequence (one of several nodes).
    Block(i64),
}
