//! The ids of runs boltd could not record, kept outside the store so they survive a stop
//! while the store refuses writes.
//!
//! The store is full (or failing) when a run becomes unrecorded, so its id can't go into
//! the database. It goes into this small file instead, whose blocks are allocated when boltd
//! starts: overwriting them later needs no new space. The next start queues these runs
//! again whatever the workflow's retry policy says, as it would have once the store
//! recovered.

use crate::files::{self, FileError};
use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The journal's file name in the data dir.
pub const FILE: &str = "unrecorded-runs";

/// Room for about 1,700 run ids; beyond that, runs fall back to being found lost.
const SIZE: usize = 64 * 1024;

pub struct Journal {
    path: PathBuf,
    /// The file and where the next id goes; `None` when it could not be prepared.
    slot: Mutex<Option<(File, usize)>>,
}

impl Journal {
    /// Opens (creating) the journal and returns the run ids a previous boltd left in it.
    /// A journal that can't be prepared (say the disk is already full) is not fatal: runs
    /// boltd can't record are then found lost at the next start, as before.
    pub fn open(data_dir: &Path) -> Result<(Journal, Vec<String>), FileError> {
        let path = data_dir.join(FILE);
        let mut file = files::open_no_follow(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .mode(0o600),
            &path,
            "journal of unrecorded runs",
            || format!("remove the link: rm {}", path.display()),
        )?;
        files::check_own_file(&file, &path, "journal of unrecorded runs", None)?;
        let mut text = Vec::new();
        file.read_to_end(&mut text)
            .map_err(|source| FileError::Io {
                what: "journal of unrecorded runs",
                path: path.clone(),
                source,
            })?;
        let left = parse(&text);
        // The ids stay until the runs are queued again (`clear`): that may fail, on a disk
        // that is still full.
        let kept = used(&text);
        let slot = match preallocate(&file, kept) {
            Ok(()) => Some((file, kept)),
            Err(err) => {
                tracing::warn!(path = %path.display(), %err, "could not prepare the journal of unrecorded runs; runs the store refuses will be found lost after a restart");
                None
            }
        };
        Ok((
            Journal {
                path,
                slot: Mutex::new(slot),
            },
            left,
        ))
    }

    /// A journal that keeps nothing (tests, tools).
    pub fn disabled() -> Journal {
        Journal {
            path: PathBuf::new(),
            slot: Mutex::new(None),
        }
    }

    /// Notes a run boltd could not record. Never fails the caller: the worst case is the
    /// run being found lost after a restart.
    pub fn record(&self, run_id: &str) {
        let Ok(mut slot) = self.slot.lock() else {
            return;
        };
        let Some((file, next)) = slot.as_mut() else {
            return;
        };
        let line = format!("{run_id}\n");
        if *next + line.len() > SIZE {
            tracing::warn!(run = %run_id, "the journal of unrecorded runs is full: this run will be found lost after a restart");
            return;
        }
        let written = file
            .write_all_at(line.as_bytes(), *next as u64)
            .and_then(|()| file.sync_data());
        match written {
            Ok(()) => *next += line.len(),
            Err(err) => {
                tracing::warn!(run = %run_id, path = %self.path.display(), %err, "could not note an unrecorded run")
            }
        }
    }

    /// Forgets the ids once the runs are queued again in the store.
    pub fn clear(&self) {
        let Ok(mut slot) = self.slot.lock() else {
            return;
        };
        if let Some((file, next)) = slot.as_mut() {
            match preallocate(file, 0) {
                Ok(()) => *next = 0,
                Err(err) => {
                    tracing::warn!(path = %self.path.display(), %err, "could not clear the journal of unrecorded runs")
                }
            }
        }
    }
}

/// Zeroes the file from `from` on, so its blocks exist before the disk fills up.
fn preallocate(file: &File, from: usize) -> io::Result<()> {
    let from = from.min(SIZE);
    file.write_all_at(&vec![0u8; SIZE - from], from as u64)?;
    file.set_len(SIZE as u64)?;
    file.sync_all()
}

/// How many bytes of ids the file holds (up to the zero padding).
fn used(text: &[u8]) -> usize {
    text.iter().position(|b| *b == 0).unwrap_or(text.len())
}

/// The ids before the zero padding; anything that isn't an id (a torn write) is skipped.
fn parse(text: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(&text[..used(text)])
        .lines()
        .map(str::trim)
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_survive_a_reopen_and_clear_forgets_them() {
        let dir = tempfile::tempdir().unwrap();
        let (journal, left) = Journal::open(dir.path()).unwrap();
        assert!(left.is_empty());
        journal.record("run-1");
        journal.record("run-2");
        drop(journal);
        let (journal, left) = Journal::open(dir.path()).unwrap();
        assert_eq!(left, ["run-1", "run-2"]);
        journal.record("run-3");
        drop(journal);
        // Kept until cleared, and new ones go after them.
        let (journal, left) = Journal::open(dir.path()).unwrap();
        assert_eq!(left, ["run-1", "run-2", "run-3"]);
        journal.clear();
        drop(journal);
        let (_, left) = Journal::open(dir.path()).unwrap();
        assert!(left.is_empty());
    }

    #[test]
    fn a_torn_line_is_skipped() {
        assert_eq!(parse(b"run-1\nru\xffn\0\0"), ["run-1"]);
    }
}
