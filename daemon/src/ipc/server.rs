use super::fanout::{EventBatch, Filter};
use super::framing::{Frame, read_frame};
use super::handlers;
use crate::access::Caller;
use crate::daemon::Daemon;
use bolt_shared::access;
use bolt_shared::protocol::*;
use interprocess::local_socket::tokio::{Listener, Stream, prelude::*};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::io::{AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

/// What a connection's writer sends: answers, and events already encoded by the fan-out.
pub enum Outgoing {
    Frame(ServerFrame),
    Events(EventBatch),
}

/// Items waiting for one connection's writer; past it, events are dropped (the subscriber
/// gets a `lagged` notice) and answers wait.
const QUEUE: usize = 64;

/// Accepts clients until `closed` turns true: after the shutdown's drain, so `bolt status`
/// and `bolt stop --now` still work while the runs under way finish.
pub async fn serve(daemon: Arc<Daemon>, listener: Listener, mut closed: watch::Receiver<bool>) {
    tokio::spawn(daemon.fanout.clone().run(daemon.events.subscribe()));
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
    let caller = match Caller::of_stream(&stream) {
        Ok(caller) => caller,
        Err(err) => {
            // Linux always reports its peer; without it nobody can be given a role.
            tracing::warn!(%err, "cannot read a socket client's credentials; closing it");
            return;
        }
    };
    let caller = Arc::new(caller);
    let (read_half, write_half) = tokio::io::split(stream);
    let mut reader = BufReader::with_capacity(64 * 1024, read_half);
    let (out, outgoing) = mpsc::channel::<Outgoing>(QUEUE);
    let parts = Arc::new(AtomicBool::new(false));
    // One writer per connection: answers (from concurrent handlers) and events interleave safely.
    let writer = tokio::spawn(write_frames(write_half, outgoing, parts.clone()));
    let out = FrameSender(out);

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
            ClientFrame::Hello {
                protocol,
                client,
                parts: accepts_parts,
            } => {
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
                parts.store(accepts_parts, Ordering::Relaxed);
                let hello = ServerFrame::Hello {
                    protocol: PROTOCOL_VERSION,
                    daemon: format!("boltd {}", env!("CARGO_PKG_VERSION")),
                    user: Some(caller.name.clone()),
                    role: daemon.access.role_of(&caller),
                };
                let _ = out.send(hello).await;
            }
            ClientFrame::Request { id, .. } if !greeted => {
                let message = "send a hello frame first: {\"type\":\"hello\",\"protocol\":N,\"client\":\"name\"}";
                let _ = out
                    .send(error_frame(Some(id), ErrorCode::NoHandshake, message))
                    .await;
            }
            ClientFrame::Request { id, request } if !permitted(&daemon, &caller, &request) => {
                let kind = access::kind_of(&request);
                let role = daemon.access.role_of(&caller);
                let message = access::refusal(kind, &caller.name, role);
                let _ = out
                    .send(error_frame(Some(id), ErrorCode::Forbidden, message))
                    .await;
            }
            ClientFrame::Request {
                id,
                request: request @ (Request::Subscribe | Request::SubscribeRun { .. }),
            } => {
                if !subscribed {
                    subscribed = true;
                    let filter = match request {
                        Request::SubscribeRun { run_id } => Filter::Run(run_id),
                        _ => Filter::All,
                    };
                    daemon.fanout.subscribe(filter, &out.0);
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
                let progress: handlers::Events = Arc::new(move |event| {
                    let _ = progress_out.try_send(ServerFrame::Progress {
                        id,
                        progress: Box::new(event),
                    });
                });
                let caller = caller.clone();
                tokio::spawn(async move {
                    let handled = crate::actor::acting_as(
                        caller.name.clone(),
                        handlers::handle(&daemon, request, progress, &caller),
                    );
                    let frame = match handled.await {
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

/// Whether the caller's role allows the request (see [`access::TABLE`]).
fn permitted(daemon: &Daemon, caller: &Caller, request: &Request) -> bool {
    access::allows(daemon.access.role_of(caller), access::kind_of(request))
}

/// Sends single frames through a connection's queue.
#[derive(Clone)]
struct FrameSender(mpsc::Sender<Outgoing>);

impl FrameSender {
    async fn send(&self, frame: ServerFrame) -> Result<(), ()> {
        self.0.send(Outgoing::Frame(frame)).await.map_err(|_| ())
    }

    /// Queues a frame only if there is room (for best-effort frames such as progress).
    fn try_send(&self, frame: ServerFrame) -> Result<(), ()> {
        self.0.try_send(Outgoing::Frame(frame)).map_err(|_| ())
    }
}

/// Writes a connection's frames, a queue's worth at a time; long frames go as parts to
/// clients that accept them.
async fn write_frames<W: AsyncWrite + Unpin>(
    mut write_half: W,
    mut outgoing: mpsc::Receiver<Outgoing>,
    parts: Arc<AtomicBool>,
) {
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    while let Some(first) = outgoing.recv().await {
        buffer.clear();
        let mut next = Some(first);
        while let Some(item) = next.take() {
            let accepts_parts = parts.load(Ordering::Relaxed);
            match item {
                Outgoing::Frame(frame) => match encode(&frame) {
                    Ok(line) => push_line(&mut buffer, &line, accepts_parts, Some(&frame)),
                    Err(err) => tracing::error!(%err, "cannot encode a frame"),
                },
                Outgoing::Events(batch) => {
                    for event in batch.iter() {
                        push_line(&mut buffer, &event.line, accepts_parts, None);
                    }
                }
            }
            if buffer.len() < 256 * 1024 {
                next = outgoing.try_recv().ok();
            }
        }
        if write_half.write_all(&buffer).await.is_err() {
            break;
        }
    }
}

/// Appends one frame line: whole, as parts, or (to a client that can't take parts, past
/// the frame limit) as an error saying why it can't have it.
fn push_line(buffer: &mut Vec<u8>, line: &[u8], accepts_parts: bool, frame: Option<&ServerFrame>) {
    if line.len() > PART_BYTES && accepts_parts {
        match split_into_parts(line) {
            Ok(parts) => parts.iter().for_each(|p| buffer.extend_from_slice(p)),
            Err(err) => tracing::error!(%err, "cannot cut a frame into parts"),
        }
        return;
    }
    if line.len() > MAX_FRAME_BYTES {
        let id = match frame {
            Some(ServerFrame::Response { id, .. }) => Some(*id),
            _ => None,
        };
        let message = format!(
            "this answer is {} bytes, over the {MAX_FRAME_BYTES}-byte frame limit of clients that can't take it in parts: use a bolt as new as this boltd",
            line.len()
        );
        if let Ok(error) = encode(&error_frame(id, ErrorCode::Internal, message)) {
            buffer.extend_from_slice(&error);
        }
        return;
    }
    buffer.extend_from_slice(line);
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
