//! Process lifecycle: the single-instance pidfile lock and the socket path.

use crate::files::{self, FileError};
use nix::libc;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("boltd is already running (pid {pid}) for data dir {}: stop it first, or use another --data-dir", data_dir.display())]
    AlreadyRunning { pid: String, data_dir: PathBuf },
    #[error(
        "another process ({who}) is listening on the socket {}: boltd does not take over a live socket (its clients would reach the wrong daemon). Stop that boltd first (`bolt --socket {} stop`), or give this one another --socket",
        socket.display(), socket.display()
    )]
    SocketInUse { socket: PathBuf, who: String },
    #[error(
        "the socket path {} is {kind}: boltd removes only a socket nobody answers on, never another kind of file. Move it away, or choose another --socket",
        socket.display()
    )]
    NotASocket { socket: PathBuf, kind: &'static str },
    #[error("cannot tell whether the socket {} is still in use ({source}): remove it if no boltd serves it, or choose another --socket", socket.display())]
    SocketUnknown {
        socket: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    File(#[from] FileError),
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
        let mut file = files::open_no_follow(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600),
            &path,
            "pidfile",
            || format!("`rm {}` (boltd makes a new one)", path.display()),
        )?;
        files::check_own_file(&file, &path, "pidfile", None)?;
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
        let written = writeln!(file, "{}", std::process::id()).and_then(|()| file.sync_all());
        match written {
            Ok(()) => {}
            // On a full disk boltd still starts (its store refuses writes until space comes
            // back); the lock alone keeps other boltds out, and clients find the pid through
            // the socket.
            Err(err) if is_disk_full(&err) => {
                tracing::warn!(path = %path.display(), %err, "the disk is full: the pidfile holds no pid")
            }
            Err(err) => return Err(io_err(&path)(err)),
        }
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn is_disk_full(err: &std::io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT))
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

/// Makes sure nothing else has the socket path: creates the socket's directory if needed
/// (private) and checks it, then removes a socket left behind by a boltd that is gone (one
/// nobody answers on). Refuses a live socket (another boltd) and any other kind of file.
/// The returned guard keeps other boltds out of this directory's socket paths until this
/// one has bound its socket.
pub fn prepare_socket(socket: &Path) -> Result<SocketDirLock, LifecycleError> {
    let dir = match socket.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    files::ensure_private_dir(dir, files::SOCKET_DIR)?;
    // Two boltds starting at once on one socket path would each find it free (or stale) and
    // the second could remove the first's new socket: whoever locks the directory first
    // checks and binds before the other looks. (An advisory lock: it changes nothing else.)
    let lock = File::open(dir).map_err(io_err(dir))?;
    lock.lock().map_err(io_err(dir))?;
    let meta = match fs::symlink_metadata(socket) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Ok(SocketDirLock { _dir: lock });
        }
        Err(err) => return Err(io_err(socket)(err)),
    };
    if !meta.file_type().is_socket() {
        return Err(LifecycleError::NotASocket {
            socket: socket.to_path_buf(),
            kind: files::kind_of(&meta.file_type()),
        });
    }
    match probe_socket(socket) {
        Probe::Live(who) => Err(LifecycleError::SocketInUse {
            socket: socket.to_path_buf(),
            who,
        }),
        Probe::Unknown(source) => Err(LifecycleError::SocketUnknown {
            socket: socket.to_path_buf(),
            source,
        }),
        Probe::Dead => {
            // Only if it is still the socket that was probed.
            let now = fs::symlink_metadata(socket).map_err(io_err(socket))?;
            if (now.dev(), now.ino()) != (meta.dev(), meta.ino()) {
                return Err(LifecycleError::SocketUnknown {
                    socket: socket.to_path_buf(),
                    source: std::io::Error::other("it was replaced while boltd looked at it"),
                });
            }
            fs::remove_file(socket).map_err(io_err(socket))?;
            tracing::info!(socket = %socket.display(), "removed a stale socket left by an earlier boltd");
            Ok(SocketDirLock { _dir: lock })
        }
    }
}

