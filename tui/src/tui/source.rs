//! The data source: the UI never talks to the socket itself. It hands `(Tag, Request)` pairs
//! to a [`DataSource`] and gets [`Incoming`] messages back on a channel. The real source runs
//! `bolt_shared::client::Client` on two background threads (requests, and a subscribed event
//! connection that also watches the daemon and reconnects with backoff); tests feed
//! `Incoming` values straight into the app.

use bolt_shared::client::{Client, ClientError};
use bolt_shared::protocol::{Event, Request, Response};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::Duration;

/// What a request was for, so its answer goes to the right place.
#[derive(Debug, Clone, PartialEq)]
pub enum Tag {
    /// First page after a filter change (replaces the rows).
    HistoryReload,
    /// The next (older) page.
    HistoryMore,
    /// The newest page again, merged into what is shown (live updates).
    HistoryRefresh,
    Show {
        reference: String,
    },
    Logs {
        run_id: String,
    },
    Workflows,
    Credentials,
    /// A one-off action; the answer becomes a banner.
    Action {
        what: String,
    },
    /// One rerun out of a marked set.
    BulkItem,
    /// A `RerunMatching` for all rows matching the filter.
    BulkMatching,
    /// A manual run; opens the new work order.
    Trigger,
    /// A workflow's versions, for the versions dialog; `job` is the job selected on the
    /// workflow screen (key, name), which the dialog can revert alone.
    Versions {
        job: Option<(String, String)>,
    },
    /// A diff between two versions, shown in a dialog.
    VersionDiff,
    /// How many work orders matching the filter belong to one workflow: when all of them,
    /// "all matching" can be rerun from a step of it.
    BulkScope(Box<BulkScope>),
    /// A credential's fields, to open the edit form with.
    CredentialEdit,
    /// Failures of the last 24 hours, grouped, for the failures view.
    Failures,
    /// boltd's queue depth, for the status line.
    HealthStatus,
    /// Failures of the last hour, for the status line.
    HealthFailures,
    /// A job editor's save: success closes that editor, a refusal shows in it.
    SaveJob {
        job_id: String,
        job_name: String,
    },
    /// The audit log screen's events.
    Audit,
    /// `V` on the audit log: the chain check.
    AuditVerify,
}

/// What a [`Tag::BulkScope`] count is about: the one workflow the loaded rows are in.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkScope {
    pub workflow_id: String,
    pub workflow: String,
    /// The step that failed most in the selection (the picker starts there).
    pub failed_job: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Connected {
        daemon: String,
        /// Who boltd takes this user for, and the role that gives (greys what it can't do).
        user: Option<String>,
        role: Option<bolt_shared::access::Role>,
    },
    /// Down; the next attempt is in `retry_in`.
    Down {
        error: String,
        retry_in: Duration,
    },
}

#[derive(Debug)]
pub enum Incoming {
    Response {
        tag: Tag,
        result: Result<Response, String>,
    },
    Event(Event),
    Connection(Connection),
}

/// Where requests go. The real one forwards to the client thread; tests record.
pub trait DataSource {
    fn send(&mut self, tag: Tag, request: Request);

    /// Try to connect again now instead of after the backoff (Ctrl-R while down).
    fn reconnect_now(&mut self) {}
}

/// Records requests (for tests and for byte measurements).
#[derive(Debug, Default)]
pub struct Recorder {
    pub sent: Vec<(Tag, Request)>,
}

impl DataSource for Recorder {
    fn send(&mut self, tag: Tag, request: Request) {
        self.sent.push((tag, request));
    }
}

/// The socket client running on background threads.
pub struct SocketSource {
    requests: Sender<(Tag, Request)>,
    stop: Arc<AtomicBool>,
    /// Cuts the reconnect backoff short.
    wake: Arc<AtomicBool>,
}

impl DataSource for SocketSource {
    fn send(&mut self, tag: Tag, request: Request) {
        // The worker only goes away when the UI is shutting down.
        let _ = self.requests.send((tag, request));
    }

