//! An email channel: the event as a plain-text mail over SMTP, STARTTLS on `smtp://`
//! (required, unless the channel says `starttls = false` for a local test sink) or TLS on
//! `smtps://`, logging in with a bolt credential's `username` and `password`.

use bolt_shared::notify_config::{NotifyChannel, redact_url};
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// An SMTP login.
pub struct Login {
    pub username: String,
    pub password: String,
}

/// TLS that trusts the system's authorities and the one in `ca_file`.
fn trusting(host: &str, ca_file: &std::path::Path) -> Result<TlsParameters, String> {
    let shown = ca_file.display();
    let pem =
        std::fs::read(ca_file).map_err(|e| format!("cannot read smtp_ca_file {shown}: {e}"))?;
    let ca = Certificate::from_pem(&pem)
        .map_err(|e| format!("smtp_ca_file {shown} holds no PEM certificate: {e}"))?;
    TlsParameters::builder(host.to_string())
        .add_root_certificate(ca)
        .build()
        .map_err(|e| format!("cannot set up TLS with smtp_ca_file {shown}: {e}"))
}

pub async fn deliver(
    channel: &NotifyChannel,
    login: Option<Login>,
    subject: &str,
    text: &str,
    timeout: Duration,
) -> Result<(), String> {
    let server = channel.smtp.as_deref().unwrap_or_default();
    let shown = redact_url(server);
    let url = url::Url::parse(server).map_err(|e| format!("smtp `{shown}` is not a URL: {e}"))?;
    let host = url
        .host_str()
        .ok_or_else(|| format!("smtp `{shown}` names no host"))?;
    let implicit_tls = url.scheme() == "smtps";
    let port = url.port().unwrap_or(if implicit_tls { 465 } else { 587 });
    let _ = rustls::crypto::ring::default_provider().install_default();
    let builder = match &channel.smtp_ca_file {
        Some(ca_file) => {
            let params = trusting(host, ca_file)?;
            let tls = if implicit_tls {
                Tls::Wrapper(params)
            } else if channel.starttls {
                Tls::Required(params)
            } else {
                Tls::None
            };
            Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).tls(tls))
        }
        None if implicit_tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
        None if channel.starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
        None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(
            host,
        )),
    }
    .map_err(|e| format!("cannot set up TLS for {shown}: {e}"))?;
    let mut builder = builder.port(port).timeout(Some(timeout));
    if let Some(login) = login {
        builder = builder.credentials(Credentials::new(login.username, login.password));
    }
    let transport = builder.build();
    let from = channel.from.as_deref().unwrap_or_default();
    let to = channel.email.as_deref().unwrap_or_default();
    let message = Message::builder()
        .from(
            from.parse()
                .map_err(|e| format!("from `{from}` is not a mail address: {e}"))?,
        )
        .to(to
            .parse()
            .map_err(|e| format!("email `{to}` is not a mail address: {e}"))?)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(text.to_string())
        .map_err(|e| format!("cannot build the mail: {e}"))?;
    let sent = tokio::time::timeout(timeout, transport.send(message)).await;
    match sent {
        Err(_) => Err(format!(
            "{shown} did not take the mail within {} s",
            timeout.as_secs()
        )),
        Ok(Err(e)) => Err(format!("sending the mail through {shown} failed: {e}")),
        Ok(Ok(_)) => Ok(()),
    }
}
