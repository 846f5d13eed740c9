//! `bolt credential set|list|show|rm|rotate-key`: values go in; names, keys and non-secret
//! fields come out.

use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_shared::protocol::{Request, Response};
use std::io::Read;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum CredentialCommand {
    /// Create or replace a credential from a JSON file or standard input; or, with
    /// --field/--unset, change some fields and keep the others.
    Set {
        name: String,
        /// JSON file with the credential (default: read standard input).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["field", "field_json", "unset"])]
        from_file: Option<PathBuf>,
        /// Set one field, keeping the others: `password=…`, `oauth.token=…` (dots reach into
        /// objects). Without `=VALUE` the value is read from standard input (one line), so
        /// a secret stays out of the shell's history.
        #[arg(long, value_name = "KEY[=VALUE]")]
        field: Vec<String>,
        /// Set one field to a JSON value (a number, a list…): `port=5432`.
        #[arg(long, value_name = "KEY=JSON")]
        field_json: Vec<String>,
        /// Remove a field, keeping the others.
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show a credential: its fields (secret values masked), the jobs that use it, and who
    /// changed it when.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Make a new encryption key and re-encrypt every credential with it (one transaction);
    /// the old key is kept as a dated backup file next to the key until you remove it.
    RotateKey {
        #[arg(long)]
        json: bool,
    },
    /// List credentials: names, keys and the jobs that use them — never values.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a credential.
    Rm {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(global: &Global, command: &CredentialCommand) -> Result<(), CliError> {
    match command {
        CredentialCommand::Set {
            name,
            field,
            field_json,
            unset,
            json,
            ..
        } if !field.is_empty() || !field_json.is_empty() || !unset.is_empty() => {
            let set = fields(field, field_json)?;
            let mut client = global.connect()?;
            match client.request(Request::CredentialUpdate {
                name: name.clone(),
                set,
                unset: unset.clone(),
            })? {
                Response::Done { message } => output::done(*json, &message, &[("name", name)])?,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            }
        }
        CredentialCommand::Show { name, json } => {
            let mut client = global.connect()?;
            let detail = match client.request(Request::CredentialShow { name: name.clone() })? {
                Response::Credential(detail) => detail,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            };
            if *json {
                output::print_json(&detail)?;
            } else {
                print_detail(&detail);
            }
        }
        CredentialCommand::RotateKey { json } => {
            let mut client = global.connect()?;
            let rotation = match client.request(Request::RotateKey)? {
                Response::KeyRotated(rotation) => rotation,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            };
            if *json {
                output::print_json(&rotation)?;
            } else {
                crate::say!(
                    "new key in {} (key check {}); {} credential{} re-encrypted",
                    rotation.key_file,
                    rotation.key_check,
                    rotation.credentials,
                    if rotation.credentials == 1 { "" } else { "s" }
                );
                crate::say!(
                    "the old key is kept in {}: backups made before now need it; remove it once they are gone",
                    rotation.old_key_backup
                );
            }
        }
        CredentialCommand::Set {
            name,
            from_file,
            json,
            ..
        } => {
            let text = match from_file {
                Some(path) => std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("reading the credential from standard input")?;
                    text
                }
            };
            // Parse errors must not echo the secret text back.
            let body: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                anyhow!("the credential is not valid JSON (line {}, column {}): write an object such as {{\"username\": \"…\", \"password\": \"…\"}}", e.line(), e.column())
            })?;
            let mut client = global.connect()?;
            match client.request(Request::CredentialSet {
                name: name.clone(),
                body,
            })? {
                Response::Done { message } => output::done(*json, &message, &[("name", name)])?,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            }
        }
        CredentialCommand::List { json } => {
            let mut client = global.connect()?;
            let list = match client.request(Request::CredentialList)? {
                Response::Credentials { credentials } => credentials,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            };
            if *json {
                output::print_json(&list)?;
            } else if list.is_empty() {
                crate::say!("no credentials");
            } else {
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|c| {
                        let keys = if c.keys.is_empty() {
                            "(not set)".to_string()
                        } else {
                            c.keys.join(", ")
                        };
                        vec![c.name.clone(), keys, c.used_by.join(", ")]
                    })
                    .collect();
                crate::say!("{}", output::table(&["NAME", "KEYS", "USED BY"], &rows));
            }
        }
        CredentialCommand::Rm { name, json } => {
            let mut client = global.connect()?;
            match client.request(Request::CredentialRemove { name: name.clone() })? {
                Response::Done { message } => output::done(*json, &message, &[("name", name)])?,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            }
        }
    }
    Ok(())
}

