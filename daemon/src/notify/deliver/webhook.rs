//! A webhook channel: the event's JSON POSTed to the URL, signed with HMAC-SHA256 of the
//! body under the channel's secret in `X-Bolt-Signature: sha256=HEX`, so the receiver can
//! tell it came from this boltd. Any 2xx answer is a delivery.

use bolt_shared::notify_config::redact_url;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::OnceLock;
use std::time::Duration;

pub const SIGNATURE_HEADER: &str = "X-Bolt-Signature";

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes a key of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn client() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    // Another part of bolt may have installed the process-wide provider already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .user_agent(concat!("bolt/", env!("CARGO_PKG_VERSION"), " (alerts)"))
        // A redirect would carry the signed body somewhere the operator didn't name.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

pub async fn deliver(
    url: &str,
    secret: &[u8],
    event: &str,
    body: &str,
    timeout: Duration,
) -> Result<(), String> {
    let shown = redact_url(url);
    let response = client()?
        .post(url)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("X-Bolt-Event", event)
        .header(SIGNATURE_HEADER, signature(secret, body.as_bytes()))
        .body(body.to_string())
        .send()
        .await
        // Without the URL: it may hold a token in its query.
        .map_err(|e| format!("POST to {shown} failed: {}", with_causes(&e.without_url())))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{shown} answered HTTP {status}"))
    }
}

/// An error and what caused it, as one line: "error sending request: client error
/// (Connect): tcp connect error: Connection refused (os error 111)".
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        let words = inner.to_string();
        if !text.contains(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_rfc_4231_s_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature(b"Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
