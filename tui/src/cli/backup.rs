//! `bolt backup FILE` (an online copy made by the running boltd, with progress) and
//! `bolt restore FILE` (into a stopped data dir). The key file is not in the copy: back it
//! up separately (see the README).

use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_daemon::process::lifecycle::PidLock;
use bolt_daemon::secrets::{ENV_KEY, KEY_FILE, NewKey, Vault};
use bolt_daemon::store::backup;
use bolt_shared::backup::BackupProgress;
use bolt_shared::protocol::{ProgressEvent, Request, Response};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The file to write (boltd writes it, mode 0600).
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// A file written by `bolt backup`.
    pub file: PathBuf,
    /// Restore even though the backup's credentials were encrypted with another key than
    /// the data dir's (they will not be usable until that key is put back).
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

/// Progress on stderr: one line rewritten on a terminal, a line per 10% otherwise.
fn progress_printer(json: bool) -> impl FnMut(u64, u64) {
    let terminal = std::io::stderr().is_terminal();
    let mut last_tenth = u64::MAX;
    move |pages, total| {
        let percent = pages * 100 / total.max(1);
        let mut err = std::io::stderr().lock();
        if json {
            let _ = writeln!(
                err,
                "{{\"event\":\"copied\",\"pages\":{pages},\"total_pages\":{total}}}"
            );
        } else if terminal {
            let _ = write!(err, "\r\x1b[Kcopied {pages} of {total} pages ({percent}%)");
            if pages >= total {
                let _ = writeln!(err);
            }
        } else if percent / 10 != last_tenth {
            last_tenth = percent / 10;
            let _ = writeln!(err, "copied {pages} of {total} pages ({percent}%)");
        }
    }
}

pub fn backup(global: &Global, args: &BackupArgs) -> Result<(), CliError> {
    let path = std::path::absolute(&args.file)
        .with_context(|| format!("cannot make {} absolute", args.file.display()))?;
    let mut client = global.connect()?;
    let mut show = progress_printer(args.json);
    let response = client.request_with_events(
        Request::Backup {
            path: path.display().to_string(),
            force: args.force,
        },
        &mut |event| {
            if let ProgressEvent::Backup(BackupProgress::Copied { pages, total_pages }) = event {
                show(pages, total_pages);
            }
        },
    )?;
    let report = match response {
        Response::BackedUp(report) => report,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if args.json {
        output::print_json(&report)?;
        return Ok(());
    }
    crate::say!(
        "backed up to {} ({:.1} MB, {} work orders, {} credentials) in {:.1}s",
        report.path,
        report.bytes as f64 / 1e6,
        report.work_orders,
        report.credentials,
        report.millis as f64 / 1000.0
    );
    if report.credentials > 0 {
        crate::say!(
            "the credentials in it need the key file ({KEY_FILE} in the data dir, key check {}), which is not in the backup: keep a copy of it apart from the backup",
            report.key_check.as_deref().unwrap_or("unknown")
        );
    }
    Ok(())
}

pub fn restore(global: &Global, args: &RestoreArgs) -> Result<(), CliError> {
    let resolved = global.resolve()?;
    let data_dir = resolved.data_dir.clone();
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data dir {}", data_dir.display()))?;
    // Held for the whole restore: boltd can't start meanwhile, and a running one refuses it.
    let _lock = PidLock::acquire(&data_dir).map_err(|err| {
        anyhow!("{err}; stop it first (`bolt stop`): a store can only be restored while boltd is stopped")
    })?;
    let key_check = if std::env::var(ENV_KEY).is_ok_and(|k| !k.trim().is_empty()) {
        Vault::open(&data_dir).ok().map(|v| v.key_check())
    } else {
        NewKey::read_from(&data_dir.join(KEY_FILE))
            .map_err(|e| anyhow!("{e}"))?
            .map(|k| k.key_check())
    };
    let mut show = progress_printer(args.json);
    let show_cell = std::cell::RefCell::new(&mut show);
    let restored = backup::restore(
        &data_dir,
        &args.file,
        key_check.as_deref(),
        args.force,
        &|pages, total| (show_cell.borrow_mut())(pages, total),
    )
    .map_err(|e| anyhow!("{e}"))?;
    if args.json {
        output::print_json(&serde_json::json!({
            "data_dir": data_dir,
            "work_orders": restored.facts.work_orders,
            "credentials": restored.facts.credentials,
            "schema_version": restored.facts.schema_version,
            "previous_store": restored.previous,
        }))?;
        return Ok(());
    }
    crate::say!(
        "restored {} into {} ({} work orders, {} credentials)",
        args.file.display(),
        data_dir.display(),
        restored.facts.work_orders,
        restored.facts.credentials
    );
    if let Some(previous) = &restored.previous {
        crate::say!(
            "the store that was there is kept as {} (remove it once the restore is checked)",
            previous.display()
        );
    }
    if restored.facts.credentials > 0 && key_check.is_none() {
        crate::say_err!(
            "warning: the data dir has no key yet: put the key file that was in use when the backup was made at {} before starting boltd",
            data_dir.join(KEY_FILE).display()
        );
    }
    Ok(())
}
