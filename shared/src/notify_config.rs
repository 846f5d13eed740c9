//! `[[notify]]` channels in bolt.toml: where alerts go (a command, a webhook or an email
//! address), on which events, for which workflows, and how many per window.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The events a channel can be told about.
pub const EVENTS: [&str; 3] = ["run_failed", "workflow_changed", "boltd_degraded"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotifyChannel {
    /// A name for `bolt notify test NAME` and `bolt status`; channels without one are
    /// known by their place in the file (`#1`, `#2`…).
    #[serde(default)]
    pub name: Option<String>,
    /// Which events: `run_failed` (failed, crashed, killed, exception or lost),
    /// `workflow_changed`, `boltd_degraded`.
    pub on: Vec<String>,
    /// Only these workflows (key or name); every workflow when absent. boltd-wide events
    /// (`boltd_degraded`) ignore it.
    #[serde(default)]
    pub workflows: Option<Vec<String>>,

    /// A program run with the event's JSON on its stdin; a non-zero exit is a failure.
    #[serde(default)]
    pub command: Option<PathBuf>,
    /// Arguments for `command`.
    #[serde(default)]
    pub args: Vec<String>,
    /// How long `command` (or a webhook request, or an SMTP exchange) may take.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,

    /// An `https://` (or `http://`) URL the event's JSON is POSTed to, signed in
    /// `X-Bolt-Signature: sha256=HEX` (HMAC-SHA256 of the body).
    #[serde(default)]
    pub webhook: Option<String>,
    /// The signing secret, inline. Prefer `secret_credential`.
    #[serde(default)]
    pub secret: Option<String>,
    /// A bolt credential whose `secret` field is the signing secret.
    #[serde(default)]
    pub secret_credential: Option<String>,

    /// An address the event is mailed to, over SMTP.
    #[serde(default)]
    pub email: Option<String>,
    /// The SMTP server: `smtp://host:587` (STARTTLS) or `smtps://host:465` (TLS).
    #[serde(default)]
    pub smtp: Option<String>,
    /// A bolt credential with `username` and `password` fields for the SMTP login.
    #[serde(default)]
    pub smtp_credential: Option<String>,
    /// The sender address.
    #[serde(default)]
    pub from: Option<String>,
    /// A PEM file of the certificate authority that signed the SMTP server's certificate,
    /// trusted besides the system's (a private CA).
    #[serde(default)]
    pub smtp_ca_file: Option<PathBuf>,
    /// STARTTLS on `smtp://` servers. `false` only for a local test sink: the mail and
    /// the login would cross the network in clear text.
    #[serde(default = "default_true")]
    pub starttls: bool,

    /// Most events per workflow in one window; the rest are summed up in one digest when
    /// the window ends.
    #[serde(default = "default_max_per_window")]
    pub max_per_window: u32,
    /// The length of that window.
    #[serde(default = "default_window_secs")]
    pub window_secs: u64,
}

fn default_timeout_secs() -> u64 {
    30
}

fn default_true() -> bool {
    true
}

fn default_max_per_window() -> u32 {
    5
}

fn default_window_secs() -> u64 {
    3600
}

/// Where a channel delivers, as the config says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    Command,
    Webhook,
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Command => "command",
            ChannelKind::Webhook => "webhook",
            ChannelKind::Email => "email",
        }
    }
}

impl NotifyChannel {
    /// `name`, else `#N` (N counts from 1 in file order).
    pub fn key(&self, index: usize) -> String {
        match &self.name {
            Some(name) => name.clone(),
            None => format!("#{}", index + 1),
        }
    }

    /// The kind of channel; [`check_channels`] made sure there is exactly one.
    pub fn kind(&self) -> ChannelKind {
        if self.command.is_some() {
            ChannelKind::Command
        } else if self.webhook.is_some() {
            ChannelKind::Webhook
        } else {
            ChannelKind::Email
        }
    }

    /// Where it delivers, safe to show: no query strings or passwords of URLs.
    pub fn target(&self) -> String {
        match self.kind() {
            ChannelKind::Command => self
                .command
                .as_ref()
                .map(|c| c.display().to_string())
                .unwrap_or_default(),
            ChannelKind::Webhook => self.webhook.as_deref().map(redact_url).unwrap_or_default(),
            ChannelKind::Email => self.email.clone().unwrap_or_default(),
        }
    }

    /// Whether this channel wants `event` about `workflow` (key and name), if any.
    pub fn wants(&self, event: &str, workflow: Option<(&str, &str)>) -> bool {
        if !self.on.iter().any(|e| e == event) {
            return false;
        }
        match (&self.workflows, workflow) {
            (Some(only), Some((key, name))) => only.iter().any(|w| w == key || w == name),
            _ => true,
        }
    }
}

/// `https://host/path`: the scheme, host, port and path, nothing that may be secret.
pub fn redact_url(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let rest = rest.rsplit_once('@').map(|(_, host)| host).unwrap_or(rest);
            format!("{scheme}://{rest}")
        }
        None => without_query.to_string(),
    }
}

