//! Sends one event to one channel: the secrets it needs are read from bolt's credentials
//! at the time of sending, and never appear in what the channel's errors say.

pub mod command;
pub mod email;
pub mod webhook;

use crate::daemon::Daemon;
use bolt_shared::notify_config::{ChannelKind, NotifyChannel};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Delivers `payload` (an event's JSON) through `channel`.
pub async fn deliver(
    daemon: &Arc<Daemon>,
    channel: &NotifyChannel,
    at: &str,
    payload: &str,
) -> Result<(), String> {
    let parsed: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let event = parsed
        .get("event")
        .and_then(Value::as_str)
        .unwrap_or("event")
        .to_string();
    let timeout = Duration::from_secs(channel.timeout_secs);
    match channel.kind() {
        ChannelKind::Command => {
            let program = channel
                .command
                .as_deref()
                .unwrap_or(std::path::Path::new(""));
            command::deliver(program, &channel.args, &event, payload, timeout).await
        }
        ChannelKind::Webhook => {
            let secret = match (&channel.secret, &channel.secret_credential) {
                (Some(secret), _) => secret.clone(),
                (None, Some(name)) => {
                    let body = credential(daemon, name, at, "secret_credential").await?;
                    field(&body, "secret").ok_or_else(|| {
                        format!("credential `{name}` (secret_credential of {at}) has no `secret` field: set it with `bolt credential set {name}` and a body like {{\"secret\": \"...\"}}")
                    })?
                }
                (None, None) => return Err(format!("{at} has no secret to sign with")),
            };
            let url = channel.webhook.as_deref().unwrap_or_default();
            webhook::deliver(url, secret.as_bytes(), &event, payload, timeout).await
        }
        ChannelKind::Email => {
            let login = match &channel.smtp_credential {
                Some(name) => {
                    let body = credential(daemon, name, at, "smtp_credential").await?;
                    let (Some(username), Some(password)) =
                        (field(&body, "username"), field(&body, "password"))
                    else {
                        return Err(format!(
                            "credential `{name}` (smtp_credential of {at}) needs `username` and `password` fields"
                        ));
                    };
                    Some(email::Login { username, password })
                }
                None => None,
            };
            let summary = parsed
                .get("summary")
                .and_then(Value::as_str)
                .unwrap_or(&event);
            let subject = format!("[bolt] {summary}");
            let pretty = serde_json::to_string_pretty(&parsed).unwrap_or_else(|_| payload.into());
            let text = format!("{summary}\n\n{pretty}\n");
            email::deliver(channel, login, &subject, &text, timeout).await
        }
    }
}

/// A credential's decrypted body.
async fn credential(
    daemon: &Arc<Daemon>,
    name: &str,
    at: &str,
    setting: &str,
) -> Result<Value, String> {
    let vault = daemon.vault.clone();
    let wanted = name.to_string();
    let body = daemon
        .store
        .readers
        .read(move |conn| crate::credentials::load(conn, &vault, &wanted))
        .await
        .map_err(|e| format!("cannot read credential `{name}` ({setting} of {at}): {e}"))?;
    body.ok_or_else(|| {
        format!("credential `{name}` ({setting} of {at}) does not exist: create it with `bolt credential set {name}`")
    })
}

fn field(body: &Value, name: &str) -> Option<String> {
    body.get(name).and_then(Value::as_str).map(str::to_string)
}
