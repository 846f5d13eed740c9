//! A blocking socket client for `bolt` subcommands and the TUI (which runs it on a thread).

use crate::adaptors::InstallProgress;
use crate::model::*;
use crate::protocol::*;
use interprocess::local_socket::{GenericFilePath, Stream, ToFsName, prelude::*};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The `daemon_user` of bolt.toml, set once the config is read (see [`trust_daemon_user`]).
static DAEMON_USER: RwLock<Option<String>> = RwLock::new(None);

/// Also trust a daemon running as `user` (a name or a uid): the `daemon_user` setting.
/// Every later connection of this process checks against it.
pub fn trust_daemon_user(user: Option<String>) {
    if let Ok(mut slot) = DAEMON_USER.write() {
        *slot = user.filter(|u| !u.trim().is_empty());
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("boltd is not running at {} — start it with `boltd` or `bolt up`", path.display())]
    NotRunning { path: PathBuf },
    #[error(
        "refusing to talk to {}: it is served by {found}, not by you ({you}), root{}; bolt sends nothing to a daemon it does not trust. If that daemon is yours, set `daemon_user = \"{found_name}\"` in bolt.toml; otherwise remove the socket or point bolt at your own (--socket)",
        path.display(),
        also_trusted(daemon_user.as_deref())
    )]
    UntrustedDaemon {
        path: PathBuf,
        /// Who serves the socket, e.g. "mallory (uid 1001)".
        found: String,
        found_name: String,
        you: String,
        daemon_user: Option<String>,
    },
    #[error("cannot tell who serves {}: {source}; bolt sends nothing to a daemon it cannot identify", path.display())]
    UnknownPeer {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    ProtocolMismatch(String),
    #[error("{0}")]
    Daemon(ErrorBody),
    #[error("lost the connection to boltd: {0}")]
    Io(#[from] std::io::Error),
    #[error("boltd sent a frame bolt cannot read: {0}")]
    Decode(String),
    #[error("boltd closed the connection")]
    Closed,
    #[error("boltd answered with an unexpected response: {0}")]
    Unexpected(String),
}

impl ClientError {
    /// True when the daemon is simply not there (exit code 2 for scripts).
    pub fn is_not_running(&self) -> bool {
        matches!(self, ClientError::NotRunning { .. })
    }
}

pub struct Client {
    stream: BufReader<Stream>,
    next_id: u64,
    events: VecDeque<Event>,
    pub daemon_version: String,
    /// Who boltd takes this client for, and that user's role (from its hello).
    pub user: Option<String>,
    pub role: Option<crate::access::Role>,
}

impl Client {
    /// Connects and performs the protocol handshake.
    pub fn connect(socket: &Path) -> Result<Client, ClientError> {
        Self::connect_as(socket, "bolt", PROTOCOL_VERSION)
    }

    /// Like [`Client::connect`] but announcing another protocol version (tests use this).
    pub fn connect_as(socket: &Path, client: &str, protocol: u32) -> Result<Client, ClientError> {
        let not_running = || ClientError::NotRunning {
            path: socket.to_path_buf(),
        };
        let name = socket
            .to_fs_name::<GenericFilePath>()
            .map_err(|_| not_running())?;
        let stream = Stream::connect(name).map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => not_running(),
            _ => ClientError::Io(err),
        })?;
        check_peer(socket, &stream)?;
        let announced = format!("{client} {}", env!("CARGO_PKG_VERSION"));
        let mut client = Client {
            stream: BufReader::new(stream),
            next_id: 1,
            events: VecDeque::new(),
            daemon_version: String::new(),
            user: None,
            role: None,
        };
        client.send(&ClientFrame::Hello {
            protocol,
            client: announced,
            parts: true,
        })?;
        match client.read_frame()? {
            ServerFrame::Hello {
                protocol: theirs,
                daemon,
                user,
                role,
            } => {
                if theirs != protocol {
                    return Err(ClientError::ProtocolMismatch(mismatch_message(
                        protocol, theirs,
                    )));
                }
                client.daemon_version = daemon;
                client.user = user;
                client.role = role;
                Ok(client)
            }
            ServerFrame::Error { error, .. } if error.code == ErrorCode::ProtocolMismatch => {
                Err(ClientError::ProtocolMismatch(error.message))
            }
            ServerFrame::Error { error, .. } => Err(ClientError::Daemon(error)),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    fn send(&mut self, frame: &ClientFrame) -> Result<(), ClientError> {
        let bytes = encode(frame).map_err(|e| ClientError::Decode(e.to_string()))?;
        let stream = self.stream.get_mut();
        stream.write_all(&bytes)?;
        stream.flush()?;
        Ok(())
    }

    /// The next frame, joined from its parts when boltd sent a long one in pieces.
    fn read_frame(&mut self) -> Result<ServerFrame, ClientError> {
        let mut joined: Option<String> = None;
        loop {
            let frame = self.read_line_frame()?;
            match (frame, joined.as_mut()) {
                (ServerFrame::Part { data, more }, _) => {
                    let text = joined.get_or_insert_with(String::new);
                    if text.len() + data.len() > MAX_JOINED_BYTES {
                        return Err(ClientError::Decode(format!(
                            "a frame of more than {MAX_JOINED_BYTES} bytes"
                        )));
                    }
                    text.push_str(&data);
                    if !more {
                        let text = joined.take().unwrap_or_default();
                        return serde_json::from_str(&text)
                            .map_err(|e| ClientError::Decode(e.to_string()));
                    }
                }
                (_, Some(_)) => {
                    return Err(ClientError::Decode(
                        "a frame came in the middle of another one's parts".into(),
                    ));
                }
                (frame, None) => return Ok(frame),
            }
        }
    }

    fn read_line_frame(&mut self) -> Result<ServerFrame, ClientError> {
        let mut line = Vec::new();
        let read = (&mut self.stream)
            .take(MAX_FRAME_BYTES as u64 + 1)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            return Err(ClientError::Closed);
        }
        if line.last() != Some(&b'\n') {
            return Err(ClientError::Decode("frame too large or cut short".into()));
        }
        serde_json::from_slice(&line).map_err(|e| ClientError::Decode(e.to_string()))
    }

    /// Sends a request and waits for its answer; events arriving meanwhile are queued.
    pub fn request(&mut self, request: Request) -> Result<Response, ClientError> {
        self.request_with_progress(request, &mut |_| {})
    }

    /// Like [`Client::request`], handing each progress frame of this request to `progress`
    /// as it arrives.
    pub fn request_with_progress(
        &mut self,
        request: Request,
        progress: &mut dyn FnMut(InstallProgress),
    ) -> Result<Response, ClientError> {
        self.request_with_events(request, &mut |event| {
            if let ProgressEvent::Install(event) = event {
                progress(event);
            }
        })
    }

    /// Like [`Client::request`], handing every progress frame of this request (installs,
    /// backups) to `progress` as it arrives.
    pub fn request_with_events(
        &mut self,
        request: Request,
        progress: &mut dyn FnMut(ProgressEvent),
    ) -> Result<Response, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&ClientFrame::Request { id, request })?;
        loop {
            match self.read_frame()? {
                ServerFrame::Progress {
                    id: got,
                    progress: event,
                } if got == id => progress(*event),
                ServerFrame::Response { id: got, response } if got == id => return Ok(*response),
                ServerFrame::Error {
                    id: Some(got),
                    error,
                } if got == id => {
                    return Err(ClientError::Daemon(error));
                }
                ServerFrame::Error { id: None, error } => return Err(ClientError::Daemon(error)),
                ServerFrame::Event { event } => self.events.push_back(*event),
                _ => {}
            }
        }
    }

    /// Turns this connection into an event stream.
    pub fn subscribe(&mut self) -> Result<(), ClientError> {
        match self.request(Request::Subscribe)? {
            Response::Subscribed => Ok(()),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Turns this connection into a stream of one run's events (log lines, state changes).
    pub fn subscribe_run(&mut self, run_id: &str) -> Result<(), ClientError> {
        match self.request(Request::SubscribeRun {
            run_id: run_id.to_string(),
        })? {
            Response::Subscribed => Ok(()),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }

    /// Blocks until the next event.
    pub fn next_event(&mut self) -> Result<Event, ClientError> {
        if let Some(event) = self.events.pop_front() {
            return Ok(event);
        }
        loop {
            match self.read_frame()? {
                ServerFrame::Event { event } => return Ok(*event),
                ServerFrame::Error { error, .. } => return Err(ClientError::Daemon(error)),
                _ => {}
            }
        }
    }

    pub fn status(&mut self) -> Result<DaemonStatus, ClientError> {
        match self.request(Request::Status)? {
            Response::Status(status) => Ok(*status),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }
}

/// Refuses a daemon whose uid is not the caller's, root's or the configured `daemon_user`'s:
/// whoever listens on the socket path gets every request, credentials included.
fn check_peer(socket: &Path, stream: &Stream) -> Result<(), ClientError> {
    let creds = stream
        .peer_creds()
        .map_err(|source| ClientError::UnknownPeer {
            path: socket.to_path_buf(),
            source,
        })?;
    let Some(uid) = creds.euid() else {
        return Err(ClientError::UnknownPeer {
            path: socket.to_path_buf(),
            source: std::io::Error::other("the system did not report the daemon's uid"),
        });
    };
    let daemon_user = DAEMON_USER.read().ok().and_then(|u| u.clone());
    if trusted(uid, crate::users::current_uid(), daemon_user.as_deref()) {
        return Ok(());
    }
    Err(ClientError::UntrustedDaemon {
        path: socket.to_path_buf(),
        found: crate::users::describe(uid),
        found_name: crate::users::chown_name(uid),
        you: crate::users::describe(crate::users::current_uid()),
        daemon_user,
    })
}

/// The configured daemon user, as the refusal names it.
fn also_trusted(daemon_user: Option<&str>) -> String {
    match daemon_user {
        Some(user) => format!(" or the configured daemon_user `{user}`"),
        None => String::new(),
    }
}

/// Whether a daemon running as `daemon` may be talked to by `caller`.
fn trusted(daemon: u32, caller: u32, daemon_user: Option<&str>) -> bool {
    daemon == caller
        || daemon == 0
        || daemon_user.is_some_and(|user| crate::users::resolve(user) == Ok(daemon))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trusts_the_caller_root_and_the_daemon_user_only() {
        assert!(trusted(1000, 1000, None));
        assert!(trusted(0, 1000, None));
        assert!(!trusted(1001, 1000, None));
        assert!(
            !trusted(1001, 0, None),
            "root does not trust any user's daemon"
        );
        assert!(trusted(1001, 0, Some("1001")));
        assert!(!trusted(1002, 0, Some("1001")));
        assert!(trusted(0, 1000, Some("root")));
    }
}
