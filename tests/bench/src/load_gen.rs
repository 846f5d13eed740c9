//! A lean HTTP/1.1 load generator for the webhook benchmark (what `wrk` does): keep-alive
//! connections on loopback, each sending one POST at a time and reading the whole reply.
//! A general-purpose client spends more CPU per request than the daemon does, and on a
//! 2-core machine that CPU is taken from the daemon being measured.
//!
//! Closed loop by default: each connection sends its next request as soon as the last is
//! answered, which finds the most the server can take. With a rate it is open loop: request
//! n is due at start + n / rate, whatever happened to the others, and its latency counts
//! from when it was due, so a stall shows up in the latency of every request it held back
//! (no "coordinated omission").

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct Outcome {
    /// Latency of every request sent, answered or not.
    pub latencies: Vec<Duration>,
    /// Requests that did not get the expected status.
    pub failures: usize,
}

/// When requests are due: as fast as answers come back, or at a fixed rate.
#[derive(Clone, Copy)]
pub enum Pace {
    ClosedLoop,
    /// Requests per second, from the moment the run starts.
    Rate(f64),
}

/// Makes the body of request n.
pub type BodyFor = Arc<dyn Fn(usize) -> String + Send + Sync>;

/// What each request is.
#[derive(Clone)]
pub enum Request {
    /// A POST whose JSON body for request n is `body_for(n)`.
    Post(BodyFor),
    /// A GET with no body.
    Get,
}

impl Request {
    fn text(&self, n: usize, addr: &str, path: &str) -> String {
        match self {
            Request::Post(body_for) => {
                let body = body_for(n);
                format!(
                    "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                )
            }
            Request::Get => format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\n\r\n"),
        }
    }
}

/// Sends `total` requests to `path` on `addr` from `connections` connections.
pub async fn run(
    addr: &str,
    path: &str,
    connections: usize,
    total: usize,
    pace: Pace,
    expect_status: u16,
    request: Request,
) -> anyhow::Result<Outcome> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let due = move |n: usize| match pace {
        Pace::ClosedLoop => None,
        Pace::Rate(rate) => Some(start + Duration::from_secs_f64(n as f64 / rate)),
    };
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, path, next) = (addr.to_string(), path.to_string(), next.clone());
        let request = request.clone();
        tasks.push(tokio::spawn(async move {
            connection(&addr, &path, &next, total, due, expect_status, &request).await
        }));
    }
    let mut outcome = Outcome {
        latencies: Vec::with_capacity(total),
        failures: 0,
    };
    for task in tasks {
        let part = task.await??;
        outcome.latencies.extend(part.latencies);
        outcome.failures += part.failures;
    }
    Ok(outcome)
}

async fn connection(
    addr: &str,
    path: &str,
    next: &AtomicUsize,
    total: usize,
    due: impl Fn(usize) -> Option<Instant>,
    expect_status: u16,
    request: &Request,
) -> anyhow::Result<Outcome> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let mut outcome = Outcome {
        latencies: Vec::new(),
        failures: 0,
    };
    let mut buffer = Vec::with_capacity(4096);
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        if n >= total {
            return Ok(outcome);
        }
        let text = request.text(n, addr, path);
        let at = match due(n) {
            Some(when) => {
                tokio::time::sleep_until(when.into()).await;
                when
            }
            None => Instant::now(),
        };
        stream.write_all(text.as_bytes()).await?;
        let status = read_response(&mut stream, &mut buffer).await?;
        outcome.latencies.push(at.elapsed());
        if status != expect_status {
            outcome.failures += 1;
        }
    }
}

/// Reads one response (head and a Content-Length body) and returns its status code.
async fn read_response(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> anyhow::Result<u16> {
    buffer.clear();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head_end) = find(buffer, b"\r\n\r\n") {
            let head = std::str::from_utf8(&buffer[..head_end])?;
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or_else(|| anyhow::anyhow!("malformed status line"))?;
            let length = head
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            let wanted = head_end + 4 + length;
            while buffer.len() < wanted {
                let read = stream.read(&mut chunk).await?;
                if read == 0 {
                    anyhow::bail!("connection closed mid-body");
                }
                buffer.extend_from_slice(&chunk[..read]);
            }
            return Ok(status);
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            anyhow::bail!("connection closed before a response");
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
