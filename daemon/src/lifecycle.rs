//! Process lifecycle: private directories, the single-instance pidfile lock, the socket path.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("boltd is already running (pid {pid}) for data dir {}: stop it first, or use another --data-dir", data_dir.display())]
    AlreadyRunning { pid: String, data_dir: PathBuf },
    #[error("cannot prepare {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LifecycleError + '_ {
    move |source| LifecycleError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Creates `dir` (and parents) readable only by its owner.
pub fn private_dir(dir: &Path) -> Result<(), LifecycleError> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io_err(dir))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io_err(dir))
}

/// Held for the daemon's whole life; the OS releases the lock if the process dies.
pub struct PidLock {
    _file: File,
    path: PathBuf,
}

impl PidLock {
    /// Takes the data dir's lock before anything else (socket, store) is touched.
    pub fn acquire(data_dir: &Path) -> Result<PidLock, LifecycleError> {
        let path = data_dir.join("boltd.pid");
        // A boltd on its way out removes the pidfile, then lets go of its lock: a lock taken
        // on the file it removed would guard nothing, so take it again on the new file.
        // (A plain File, not a PidLock, until then: dropping a PidLock removes the pidfile.)
        let mut attempts = 0;
        loop {
            let file = Self::lock(data_dir, &path)?;
            attempts += 1;
            if names_file(&path, &file) || attempts == 3 {
                return Ok(PidLock { _file: file, path });
            }
        }
    }

    /// Opens, locks and writes the pidfile.
    fn lock(data_dir: &Path, path: &Path) -> Result<File, LifecycleError> {
        let path = path.to_path_buf();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        if file.try_lock().is_err() {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            return Err(LifecycleError::AlreadyRunning {
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid.to_string()
                },
                data_dir: data_dir.to_path_buf(),
            });
        }
        file.set_len(0).map_err(io_err(&path))?;
        file.rewind().map_err(io_err(&path))?;
        writeln!(file, "{}", std::process::id()).map_err(io_err(&path))?;
        file.sync_all().map_err(io_err(&path))?;
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Whether `path` still names the open `file`.
fn names_file(path: &Path, file: &File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

impl Drop for PidLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Makes the socket's directory private and removes a socket left behind by a crash.
/// Only called while holding the [`PidLock`], so any socket file there is stale.
pub fn prepare_socket(socket: &Path) -> Result<(), LifecycleError> {
    if let Some(dir) = socket.parent() {
        private_dir(dir)?;
    }
    match fs::remove_file(socket) {
        Ok(()) => {
            tracing::info!(socket = %socket.display(), "removed a stale socket left by an earlier boltd");
            Ok(())
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(io_err(socket)(err)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let _first = PidLock::acquire(dir.path()).unwrap();
        let err = PidLock::acquire(dir.path()).err().unwrap().to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains("already running"), "{err}");
    }

    #[test]
    fn private_dir_is_0700() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a/b");
        private_dir(&sub).unwrap();
        let mode = fs::metadata(&sub).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
}