    fn reconnect_now(&mut self) {
        self.wake.store(true, Ordering::Relaxed);
    }
}

impl Drop for SocketSource {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(10);

fn describe(err: &ClientError) -> String {
    err.to_string()
}

impl SocketSource {
    /// Starts the request and event threads. `wrap` turns an `Incoming` into the UI's own
    /// event type so terminal input and daemon messages share one channel.
    pub fn spawn<E: Send + 'static>(
        socket: PathBuf,
        out: Sender<E>,
        wrap: fn(Incoming) -> E,
    ) -> SocketSource {
        let stop = Arc::new(AtomicBool::new(false));
        let (requests, inbox) = channel();
        {
            let out = out.clone();
            let socket = socket.clone();
            thread::spawn(move || request_loop(&socket, &inbox, &out, wrap));
        }
        let wake = Arc::new(AtomicBool::new(false));
        {
            let stop = stop.clone();
            let wake = wake.clone();
            thread::spawn(move || event_loop(&socket, &out, wrap, &stop, &wake));
        }
        SocketSource {
            requests,
            stop,
            wake,
        }
    }
}

fn request_loop<E>(
    socket: &std::path::Path,
    inbox: &Receiver<(Tag, Request)>,
    out: &Sender<E>,
    wrap: fn(Incoming) -> E,
) {
    let mut client: Option<Client> = None;
    for (tag, request) in inbox {
        let mut result = None;
        // One retry on a fresh connection: the daemon may have restarted since the last request.
        for _attempt in 0..2 {
            if client.is_none() {
                match Client::connect(socket) {
                    Ok(c) => client = Some(c),
                    Err(err) => {
                        result = Some(Err(describe(&err)));
                        break;
                    }
                }
            }
            let Some(c) = client.as_mut() else { break };
            match c.request(request.clone()) {
                Ok(response) => {
                    result = Some(Ok(response));
                    break;
                }
                Err(err @ ClientError::Daemon(_)) => {
                    result = Some(Err(describe(&err)));
                    break;
                }
                Err(err) => {
                    client = None;
                    result = Some(Err(describe(&err)));
                }
            }
        }
        let result = result.unwrap_or_else(|| Err("boltd did not answer".to_string()));
        if out.send(wrap(Incoming::Response { tag, result })).is_err() {
            return;
        }
    }
}

fn event_loop<E>(
    socket: &std::path::Path,
    out: &Sender<E>,
    wrap: fn(Incoming) -> E,
    stop: &AtomicBool,
    wake: &AtomicBool,
) {
    let mut backoff = FIRST_RETRY;
    let send = |incoming| out.send(wrap(incoming)).is_ok();
    while !stop.load(Ordering::Relaxed) {
        let error = match Client::connect(socket) {
            Ok(mut client) => match client.subscribe() {
                Ok(()) => {
                    backoff = FIRST_RETRY;
                    let connected = Connection::Connected {
                        daemon: client.daemon_version.clone(),
                        user: client.user.clone(),
                        role: client.role,
                    };
                    if !send(Incoming::Connection(connected)) {
                        return;
                    }
                    loop {
                        match client.next_event() {
                            Ok(event) => {
                                if !send(Incoming::Event(event)) {
                                    return;
                                }
                            }
                            Err(err) => break describe(&err),
                        }
                    }
                }
                Err(err) => describe(&err),
            },
            Err(err) => describe(&err),
        };
        if !send(Incoming::Connection(Connection::Down {
            error,
            retry_in: backoff,
        })) {
            return;
        }
        // Sleep in slices so quitting is not held up by a long backoff.
        let mut slept = Duration::ZERO;
        while slept < backoff && !stop.load(Ordering::Relaxed) {
            if wake.swap(false, Ordering::Relaxed) {
                backoff = FIRST_RETRY / 2;
                break;
            }
            thread::sleep(Duration::from_millis(100));
            slept += Duration::from_millis(100);
        }
        backoff = (backoff * 2).min(MAX_RETRY);
    }
}