/// Keeps other boltds from checking or binding a socket in the same directory meanwhile.
pub struct SocketDirLock {
    _dir: File,
}

/// Whether someone answers on an existing socket.
enum Probe {
    /// Someone accepted the connection: who (pid and user, when the system says).
    Live(String),
    /// Nobody listens: a socket left by a process that is gone.
    Dead,
    /// The connection failed otherwise (no permission: likely another user's socket).
    Unknown(std::io::Error),
}

/// How long a process holding the socket gets to accept a connection.
const PROBE_WAIT: Duration = Duration::from_secs(2);

fn probe_socket(socket: &Path) -> Probe {
    use interprocess::local_socket::{GenericFilePath, Stream, ToFsName, prelude::*};
    let path = socket.to_path_buf();
    let (answer, answered) = std::sync::mpsc::channel();
    // A listener that never accepts can hold a connect up: wait on another thread.
    let spawned = std::thread::Builder::new()
        .name("bolt-socket-probe".into())
        .spawn(move || {
            let outcome = path
                .as_path()
                .to_fs_name::<GenericFilePath>()
                .and_then(Stream::connect)
                .map(|stream| {
                    let creds = stream.peer_creds().ok();
                    let pid = creds.and_then(|c| c.pid());
                    let uid = creds.and_then(|c| c.euid());
                    match (pid, uid) {
                        (Some(pid), Some(uid)) => {
                            format!("pid {pid}, user {}", bolt_shared::users::describe(uid))
                        }
                        (Some(pid), None) => format!("pid {pid}"),
                        _ => "pid unknown".to_string(),
                    }
                });
            let _ = answer.send(outcome);
        });
    if let Err(err) = spawned {
        return Probe::Unknown(err);
    }
    match answered.recv_timeout(PROBE_WAIT) {
        Ok(Ok(who)) => Probe::Live(who),
        Ok(Err(err)) if err.kind() == std::io::ErrorKind::ConnectionRefused => Probe::Dead,
        Ok(Err(err)) => Probe::Unknown(err),
        Err(_) => Probe::Live(format!(
            "it holds the socket but did not accept a connection within {} s",
            PROBE_WAIT.as_secs()
        )),
    }
}

/// The socket boltd bound, as it was then: removed at exit only if the path still names it.
pub struct SocketFile {
    path: PathBuf,
    id: Option<(u64, u64)>,
}

impl SocketFile {
    /// Notes which file `path` is now (just after binding).
    pub fn bound(path: &Path) -> SocketFile {
        SocketFile {
            path: path.to_path_buf(),
            id: fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino())),
        }
    }

    /// Removes the socket, unless the path now names another file (another boltd's).
    pub fn remove(&self) {
        let now = fs::symlink_metadata(&self.path)
            .ok()
            .map(|m| (m.dev(), m.ino()));
        if now.is_some() && now == self.id {
            let _ = fs::remove_file(&self.path);
        }
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
    fn a_pidfile_that_is_a_link_is_refused_and_its_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        fs::write(&target, "keep me").unwrap();
        std::os::unix::fs::symlink(&target, dir.path().join("boltd.pid")).unwrap();
        let err = PidLock::acquire(dir.path()).err().unwrap().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
    }

    #[test]
    fn a_stale_socket_is_removed_a_live_one_or_another_file_refused() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("run/boltd.sock");
        fs::create_dir(dir.path().join("run")).unwrap();
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = prepare_socket(&socket).err().unwrap().to_string();
        assert!(err.contains("listening on the socket"), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(listener);
        assert!(
            socket.exists(),
            "a dropped std listener leaves its socket file"
        );
        drop(prepare_socket(&socket).unwrap());
        assert!(!socket.exists(), "the stale socket is gone");
        fs::write(&socket, "not a socket").unwrap();
        let err = prepare_socket(&socket).err().unwrap().to_string();
        assert!(err.contains("is a regular file"), "{err}");
        assert_eq!(fs::read_to_string(&socket).unwrap(), "not a socket");
    }
}