/// `--field k=v`, `--field k` (value from standard input) and `--field-json k=JSON` as one map.
fn fields(
    plain: &[String],
    json: &[String],
) -> Result<serde_json::Map<String, serde_json::Value>, CliError> {
    let mut out = serde_json::Map::new();
    let mut from_stdin = None;
    for spec in plain {
        match spec.split_once('=') {
            Some((key, value)) => {
                out.insert(
                    key.to_string(),
                    serde_json::Value::String(value.to_string()),
                );
            }
            None if from_stdin.is_none() => from_stdin = Some(spec.clone()),
            None => {
                return Err(anyhow!(
                    "only one --field may read its value from standard input; give the others as KEY=VALUE"
                )
                .into());
            }
        }
    }
    if let Some(key) = from_stdin {
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            crate::say_err!("value of {key} (one line, then Enter):");
        }
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the field's value from standard input")?;
        let value = line.trim_end_matches(['\n', '\r']).to_string();
        out.insert(key, serde_json::Value::String(value));
    }
    for spec in json {
        let Some((key, text)) = spec.split_once('=') else {
            return Err(anyhow!("--field-json takes KEY=JSON, e.g. port=5432").into());
        };
        // The error must not echo the value (it may be secret).
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|_| anyhow!("the value of --field-json {key}=… is not valid JSON"))?;
        out.insert(key.to_string(), value);
    }
    for key in out.keys() {
        if key.is_empty() {
            return Err(anyhow!("a field needs a name: --field KEY=VALUE").into());
        }
    }
    Ok(out)
}

fn print_detail(detail: &bolt_shared::credential_view::CredentialDetail) {
    crate::say!("credential {}", detail.name);
    let rows: Vec<Vec<String>> = detail
        .fields
        .iter()
        .map(|f| {
            let value = match (&f.value, f.secret) {
                (_, true) => "******** (secret)".to_string(),
                (Some(serde_json::Value::String(s)), false) => s.clone(),
                (Some(v), false) => v.to_string(),
                (None, false) => String::new(),
            };
            vec![f.key.clone(), value]
        })
        .collect();
    crate::say!("{}", output::table(&["FIELD", "VALUE"], &rows));
    let local = |t: &chrono::DateTime<chrono::Utc>| bolt_shared::time::rule().stamp(*t);
    crate::say!(
        "\nused by: {}",
        if detail.used_by.is_empty() {
            "no job".to_string()
        } else {
            detail.used_by.join(", ")
        }
    );
    crate::say!(
        "created {}, last changed {}",
        local(&detail.created_at),
        local(&detail.updated_at)
    );
    if !detail.history.is_empty() {
        crate::say!("\nhistory:");
        let rows: Vec<Vec<String>> = detail
            .history
            .iter()
            .map(|c| {
                let mut what = c.action.clone();
                if !c.set.is_empty() {
                    what.push_str(&format!(" (set {})", c.set.join(", ")));
                }
                if !c.unset.is_empty() {
                    what.push_str(&format!(" (removed {})", c.unset.join(", ")));
                }
                vec![
                    bolt_shared::time::rule().when(c.at, chrono::Utc::now()),
                    c.actor.clone(),
                    what,
                ]
            })
            .collect();
        let when = format!("WHEN ({})", bolt_shared::time::rule().zone_label());
        crate::say!("{}", output::table(&[&when, "WHO", "WHAT"], &rows));
    }
}
