//! A TCP proxy between boltd and its PostgreSQL server, for outages a test can cause
//! without stopping the shared server: [`TcpProxy::pause`] cuts every connection and turns
//! new ones away, [`TcpProxy::resume`] lets them through again.

use anyhow::Context;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// Forwards 127.0.0.1:<ephemeral> to `upstream`; stops when dropped.
pub struct TcpProxy {
    address: SocketAddr,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// Whether connections are cut and turned away. Changed under `open`'s lock, so a
    /// connection being set up is either registered before a pause (and cut by it) or
    /// sees it.
    paused: AtomicBool,
    stopped: AtomicBool,
    /// Both ends of every connection under way, to cut them.
    open: Mutex<Vec<TcpStream>>,
}

impl TcpProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream` ("host:port").
    pub fn start(upstream: &str) -> anyhow::Result<TcpProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the proxy")?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let upstream = upstream.to_string();
        let accepting = shared.clone();
        thread::Builder::new()
            .name("tcp-proxy".into())
            .spawn(move || accept(listener, &upstream, &accepting))
            .context("starting the proxy")?;
        Ok(TcpProxy { address, shared })
    }

    /// "127.0.0.1:port": where clients connect.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// Closes every connection and turns new ones away (each is closed once accepted),
    /// as a database that went away.
    pub fn pause(&self) {
        let mut open = lock(&self.shared.open);
        self.shared.paused.store(true, Ordering::SeqCst);
        for stream in open.drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Lets connections through again.
    pub fn resume(&self) {
        let _open = lock(&self.shared.open);
        self.shared.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.pause();
        // Wakes the accepting thread so it sees the stop.
        let _ = TcpStream::connect(self.address);
    }
}

fn lock(open: &Mutex<Vec<TcpStream>>) -> std::sync::MutexGuard<'_, Vec<TcpStream>> {
    open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn accept(listener: TcpListener, upstream: &str, shared: &Arc<Shared>) {
    for client in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if shared.paused.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        }
        let Ok(server) = TcpStream::connect(upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        if let Err(err) = forward(client, server, shared) {
            eprintln!("tcp proxy: a connection could not be forwarded: {err:#}");
        }
    }
}

/// Registers both ends (unless a pause came first) and copies each way on a thread.
fn forward(client: TcpStream, server: TcpStream, shared: &Arc<Shared>) -> anyhow::Result<()> {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    {
        let mut open = lock(&shared.open);
        if shared.paused.load(Ordering::SeqCst) {
            let _ = client.shutdown(Shutdown::Both);
            let _ = server.shutdown(Shutdown::Both);
            return Ok(());
        }
        open.push(client.try_clone()?);
        open.push(server.try_clone()?);
    }
    let (client_in, server_out) = (client.try_clone()?, server.try_clone()?);
    thread::Builder::new()
        .name("tcp-proxy-up".into())
        .spawn(move || copy(client_in, server_out))?;
    thread::Builder::new()
        .name("tcp-proxy-down".into())
        .spawn(move || copy(server, client))?;
    Ok(())
}

/// Copies until either side closes, then closes both.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// An echo server on an ephemeral port.
    fn echo() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                thread::spawn(move || {
                    let mut reader = stream.try_clone().expect("clone");
                    let mut writer = stream;
                    let _ = std::io::copy(&mut reader, &mut writer);
                });
            }
        });
        address
    }

    fn round_trip(address: &str) -> std::io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(address)?;
        stream.set_read_timeout(Some(Duration::from_secs(2)))?;
        stream.write_all(b"ping")?;
        let mut answer = [0u8; 4];
        stream.read_exact(&mut answer)?;
        Ok(answer.to_vec())
    }

    #[test]
    fn forwards_then_cuts_and_turns_away_then_forwards_again() {
        let proxy = TcpProxy::start(&echo()).expect("proxy");
        assert_eq!(round_trip(&proxy.address()).expect("through"), b"ping");

        let mut held = TcpStream::connect(proxy.address()).expect("connect");
        held.set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        held.write_all(b"ping").expect("write");
        let mut answer = [0u8; 4];
        held.read_exact(&mut answer).expect("echo");
        proxy.pause();
        let mut rest = Vec::new();
        assert!(
            matches!(held.read_to_end(&mut rest), Ok(0) | Err(_)),
            "a held connection is cut"
        );
        assert!(
            round_trip(&proxy.address()).is_err(),
            "new ones are turned away"
        );

        proxy.resume();
        assert_eq!(
            round_trip(&proxy.address()).expect("through again"),
            b"ping"
        );
    }
}
