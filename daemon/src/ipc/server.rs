use super::framing::{Frame, read_frame};
use super::handlers;
use crate::daemon::Daemon;
use bolt_shared::protocol::*;
use interprocess::local_socket::tokio::{Listener, Stream, prelude::*};
use std::sync::Arc;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

/// Accepts clients until `closed` turns true: after the shutdown's drain, so `bolt status`
/// and `bolt stop --now` still work while the runs under way finish.
pub async fn serve(daemon: Arc<Daemon>, listener: Listener, mut closed: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(stream) => {
                    let daemon = daemon.clone();
                    tokio::spawn(async move { connection(daemon, stream).await });
                }
                Err(err) => {
                    tracing::warn!(%err, "accepting a socket client failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = closed.changed() => break,
        }
    }
}

async fn connection(daemon: Arc<Daemon>, stream: Stream) {
    let (read_half, mut write_half) = tokio::io::split(stream);
    let mut reader = BufReader::with_capacity(64 * 1024, read_half);
    let (out, mut outgoing) = mpsc::channel::<ServerFrame>(1024);

    // One writer per connection: responses (from concurrent handlers) and events interleave safely.
    let writer = tokio::spawn(async move {
        while let Some(frame) = outgoing.recv().await {
            let bytes = match encode(&frame) {
                Ok(bytes) => bytes,
                Err(err) => {
                    tracing::error!(%err, "cannot encode a frame");
                    continue;
                }
            };
            if write_half.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });

    let mut greeted = false;
    let mut subscribed = false;
    loop {
        let line = match read_frame(&mut reader, MAX_FRAME_BYTES).await {
            Ok(Frame::Line(line)) => line,
            Ok(Frame::TooLarge(size)) => {
                let message = format!(
                    "frame of {size} bytes is over the {MAX_FRAME_BYTES}-byte limit and was ignored"
                );
                let _ = out
                    .send(error_frame(None, ErrorCode::BadFrame, message))
                    .await;
                continue;
            }
            Ok(Frame::Closed) | Err(_) => break,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let frame: ClientFrame = match serde_json::from_slice(&line) {
            Ok(frame) => frame,
            Err(err) => {
                let message = format!(
                    "cannot read this frame ({err}): send one JSON object per line, see the protocol in bolt-shared"
                );
                let _ = out
                    .send(error_frame(request_id(&line), ErrorCode::BadFrame, message))
                    .await;
                continue;
            }
        };
        match frame {
            ClientFrame::Hello { protocol, client } => {
                if protocol != PROTOCOL_VERSION {
                    let message = format!(
                        "{client} speaks protocol {protocol}, boltd {} speaks {PROTOCOL_VERSION}: restart boltd (or use the matching bolt)",
                        env!("CARGO_PKG_VERSION")
                    );
                    let _ = out
                        .send(error_frame(None, ErrorCode::ProtocolMismatch, message))
                        .await;
                    break;
                }
                greeted = true;
                let hello = ServerFrame::Hello {
                    protocol: PROTOCOL_VERSION,
                    daemon: format!("boltd {}", env!("CARGO_PKG_VERSION")),
                };
                let _ = out.send(hello).await;
            }
            ClientFrame::Request { id, .. } if !greeted => {
                let message = "send a hello frame first: {\"type\":\"hello\",\"protocol\":N,\"client\":\"name\"}";
                let _ = out
                    .send(error_frame(Some(id), ErrorCode::NoHandshake, message))
                    .await;
            }
            ClientFrame::Request {
                id,
                request: Request::Subscribe,
            } => {
                if !subscribed {
                    subscribed = true;
                    tokio::spawn(forward_events(daemon.clone(), out.clone()));
                }
                let _ = out
                    .send(ServerFrame::Response {
                        id,
                        response: Box::new(Response::Subscribed),
                    })
                    .await;
            }
            ClientFrame::Request { id, request } => {
                let daemon = daemon.clone();
                let out = out.clone();
                let progress_out = out.clone();
                // Progress is best effort: a client too slow to read it loses some frames,
                // never the response.
                let progress: handlers::Progress = Arc::new(move |event| {
                    let _ = progress_out.try_send(ServerFrame::Progress {
                        id,
                        progress: Box::new(event),
                    });
                });
                tokio::spawn(async move {
                    let frame = match handlers::handle(&daemon, request, progress).await {
                        Ok(response) => ServerFrame::Response {
                            id,
                            response: Box::new(response),
                        },
                        Err(error) => ServerFrame::Error {
                            id: Some(id),
                            error,
                        },
                    };
                    let _ = out.send(frame).await;
                });
            }
        }
    }
    drop(out);
    let _ = writer.await;
}

async fn forward_events(daemon: Arc<Daemon>, out: mpsc::Sender<ServerFrame>) {
    let mut events = daemon.events.subscribe();
    loop {
        let event = match events.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                Event::Lagged { missed }
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
        };
        if out
            .send(ServerFrame::Event {
                event: Box::new(event),
            })
            .await
            .is_err()
        {
            break;
        }
    }
}

fn error_frame(id: Option<u64>, code: ErrorCode, message: impl Into<String>) -> ServerFrame {
    ServerFrame::Error {
        id,
        error: ErrorBody::new(code, message),
    }
}

/// Best effort: the id of a request we could not fully parse, so the client can match the error.
fn request_id(line: &[u8]) -> Option<u64> {
    serde_json::from_slice::<serde_json::Value>(line)
        .ok()?
        .get("id")?
        .as_u64()
}
