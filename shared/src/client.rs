//! A blocking socket client for `bolt` subcommands and the TUI (which runs it on a thread).

use crate::model::*;
use crate::protocol::*;
use interprocess::local_socket::{GenericFilePath, Stream, ToFsName, prelude::*};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("boltd is not running at {} — start it with `boltd` or `bolt up`", path.display())]
    NotRunning { path: PathBuf },
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
        let announced = format!("{client} {}", env!("CARGO_PKG_VERSION"));
        let mut client = Client {
            stream: BufReader::new(stream),
            next_id: 1,
            events: VecDeque::new(),
            daemon_version: String::new(),
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
            } => {
                if theirs != protocol {
                    return Err(ClientError::ProtocolMismatch(mismatch_message(
                        protocol, theirs,
                    )));
                }
                client.daemon_version = daemon;
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
        let id = self.next_id;
        self.next_id += 1;
        self.send(&ClientFrame::Request { id, request })?;
        loop {
            match self.read_frame()? {
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
            Response::Status(status) => Ok(status),
            other => Err(ClientError::Unexpected(format!("{other:?}"))),
        }
    }
}
