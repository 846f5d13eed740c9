//! `bolt collections list|get|set|rm|export|create|delete`: a project's collections (the
//! key-value store jobs use through the collections adaptor), from a shell.
//!
//! Keys with a `*` are patterns, as the adaptor reads them (`get` and `rm` act on every
//! matching item). Values are JSON text, as the adaptor stores them: `set` takes JSON and
//! `get` shows it parsed; `export` writes items exactly as stored.

use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_shared::client::Client;
use bolt_shared::model::{CollectionItem, CollectionSummary};
use bolt_shared::protocol::{Request, Response};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CollectionsArgs {
    /// The project (needed only when boltd has several).
    #[arg(long, global = true, value_name = "NAME")]
    pub project: Option<String>,
    #[command(subcommand)]
    pub command: CollectionsCommand,
}

#[derive(clap::Subcommand, Debug)]
pub enum CollectionsCommand {
    /// List the project's collections with their item counts and sizes.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show the value of KEY, or every item whose key matches a pattern (`2025-05:*`).
    Get {
        name: String,
        key: String,
        /// With a pattern: show at most N items.
        #[arg(long, value_name = "N", value_parser = super::positive_limit)]
        limit: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// Set KEY to a JSON value (`--value '{"a": 1}'`; `-` or no --value reads standard input).
    Set {
        name: String,
        key: String,
        #[arg(long, value_name = "JSON|-")]
        value: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove KEY, or every item whose key matches a pattern (`waiting:*`).
    Rm {
        name: String,
        key: String,
        #[arg(long)]
        json: bool,
    },
    /// Write every item of a collection as JSON (keys, values as stored, timestamps).
    Export {
        name: String,
        /// Write to this file instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Accepted for symmetry: the export is always JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create an empty collection (as `collections:` in project.yaml does on deploy).
    Create {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a collection and every item in it.
    Delete {
        name: String,
        /// Confirm: the items cannot be recovered.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Items asked for per request while paging.
const PAGE: u32 = 1000;

pub fn run(global: &Global, args: &CollectionsArgs) -> Result<(), CliError> {
    let project = args.project.clone();
    match &args.command {
        CollectionsCommand::List { json } => {
            let mut client = global.connect()?;
            let (project, collections) =
                match client.request(Request::CollectionList { project })? {
                    Response::Collections {
                        project,
                        collections,
                    } => (project, collections),
                    other => return Err(anyhow!("unexpected answer: {other:?}").into()),
                };
            if *json {
                output::print_json(&collections)?;
            } else if collections.is_empty() {
                println!("project {project} has no collections");
            } else {
                println!("{}", collection_table(&collections));
            }
        }
        CollectionsCommand::Get {
            name,
            key,
            limit,
            json,
        } => {
            let mut client = global.connect()?;
            if key.contains('*') {
                let items = all_items(
                    &mut client,
                    &project,
                    name,
                    Some(key),
                    limit.map(|l| l as usize),
                )?;
                if *json {
                    let shown: Vec<Value> = items.iter().map(item_json).collect();
                    output::print_json(&shown)?;
                } else if items.is_empty() {
                    println!("no keys match `{key}` in collection {name}");
                } else {
                    println!("{}", item_table(&items));
                }
            } else {
                let item = match client.request(Request::CollectionGet {
                    project,
                    name: name.clone(),
                    key: key.clone(),
                })? {
                    Response::CollectionItem { item, .. } => item,
                    other => return Err(anyhow!("unexpected answer: {other:?}").into()),
                };
                let Some(item) = item else {
                    return Err(anyhow!("collection {name} has no key `{key}`").into());
                };
                if *json {
                    output::print_json(&item_json(&item))?;
                } else {
                    match serde_json::from_str::<Value>(&item.value) {
                        Ok(value) => println!(
                            "{}",
                            serde_json::to_string_pretty(&value).map_err(anyhow::Error::from)?
                        ),
                        Err(_) => println!("{}", item.value),
                    }
                }
            }
        }
        CollectionsCommand::Set {
            name,
            key,
            value,
            json,
        } => {
            let text = match value.as_deref() {
                Some("-") | None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("reading the value from standard input")?;
                    text
                }
                Some(text) => text.to_string(),
            };
            let parsed: Value = serde_json::from_str(&text).map_err(|e| {
                anyhow!(
                    "the value is not valid JSON ({e}); write text as a JSON string, e.g. --value '\"hello\"'"
                )
            })?;
            let mut client = global.connect()?;
            let answer = client.request(Request::CollectionSet {
                project,
                name: name.clone(),
                key: key.clone(),
                value: serde_json::to_string(&parsed).map_err(anyhow::Error::from)?,
            })?;
            print_change(
                answer,
                *json,
                |count| json!({"collection": name, "key": key, "upserted": count}),
            )?;
        }
        CollectionsCommand::Rm { name, key, json } => {
            let mut client = global.connect()?;
            let answer = client.request(Request::CollectionRemove {
                project,
                name: name.clone(),
                key: key.clone(),
            })?;
            print_change(
                answer,
                *json,
                |count| json!({"collection": name, "key": key, "deleted": count}),
            )?;
        }
        CollectionsCommand::Export { name, output, .. } => {
            let mut client = global.connect()?;
            export(&mut client, &project, name, output.as_ref())?;
        }
        CollectionsCommand::Create { name, json } => {
            let mut client = global.connect()?;
            let answer = client.request(Request::CollectionCreate {
                project,
                name: name.clone(),
            })?;
            print_change(
                answer,
                *json,
                |count| json!({"collection": name, "created": count == 1}),
            )?;
        }
        CollectionsCommand::Delete { name, yes, json } => {
            if !yes {
                return Err(anyhow!(
                    "this deletes collection {name} and every item in it: add --yes to go ahead"
                )
                .into());
            }
            let mut client = global.connect()?;
            let answer = client.request(Request::CollectionDelete {
                project,
                name: name.clone(),
            })?;
            print_change(
                answer,
                *json,
                |count| json!({"collection": name, "deleted_items": count}),
            )?;
        }
    }
    Ok(())
}

fn print_change(
    answer: Response,
    json: bool,
    shape: impl FnOnce(u64) -> Value,
) -> Result<(), CliError> {
    match answer {
        Response::CollectionChanged {
            project,
            message,
            count,
            ..
        } => {
            if json {
                let mut value = shape(count);
                if let Value::Object(map) = &mut value {
                    map.insert("project".into(), Value::String(project));
                }
                output::print_json(&value)?;
            } else {
                println!("{message}");
            }
            Ok(())
        }
        other => Err(anyhow!("unexpected answer: {other:?}").into()),
    }
}

/// An item for `--json`: the value parsed when it is JSON (as the adaptor stores values),
/// else the text as it is.
fn item_json(item: &CollectionItem) -> Value {
    json!({
        "key": item.key,
        "value": serde_json::from_str::<Value>(&item.value).unwrap_or_else(|_| Value::String(item.value.clone())),
        "created": item.created,
        "updated": item.updated,
    })
}

/// Pages through the items matching `pattern` (all, or up to `limit`).
fn all_items(
    client: &mut Client,
    project: &Option<String>,
    name: &str,
    pattern: Option<&String>,
    limit: Option<usize>,
) -> Result<Vec<CollectionItem>, CliError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = PAGE.min(
            limit
                .map(|l| l.saturating_sub(items.len()))
                .unwrap_or(usize::MAX)
                .try_into()
                .unwrap_or(u32::MAX),
        );
        if page == 0 {
            break;
        }
        match client.request(Request::CollectionItems {
            project: project.clone(),
            name: name.to_string(),
            pattern: pattern.cloned(),
            cursor: cursor.take(),
            limit: page,
        })? {
            Response::CollectionItems {
                items: got,
                cursor: next,
                ..
            } => {
                items.extend(got);
                match next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            other => return Err(anyhow!("unexpected answer: {other:?}").into()),
        }
    }
    Ok(items)
}

/// Streams the whole collection as one JSON document, a page at a time.
fn export(
    client: &mut Client,
    project: &Option<String>,
    name: &str,
    path: Option<&PathBuf>,
) -> Result<(), CliError> {
    let mut out: Box<dyn Write> = match path {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot write {}", path.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut cursor = None;
    let mut first = true;
    let mut count = 0usize;
    loop {
        let (project_name, items, next) = match client.request(Request::CollectionItems {
            project: project.clone(),
            name: name.to_string(),
            pattern: None,
            cursor: cursor.take(),
            limit: PAGE,
        })? {
            Response::CollectionItems {
                project,
                items,
                cursor,
                ..
            } => (project, items, cursor),
            other => return Err(anyhow!("unexpected answer: {other:?}").into()),
        };
        if first {
            write!(
                out,
                "{{\"project\": {}, \"collection\": {}, \"items\": [",
                serde_json::to_string(&project_name).map_err(anyhow::Error::from)?,
                serde_json::to_string(name).map_err(anyhow::Error::from)?
            )
            .context("writing the export")?;
        }
        for item in &items {
            let separator = if first && count == 0 { "\n  " } else { ",\n  " };
            write!(
                out,
                "{separator}{}",
                serde_json::to_string(item).map_err(anyhow::Error::from)?
            )
            .context("writing the export")?;
            count += 1;
        }
        first = false;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    writeln!(out, "{}]}}", if count == 0 { "" } else { "\n" }).context("writing the export")?;
    out.flush().context("writing the export")?;
    if let Some(path) = path {
        eprintln!(
            "exported {count} item{} of collection {name} to {}",
            if count == 1 { "" } else { "s" },
            path.display()
        );
    }
    Ok(())
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{size:.1} {}", UNITS[unit])
    }
}

fn collection_table(collections: &[CollectionSummary]) -> String {
    let rows: Vec<Vec<String>> = collections
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.items.to_string(),
                human_bytes(c.bytes),
                bolt_shared::time::rule().when(c.updated_at, chrono::Utc::now()),
            ]
        })
        .collect();
    let updated = format!("UPDATED ({})", bolt_shared::time::rule().zone_label());
    output::table(&["NAME", "ITEMS", "SIZE", &updated], &rows)
}

/// Values are shown on one line, cut to fit a terminal row.
fn item_table(items: &[CollectionItem]) -> String {
    const WIDTH: usize = 60;
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| {
            let compact = serde_json::from_str::<Value>(&i.value)
                .map(|v| v.to_string())
                .unwrap_or_else(|_| i.value.replace('\n', " "));
            let shown = if compact.chars().count() > WIDTH {
                let cut: String = compact.chars().take(WIDTH - 1).collect();
                format!("{cut}…")
            } else {
                compact
            };
            vec![
                i.key.clone(),
                bolt_shared::time::rule().when(i.updated, chrono::Utc::now()),
                shown,
            ]
        })
        .collect();
    let updated = format!("UPDATED ({})", bolt_shared::time::rule().zone_label());
    output::table(&["KEY", &updated, "VALUE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn json_items_show_parsed_values_and_keep_plain_text() {
        let at = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let item = |value: &str| CollectionItem {
            key: "k".into(),
            value: value.into(),
            created: at,
            updated: at,
        };
        assert_eq!(item_json(&item("{\"a\":1}"))["value"], json!({"a": 1}));
        assert_eq!(item_json(&item("plain text"))["value"], json!("plain text"));
    }
}
