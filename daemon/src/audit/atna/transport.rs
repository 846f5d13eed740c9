//! The connection to the syslog collector. A message counts as delivered when the
//! transport has taken it: UDP once sent, TCP and TLS once written and flushed.

use super::syslog::octet_counted;
use bolt_shared::audit::{SyslogTarget, SyslogTransport};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// How long connecting may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub enum Connection {
    Udp(UdpSocket),
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// The TLS settings: the system's roots plus `[audit] syslog_ca`.
pub fn tls_config(extra_ca: Option<&Path>) -> anyhow::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        // A system root rustls can't use is skipped, as the system's other clients do.
        let _ = roots.add(cert);
    }
    if let Some(path) = extra_ca {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|err| {
                anyhow::anyhow!(
                    "[audit] syslog_ca = \"{}\" is not a readable PEM file of certificates: {err}",
                    path.display()
                )
            })?;
        if certs.is_empty() {
            anyhow::bail!(
                "[audit] syslog_ca = \"{}\" holds no certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
                path.display()
            );
        }
        for cert in certs {
            roots.add(cert).map_err(|err| {
                anyhow::anyhow!("a certificate in {} can't be used: {err}", path.display())
            })?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Connection {
    pub async fn open(
        target: &SyslogTarget,
        tls: Option<&Arc<ClientConfig>>,
    ) -> std::io::Result<Connection> {
        let address = (target.host.as_str(), target.port);
        let connect = async {
            match target.transport {
                SyslogTransport::Udp => {
                    let local = if target.host.contains(':') {
                        "[::]:0"
                    } else {
                        "0.0.0.0:0"
                    };
                    let socket = UdpSocket::bind(local).await?;
                    socket.connect(address).await?;
                    Ok(Connection::Udp(socket))
                }
                SyslogTransport::Tcp => Ok(Connection::Tcp(TcpStream::connect(address).await?)),
                SyslogTransport::Tls => {
                    let config = tls.ok_or_else(|| std::io::Error::other("no TLS settings"))?;
                    let name = ServerName::try_from(target.host.clone())
                        .map_err(|err| std::io::Error::other(format!("{}: {err}", target.host)))?;
                    let stream = TcpStream::connect(address).await?;
                    let stream = TlsConnector::from(config.clone())
                        .connect(name, stream)
                        .await?;
                    Ok(Connection::Tls(Box::new(stream)))
                }
            }
        };
        tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| std::io::Error::other("connecting timed out"))?
    }

    /// Whether a stream's collector has gone away: a write would still "succeed" into
    /// the kernel's buffer and be lost, so the deliverer reconnects first. (Collectors
    /// never send anything; end of stream means closed.)
    pub async fn is_closed(&self) -> bool {
        let tcp = match self {
            Connection::Udp(_) => return false,
            Connection::Tcp(stream) => stream,
            Connection::Tls(stream) => stream.get_ref().0,
        };
        let mut byte = [0u8; 1];
        // Polled once: ready means closed (0) or failed; pending means still open.
        match tokio::time::timeout(Duration::ZERO, tcp.peek(&mut byte)).await {
            Ok(Ok(0)) | Ok(Err(_)) => true,
            Ok(Ok(_)) | Err(_) => false,
        }
    }

    /// Hands one syslog message to the transport.
    pub async fn send(&mut self, message: &[u8]) -> std::io::Result<()> {
        match self {
            Connection::Udp(socket) => {
                socket.send(message).await?;
            }
            Connection::Tcp(stream) => {
                stream.write_all(&octet_counted(message)).await?;
                stream.flush().await?;
            }
            Connection::Tls(stream) => {
                stream.write_all(&octet_counted(message)).await?;
                stream.flush().await?;
            }
        }
        Ok(())
    }
}
