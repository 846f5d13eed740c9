//! `bolt credential set|list|rm`: values go in, only names and keys come out.

use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_shared::protocol::{Request, Response};
use std::io::Read;
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum CredentialCommand {
    /// Create or replace a credential from a JSON file or standard input.
    Set {
        name: String,
        /// JSON file with the credential (default: read standard input).
        #[arg(long, value_name = "FILE")]
        from_file: Option<PathBuf>,
    },
    /// List credentials: names, keys and the jobs that use them — never values.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove a credential.
    Rm { name: String },
}

pub fn run(global: &Global, command: &CredentialCommand) -> Result<(), CliError> {
    match command {
        CredentialCommand::Set { name, from_file } => {
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
                Response::Done { message } => crate::say!("{message}"),
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
        CredentialCommand::Rm { name } => {
            let mut client = global.connect()?;
            match client.request(Request::CredentialRemove { name: name.clone() })? {
                Response::Done { message } => crate::say!("{message}"),
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            }
        }
    }
    Ok(())
}
