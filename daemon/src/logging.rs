//! boltd's log on stderr, which must never stop boltd.
//!
//! stderr may be a full disk, `/dev/full`, a pipe whose reader has gone (EPIPE) or one
//! nobody reads (a write would block). Log lines go into a bounded queue and a thread of
//! their own writes them out: a line that can't be queued (the writer is stuck) or written
//! (the write failed) is dropped and counted — `bolt status` shows the count — and never
//! panics ("failed printing to stderr") or holds up the thread that logged it.

use std::io::Write;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::time::Duration;

/// Lines waiting for the stderr thread; past this they are dropped.
const QUEUE_LINES: usize = 4096;

static DROPPED: AtomicU64 = AtomicU64::new(0);

/// The queue, for [`flush`].
static QUEUE: OnceLock<Queue> = OnceLock::new();

struct Queue {
    lines: SyncSender<Line>,
}

enum Line {
    Text(Vec<u8>),
    /// Answered once every line queued before it has been written (or dropped).
    Flush(SyncSender<()>),
}

/// Log lines dropped since boltd started: stderr refused them or could not keep up.
pub fn dropped_lines() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Installs the tracing subscriber: `filter` decides what is logged, lines go to stderr
/// through the queue.
pub fn init(filter: tracing_subscriber::EnvFilter) {
    let writer = StderrWriter::start();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        // The subscriber's own complaint about a failed write goes to stderr with
        // `eprintln!`, which panics when stderr is what failed.
        .log_internal_errors(false)
        .try_init();
}

/// Waits up to `within` for the lines already queued to be written: before boltd exits, so
/// its last words ("boltd stopped", why it could not start) reach the log.
pub fn flush(within: Duration) {
    let Some(queue) = QUEUE.get() else {
        return;
    };
    let (done, flushed) = sync_channel(1);
    if queue.lines.try_send(Line::Flush(done)).is_ok() {
        let _ = flushed.recv_timeout(within);
    }
}

/// Writes straight to stderr, ignoring failure: for boltd's last message before exiting.
pub fn print_error(message: &str) {
    flush(Duration::from_secs(1));
    let mut stderr = std::io::stderr().lock();
    if writeln!(stderr, "{message}").is_err() {
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
}

/// The subscriber's writer: queues each formatted event.
#[derive(Clone)]
struct StderrWriter {
    lines: SyncSender<Line>,
}

impl StderrWriter {
    fn start() -> StderrWriter {
        let (lines, queued) = sync_channel(QUEUE_LINES);
        let spawned = std::thread::Builder::new()
            .name("bolt-stderr".into())
            .spawn(move || write_out(queued, std::io::stderr()));
        if spawned.is_err() {
            // No thread, no log: every line counts as dropped (try_send fails at once).
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
        let _ = QUEUE.set(Queue {
            lines: lines.clone(),
        });
        StderrWriter { lines }
    }
}

impl Write for StderrWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.lines.try_send(Line::Text(buf.to_vec())) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                DROPPED.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for StderrWriter {
    type Writer = StderrWriter;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// The stderr thread: writes each line, counting the ones the output refuses.
fn write_out(queued: Receiver<Line>, mut out: impl Write) {
    for line in queued {
        match line {
            Line::Text(text) => {
                if out.write_all(&text).and_then(|()| out.flush()).is_err() {
                    DROPPED.fetch_add(1, Ordering::Relaxed);
                }
            }
            Line::Flush(done) => {
                let _ = done.try_send(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An output that fails every write, as `/dev/full` or a closed pipe does.
    struct Full;

    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::from_raw_os_error(28))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn failed_writes_are_counted_not_raised() {
        let before = dropped_lines();
        let (lines, queued) = sync_channel(8);
        let writer = std::thread::spawn(move || write_out(queued, Full));
        let mut log = StderrWriter { lines };
        for _ in 0..3 {
            assert_eq!(log.write(b"a line\n").unwrap(), 7);
        }
        drop(log);
        writer.join().unwrap();
        assert!(dropped_lines() >= before + 3);
    }

    #[test]
    fn a_full_queue_drops_instead_of_blocking() {
        let before = dropped_lines();
        let (lines, _nobody_reads) = sync_channel(1);
        let mut log = StderrWriter { lines };
        for _ in 0..5 {
            log.write_all(b"x\n").unwrap();
        }
        assert!(dropped_lines() >= before + 4);
    }
}