/// Checks every `[[notify]]` entry; the message names the entry and the fix.
pub fn check_channels(channels: &[NotifyChannel]) -> Result<(), String> {
    let mut names = std::collections::BTreeSet::new();
    for (index, channel) in channels.iter().enumerate() {
        let at = format!("[[notify]] #{} ({})", index + 1, channel.key(index));
        if let Some(name) = &channel.name {
            if name.trim().is_empty() || name.starts_with('#') {
                return Err(format!(
                    "{at}: name `{name}` is not usable: give a name that does not start with #"
                ));
            }
            if !names.insert(name.clone()) {
                return Err(format!(
                    "{at}: another [[notify]] channel is named `{name}`: names must differ"
                ));
            }
        }
        if channel.on.is_empty() {
            return Err(format!(
                "{at}: `on` is empty: list the events, e.g. on = [\"run_failed\"] (one of {})",
                EVENTS.join(", ")
            ));
        }
        if let Some(unknown) = channel.on.iter().find(|e| !EVENTS.contains(&e.as_str())) {
            return Err(format!(
                "{at}: unknown event `{unknown}` in `on`: use {}",
                EVENTS.join(", ")
            ));
        }
        let targets = [
            channel.command.is_some(),
            channel.webhook.is_some(),
            channel.email.is_some(),
        ];
        if targets.iter().filter(|set| **set).count() != 1 {
            return Err(format!(
                "{at}: give exactly one of `command`, `webhook` or `email`"
            ));
        }
        if channel.max_per_window == 0 || channel.window_secs == 0 || channel.timeout_secs == 0 {
            return Err(format!(
                "{at}: max_per_window, window_secs and timeout_secs must be at least 1"
            ));
        }
        match channel.kind() {
            ChannelKind::Command => {
                let command = channel.command.as_ref().map(|c| c.is_absolute());
                if command != Some(true) {
                    return Err(format!(
                        "{at}: command must be an absolute path (boltd runs it without a shell or PATH lookup)"
                    ));
                }
            }
            ChannelKind::Webhook => {
                let url = channel.webhook.as_deref().unwrap_or_default();
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!(
                        "{at}: webhook `{}` is not an http:// or https:// URL",
                        redact_url(url)
                    ));
                }
                if channel.secret.is_some() == channel.secret_credential.is_some() {
                    return Err(format!(
                        "{at}: a webhook is signed: give `secret_credential` (a bolt credential with a `secret` field) or `secret`, not both"
                    ));
                }
            }
            ChannelKind::Email => {
                let email = channel.email.as_deref().unwrap_or_default();
                if !email.contains('@') {
                    return Err(format!("{at}: email `{email}` is not an address"));
                }
                let smtp = channel.smtp.as_deref().unwrap_or_default();
                if !(smtp.starts_with("smtp://") || smtp.starts_with("smtps://")) {
                    return Err(format!(
                        "{at}: an email channel needs smtp = \"smtp://host:587\" (STARTTLS) or \"smtps://host:465\""
                    ));
                }
                if channel
                    .smtp_ca_file
                    .as_ref()
                    .is_some_and(|path| !path.is_absolute())
                {
                    return Err(format!(
                        "{at}: smtp_ca_file must be an absolute path (boltd may run in another directory)"
                    ));
                }
                if !channel.from.as_deref().is_some_and(|f| f.contains('@')) {
                    return Err(format!(
                        "{at}: an email channel needs from = \"bolt@your.domain\" (the sender address)"
                    ));
                }
            }
        }
        if channel.kind() != ChannelKind::Webhook
            && (channel.secret.is_some() || channel.secret_credential.is_some())
        {
            return Err(format!(
                "{at}: `secret` and `secret_credential` are for webhooks only"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<NotifyChannel>, String> {
        #[derive(Deserialize)]
        struct File {
            notify: Vec<NotifyChannel>,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        check_channels(&file.notify)?;
        Ok(file.notify)
    }

    #[test]
    fn a_channel_needs_exactly_one_target_and_known_events() {
        let err = parse("[[notify]]\non = [\"run_failed\"]\n").unwrap_err();
        assert!(err.contains("exactly one of `command`"), "{err}");
        let err = parse("[[notify]]\non = [\"run_fail\"]\ncommand = \"/bin/true\"\n").unwrap_err();
        assert!(err.contains("unknown event `run_fail`"), "{err}");
        let err = parse(
            "[[notify]]\non = [\"run_failed\"]\nwebhook = \"https://x/\"\ncommand = \"/bin/true\"\n",
        )
        .unwrap_err();
        assert!(err.contains("exactly one"), "{err}");
        let err =
            parse("[[notify]]\non = [\"run_failed\"]\nwebhook = \"https://x/\"\n").unwrap_err();
        assert!(err.contains("secret_credential"), "{err}");
        let err = parse("[[notify]]\non = [\"run_failed\"]\nemail = \"a@b\"\n").unwrap_err();
        assert!(err.contains("smtp = "), "{err}");
        let ok = parse(
            "[[notify]]\nname = \"pager\"\non = [\"run_failed\"]\ncommand = \"/bin/true\"\nworkflows = [\"intake\"]\n",
        )
        .unwrap();
        assert_eq!(ok[0].key(0), "pager");
        assert!(ok[0].wants("run_failed", Some(("intake", "Intake"))));
        assert!(!ok[0].wants("run_failed", Some(("other", "Other"))));
        assert!(!ok[0].wants("workflow_changed", Some(("intake", "Intake"))));
    }

    #[test]
    fn urls_are_shown_without_credentials_or_queries() {
        assert_eq!(
            redact_url("https://user:pw@hooks.example.org/a/b?token=x"),
            "https://hooks.example.org/a/b"
        );
    }
}
