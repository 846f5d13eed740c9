//! `bolt store copy --to URL`: moves a stopped data dir's SQLite store into an empty
//! PostgreSQL database that several boltd nodes can share. It runs here, not in boltd:
//! it holds the data dir's pidfile lock, so boltd can't start (or be running) meanwhile.

use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_daemon::process::lifecycle::PidLock;
use bolt_daemon::secrets::KEY_FILE;
use bolt_daemon::store::DB_FILE;
use bolt_daemon::store::copy::{self, Copied, PgSettings, Progress};
use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;

#[derive(clap::Subcommand, Debug)]
pub enum StoreCommand {
    /// Copy this data dir's store (boltd stopped) into an empty PostgreSQL database, then
    /// verify the counts: `bolt store copy --to postgres://bolt@db/bolt`.
    Copy(CopyArgs),
}

#[derive(clap::Args, Debug)]
pub struct CopyArgs {
    /// The PostgreSQL database to fill (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE
    /// ?sslmode=…); without a password in it, PGPASSWORD is used.
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Print the summary as JSON (progress lines on stderr are JSON too).
    #[arg(long)]
    pub json: bool,
}

/// Where PostgreSQL's password is read when the URL has none, as libpq does.
const PASSWORD_VARIABLE: &str = "PGPASSWORD";

pub fn run(global: &Global, command: &StoreCommand) -> Result<(), CliError> {
    match command {
        StoreCommand::Copy(args) => copy_store(global, args),
    }
}

fn copy_store(global: &Global, args: &CopyArgs) -> Result<(), CliError> {
    let target = target_settings(&args.to, std::env::var(PASSWORD_VARIABLE).ok())?;
    let data_dir = global.resolve()?.data_dir;
    let db_path = data_dir.join(DB_FILE);
    if !db_path.is_file() {
        return Err(anyhow!(
            "there is no store in {} (no {DB_FILE}): give the data dir of the boltd to copy with --data-dir",
            data_dir.display()
        )
        .into());
    }
    // Held for the whole copy: a running boltd refuses it, and boltd can't start meanwhile.
    let _lock = PidLock::acquire(&data_dir).map_err(|err| {
        anyhow!(
            "{err}; stop it first (`bolt stop`): the store is copied only while boltd is stopped"
        )
    })?;
    if !args.json {
        crate::say_err!("copying {} into {target}", db_path.display());
    }
    let mut show = progress_printer(args.json);
    let copied = copy::copy_store(&db_path, &target, &mut |p| {
        show(p);
        ControlFlow::Continue(())
    })
    .map_err(|e| anyhow!("{e}"))?;
    if args.json {
        output::print_json(&copied)?;
    } else {
        print_summary(
            &copied,
            target.password().is_some(),
            &data_dir.join(KEY_FILE),
        );
    }
    Ok(())
}

/// The URL's settings, with `env_password` (PGPASSWORD's) when the URL has none. The
/// password is never printed: the settings show as the URL without it.
fn target_settings(url: &str, env_password: Option<String>) -> anyhow::Result<PgSettings> {
    let mut settings = PgSettings::from_url(url).context("--to")?;
    if settings.password().is_none() {
        settings.set_password(env_password.filter(|p| !p.is_empty()));
    }
    Ok(settings)
}

/// Progress on stderr. On a terminal one line, rewritten per batch; otherwise a line when
/// a table starts, at every tenth of a big table, and when it is done.
fn progress_printer(json: bool) -> impl FnMut(Progress<'_>) {
    let terminal = std::io::stderr().is_terminal();
    let mut last_tenth = 0;
    move |p: Progress<'_>| {
        let mut err = std::io::stderr().lock();
        let line = format!("table {}: {}/{} rows", p.table, p.done, p.total);
        if json {
            let event = serde_json::json!({
                "event": "copied", "table": p.table, "done": p.done, "total": p.total,
            });
            let _ = writeln!(err, "{event}");
        } else if terminal {
            let _ = write!(err, "\r\x1b[K{line}");
            if p.done >= p.total {
                let _ = writeln!(err);
            }
        } else {
            let tenth = p.done * 10 / p.total.max(1);
            if p.done == 0 || p.done >= p.total || tenth != last_tenth {
                let _ = writeln!(err, "{line}");
            }
            last_tenth = tenth;
        }
    }
}

const SEARCH_LABEL: &str = "search documents (index rebuilt)";

fn print_summary(copied: &Copied, has_password: bool, key_file: &std::path::Path) {
    crate::say!(
        "copied {} rows in {} tables from {} to {} in {:.1}s",
        copied.rows,
        copied.tables.len(),
        copied.source,
        copied.target,
        copied.millis as f64 / 1000.0
    );
    let width = copied
        .tables
        .iter()
        .map(|t| t.table.len())
        .chain([SEARCH_LABEL.len()])
        .max()
        .unwrap_or(0);
    for table in &copied.tables {
        crate::say!("  {:<width$}  {:>10}", table.table, table.rows);
    }
    crate::say!(
        "  {:<width$}  {:>10}",
        SEARCH_LABEL,
        copied.search_documents
    );
    crate::say!("verified: every table has as many rows in PostgreSQL as in SQLite");
    if copied.credentials > 0 {
        crate::say!(
            "the {} credentials are copied encrypted (key check {}): they need the key they were written with",
            copied.credentials,
            copied.key_check.as_deref().unwrap_or("unknown")
        );
    }
    crate::say!(
        "next: start each node with --store {}{}, with the same key file as this data dir's ({}) in each node's data dir",
        copied.target,
        if has_password {
            " (password not shown)"
        } else {
            ""
        },
        key_file.display()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_comes_from_the_url_else_from_pgpassword_and_is_never_shown() {
        let from_env = |url: &str, env: Option<&str>| {
            target_settings(url, env.map(str::to_string)).expect("a valid URL")
        };
        let s = from_env("postgres://bolt:inurl@db/bolt", Some("fromenv"));
        assert_eq!(s.password(), Some("inurl"));
        let s = from_env("postgres://bolt@db/bolt", Some("fromenv"));
        assert_eq!(s.password(), Some("fromenv"));
        assert!(!s.to_string().contains("fromenv"), "{s}");
        assert_eq!(
            from_env("postgres://bolt@db/bolt", Some("")).password(),
            None
        );
        assert_eq!(from_env("postgres://bolt@db/bolt", None).password(), None);
        let err = target_settings("postgres://bolt:hunter2@db/bolt?sslmode=never", None)
            .expect_err("a bad URL");
        assert!(!format!("{err:#}").contains("hunter2"), "{err:#}");
    }
}
