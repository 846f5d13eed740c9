//! The socket data source against a stand-in daemon on a Unix socket: requests get their
//! answers, events stream in, and when the daemon goes away and comes back the source
//! reports it and reconnects by itself.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../src/tui/mod.rs"]
mod tui;

use bolt_shared::model::WorkOrderState;
use bolt_shared::protocol::{
    ClientFrame, Event, PROTOCOL_VERSION, Request, Response, ServerFrame, encode,
};
use std::io::{BufRead, BufReader, Write};
use std::net::Shutdown;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};
use tui::source::{Connection, DataSource, Incoming, SocketSource, Tag};

/// Serves one connection like boltd would, for the frames the TUI uses here.
fn serve(stream: UnixStream) {
    let mut writer = stream.try_clone().unwrap();
    let reader = BufReader::new(stream);
    for line in reader.lines() {
        let Ok(line) = line else { return };
        let frame: ClientFrame = serde_json::from_str(&line).unwrap();
        let reply = match frame {
            ClientFrame::Hello { .. } => ServerFrame::Hello {
                protocol: PROTOCOL_VERSION,
                daemon: "fake boltd".into(),
                user: None,
                role: None,
            },
            ClientFrame::Request { id, request } => {
                let response = match request {
                    Request::Subscribe => Response::Subscribed,
                    Request::Ping => Response::Pong,
                    Request::ListWorkOrders { .. } => {
                        Response::WorkOrders(tui::fixtures::page(3, None))
                    }
                    other => Response::Done {
                        message: format!("{other:?}"),
                    },
                };
                let subscribed = response == Response::Subscribed;
                let bytes = encode(&ServerFrame::Response {
                    id,
                    response: Box::new(response),
                })
                .unwrap();
                if writer.write_all(&bytes).is_err() {
                    return;
                }
                if subscribed {
                    let event = Event::WorkOrderChanged {
                        id: "wo-1".into(),
                        state: WorkOrderState::Running,
                        created: true,
                    };
                    let bytes = encode(&ServerFrame::Event {
                        event: Box::new(event),
                    })
                    .unwrap();
                    let _ = writer.write_all(&bytes);
                }
                continue;
            }
        };
        if writer.write_all(&encode(&reply).unwrap()).is_err() {
            return;
        }
    }
}

/// A running stand-in daemon; `stop` closes the listener and every open connection.
struct FakeDaemon {
    listener: UnixListener,
    streams: Arc<Mutex<Vec<UnixStream>>>,
}

impl FakeDaemon {
    fn start(path: &Path) -> FakeDaemon {
        let listener = UnixListener::bind(path).unwrap();
        let accepting = listener.try_clone().unwrap();
        let streams: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let open = streams.clone();
        thread::spawn(move || {
            for stream in accepting.incoming() {
                let Ok(stream) = stream else { return };
                open.lock().unwrap().push(stream.try_clone().unwrap());
                thread::spawn(move || serve(stream));
            }
        });
        FakeDaemon { listener, streams }
    }

    fn stop(self, path: &Path) {
        for stream in self.streams.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        drop(self.listener);
        std::fs::remove_file(path).unwrap();
    }
}

fn wait_for(
    rx: &Receiver<Incoming>,
    what: &str,
    mut pred: impl FnMut(&Incoming) -> bool,
) -> Incoming {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(incoming) = rx.recv_timeout(Duration::from_millis(100))
            && pred(&incoming)
        {
            return incoming;
        }
    }
    panic!("timed out waiting for {what}");
}

#[test]
fn answers_events_and_reconnects_after_the_daemon_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("boltd.sock");
    let daemon = FakeDaemon::start(&socket);
    let (tx, rx) = channel();
    let mut source = SocketSource::spawn(socket.clone(), tx, |incoming| incoming);

    wait_for(&rx, "connected", |i| {
        matches!(i, Incoming::Connection(Connection::Connected { .. }))
    });
    wait_for(&rx, "the subscribed event", |i| {
        matches!(
            i,
            Incoming::Event(Event::WorkOrderChanged { created: true, .. })
        )
    });
    source.send(
        Tag::HistoryReload,
        Request::ListWorkOrders {
            filter: Default::default(),
            limit: 100,
            after: None,
        },
    );
    match wait_for(&rx, "the page", |i| matches!(i, Incoming::Response { .. })) {
        Incoming::Response { tag, result } => {
            assert_eq!(tag, Tag::HistoryReload);
            assert!(matches!(result, Ok(Response::WorkOrders(page)) if page.rows.len() == 3));
        }
        other => panic!("{other:?}"),
    }

    // The daemon goes away: the status says so, and requests fail with the reason.
    daemon.stop(&socket);
    wait_for(&rx, "down", |i| {
        matches!(i, Incoming::Connection(Connection::Down { .. }))
    });
    source.send(
        Tag::Action {
            what: "ping".into(),
        },
        Request::Ping,
    );
    match wait_for(&rx, "the failed ping", |i| {
        matches!(i, Incoming::Response { .. })
    }) {
        Incoming::Response { result, .. } => assert!(result.unwrap_err().contains("not running")),
        other => panic!("{other:?}"),
    }

    // It comes back: the event connection returns by itself and requests work again.
    let _daemon = FakeDaemon::start(&socket);
    wait_for(&rx, "connected again", |i| {
        matches!(i, Incoming::Connection(Connection::Connected { .. }))
    });
    source.send(
        Tag::Action {
            what: "ping".into(),
        },
        Request::Ping,
    );
    match wait_for(&rx, "the ping after the restart", |i| {
        matches!(i, Incoming::Response { .. })
    }) {
        Incoming::Response { result, .. } => assert_eq!(result.unwrap(), Response::Pong),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_daemon_is_reported_with_backoff_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("none.sock");
    let (tx, rx) = channel();
    let mut source = SocketSource::spawn(socket.clone(), tx, |incoming| incoming);
    let first = wait_for(&rx, "down", |i| {
        matches!(i, Incoming::Connection(Connection::Down { .. }))
    });
    let second = wait_for(&rx, "down again", |i| {
        matches!(i, Incoming::Connection(Connection::Down { .. }))
    });
    match (first, second) {
        (
            Incoming::Connection(Connection::Down { retry_in: a, error }),
            Incoming::Connection(Connection::Down { retry_in: b, .. }),
        ) => {
            assert!(b > a, "the retry interval grows: {a:?} then {b:?}");
            assert!(error.contains("not running"), "{error}");
        }
        _ => unreachable!(),
    }
    source.send(Tag::Workflows, Request::ListWorkflows);
    match wait_for(&rx, "the failed request", |i| {
        matches!(i, Incoming::Response { .. })
    }) {
        Incoming::Response { tag, result } => {
            assert_eq!(tag, Tag::Workflows);
            assert!(result.unwrap_err().contains("not running"));
        }
        other => panic!("{other:?}"),
    }
    // The daemon appears: the event connection comes up on its own.
    let _daemon = FakeDaemon::start(&socket);
    wait_for(&rx, "connected", |i| {
        matches!(i, Incoming::Connection(Connection::Connected { .. }))
    });
}
