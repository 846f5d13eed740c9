//! Engine worker threads kept between runs.
//!
//! Starting a thread (8 MiB stack) and a tokio event loop per run costs more than the run
//! itself, so workers stay alive after a run and wait for the next one, keeping their event loop and their
//! spare QuickJS runtime; after handing a result over, a worker drops the finished context
//! and, if no run is waiting, prepares the next run's context (see [`super::warm`]). A run never waits for a busy worker: when
//! none is idle a new one starts, so a long job can't hold up the others. At most
//! [`MAX_IDLE_WORKERS`] idle workers are kept; a worker finding the idle list full ends.

use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};

/// Stack size of an engine thread (QuickJS uses at most 1 MiB of it).
pub const ENGINE_THREAD_STACK: usize = 8 * 1024 * 1024;
/// Idle workers kept for the next runs.
pub const MAX_IDLE_WORKERS: usize = 8;

/// What a worker does for one run; the returned closure hands the result over, and runs
/// after the worker is back in the idle list (so a caller's next run finds it there).
pub type Work = Box<dyn FnOnce(&tokio::runtime::Runtime) -> Box<dyn FnOnce() + Send> + Send>;

struct IdleWorker {
    jobs: Sender<Work>,
}

static IDLE: Mutex<Vec<IdleWorker>> = Mutex::new(Vec::new());

/// Runs `work` on an idle worker, or on a new one.
pub fn submit(work: Work) -> std::io::Result<()> {
    let mut work = work;
    loop {
        let idle = IDLE.lock().ok().and_then(|mut idle| idle.pop());
        let Some(worker) = idle else { break };
        // A worker whose thread has ended gives the work back; try the next one.
        match worker.jobs.send(work) {
            Ok(()) => return Ok(()),
            Err(returned) => work = returned.0,
        }
    }
    spawn_worker(work)
}

fn spawn_worker(first: Work) -> std::io::Result<()> {
    let (jobs, inbox) = channel::<Work>();
    std::thread::Builder::new()
        .name("bolt-engine".into())
        .stack_size(ENGINE_THREAD_STACK)
        .spawn(move || worker_main(first, jobs, inbox))
        .map(|_| ())
}

fn worker_main(first: Work, jobs: Sender<Work>, inbox: Receiver<Work>) {
    let event_loop = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(event_loop) => event_loop,
        // Dropping the work drops its result sender: the caller reports the failure.
        Err(_) => return,
    };
    let mut next = Some(first);
    while let Some(work) = next.take() {
        let deliver = work(&event_loop);
        let parked = match IDLE.lock() {
            Ok(mut idle) if idle.len() < MAX_IDLE_WORKERS => {
                idle.push(IdleWorker { jobs: jobs.clone() });
                true
            }
            _ => false,
        };
        deliver();
        event_loop.block_on(super::warm::finish_retired());
        if !parked {
            break;
        }
        // With nothing waiting, get the next run's context ready while idle.
        next = match inbox.try_recv() {
            Ok(work) => Some(work),
            Err(_) => {
                event_loop.block_on(super::warm::prepare());
                inbox.recv().ok()
            }
        };
    }
    super::warm::discard();
}

/// Runs `f` on an engine worker and waits for its result (for callers outside tokio).
pub fn run_blocking<R, F>(f: F) -> Result<R, String>
where
    R: Send + 'static,
    F: FnOnce(&tokio::runtime::Runtime) -> R + Send + 'static,
{
    let (tx, rx) = channel();
    submit(Box::new(move |event_loop: &tokio::runtime::Runtime| {
        let result = f(event_loop);
        Box::new(move || {
            let _ = tx.send(result);
        })
    }))
    .map_err(|e| format!("could not start the engine thread: {e}"))?;
    rx.recv()
        .map_err(|_| "the engine thread stopped unexpectedly".to_string())
}

/// How many workers are idle now (for tests and diagnostics).
pub fn idle_workers() -> usize {
    IDLE.lock().map(|idle| idle.len()).unwrap_or(0)
}
