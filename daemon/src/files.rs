//! boltd's own files and directories: created private, checked before use, opened without
//! following links.
//!
//! boltd keeps secrets (the key file, credentials in the store) and a socket that takes
//! commands. Whoever can replace a file in its directories can read or forge them, so boltd
//! refuses a directory that is writable by others (unless it is sticky, as /tmp is: there
//! only a file's owner may remove or rename it) or that belongs to a user other than
//! boltd's own or root; and it refuses its own files (key, pidfile, database) when they are
//! links, belong to another user or, for secrets, can be read by others. Every refusal says
//! what is wrong and the command that fixes it. boltd changes the mode only of the
//! directories it creates itself, never of one it found.

use bolt_shared::users;
use nix::libc;
use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// What a checked path is to boltd, for messages: "data dir", "--data-dir".
#[derive(Debug, Clone, Copy)]
pub struct Role {
    pub what: &'static str,
    /// The flag that picks another one.
    pub flag: &'static str,
}

pub const DATA_DIR: Role = Role {
    what: "data dir",
    flag: "--data-dir",
};
pub const SOCKET_DIR: Role = Role {
    what: "socket's directory",
    flag: "--socket",
};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("the {} {} is not a directory: choose another {}", role.what, path.display(), role.flag)]
    NotADirectory { role: Role, path: PathBuf },
    #[error(
        "the {} {} belongs to {}, not to boltd's user {} or root: that user could read or replace what boltd keeps there. Fix: `chown {} {}` (as root, if you trust what is in it), or choose another {}",
        role.what, path.display(), users::describe(*owner), users::describe(users::current_uid()),
        users::chown_name(users::current_uid()), path.display(), role.flag
    )]
    DirOwnedByOther {
        role: Role,
        path: PathBuf,
        owner: u32,
    },
    #[error(
        "the {} {} is writable by {by} (mode {mode:04o}) and not sticky: another user could replace boltd's files in it. Fix: `chmod 700 {}`, or choose another {}",
        role.what, path.display(), path.display(), role.flag
    )]
    DirWritableByOthers {
        role: Role,
        path: PathBuf,
        mode: u32,
        by: &'static str,
    },
    #[error("the {what} {} is a symbolic link: boltd does not follow links for its own files (a link could make it read or overwrite another file). Fix: {fix}", path.display())]
    Link {
        what: &'static str,
        path: PathBuf,
        fix: String,
    },
    #[error("the {what} {} is {kind}, not a regular file: move it away (`mv {} {}.old`)", path.display(), path.display(), path.display())]
    NotRegular {
        what: &'static str,
        path: PathBuf,
        kind: &'static str,
    },
    #[error("the {what} {} has {links} names (hard links): another name could be a file boltd must not touch. Fix: `rm {}` (boltd makes a new one)", path.display(), path.display())]
    HardLinked {
        what: &'static str,
        path: PathBuf,
        links: u64,
    },
    #[error(
        "the {what} {} belongs to {}, not to boltd's user {}: that user could read or replace it. Fix: `chown {} {}` (as root, once you are sure it is yours)",
        path.display(), users::describe(*owner), users::describe(users::current_uid()),
        users::chown_name(users::current_uid()), path.display()
    )]
    FileOwnedByOther {
        what: &'static str,
        path: PathBuf,
        owner: u32,
    },
    #[error("the {what} {} can be read by other users (mode {mode:04o}): {why}. Fix: `chmod 600 {}`", path.display(), path.display())]
    FileOpenToOthers {
        what: &'static str,
        path: PathBuf,
        mode: u32,
        why: &'static str,
    },
    #[error("cannot prepare the {what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl FileError {
    /// `what` at `path` failed with `source`.
    pub fn io(what: &'static str, path: &Path, source: io::Error) -> FileError {
        FileError::Io {
            what,
            path: path.to_path_buf(),
            source,
        }
    }
}

fn io_error<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> FileError + 'a {
    move |source| FileError::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// Sets the process's umask so everything boltd creates is private to its user: SQLite's
/// files (it creates them 0644 less the umask, then gives the log and shared-memory files
/// the database's mode), the socket, logs of its own. Called once, before any thread starts.
pub fn private_umask() {
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o077));
}

/// Creates `dir` and any missing parents with mode 0700 and checks the directory it ends
/// at (see [`check_dir`]). Only directories created here get their mode set.
pub fn ensure_private_dir(dir: &Path, role: Role) -> Result<(), FileError> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(path) = cursor.filter(|p| !p.as_os_str().is_empty()) {
        match fs::symlink_metadata(path) {
            Ok(_) => break,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                missing.push(path);
                cursor = path.parent();
            }
            Err(err) => return Err(io_error(role.what, path)(err)),
        }
    }
    for path in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => fs::set_permissions(path, fs::Permissions::from_mode(0o700))
                .map_err(io_error(role.what, path))?,
            // Someone else made it meanwhile: it is theirs, checked below like any other.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(io_error(role.what, path)(err)),
        }
    }
    check_dir(dir, role)
}

/// Refuses a directory that another user could tamper with: one owned by someone other
/// than boltd's user or root, or writable by its group or everyone without the sticky bit.
pub fn check_dir(dir: &Path, role: Role) -> Result<(), FileError> {
    let meta = fs::metadata(dir).map_err(io_error(role.what, dir))?;
    if !meta.is_dir() {
        return Err(FileError::NotADirectory {
            role,
            path: dir.to_path_buf(),
        });
    }
    let me = users::current_uid();
    if meta.uid() != me && meta.uid() != 0 {
        return Err(FileError::DirOwnedByOther {
            role,
            path: dir.to_path_buf(),
            owner: meta.uid(),
        });
    }
    let mode = meta.mode() & 0o7777;
    let sticky = mode & 0o1000 != 0;
    if !sticky && mode & 0o022 != 0 {
        return Err(FileError::DirWritableByOthers {
            role,
            path: dir.to_path_buf(),
            mode,
            by: if mode & 0o002 != 0 {
                "everyone"
            } else {
                "its group"
            },
        });
    }
    Ok(())
}

/// Opens one of boltd's own files without following a symbolic link at its name.
pub fn open_no_follow(
    options: &mut OpenOptions,
    path: &Path,
    what: &'static str,
    fix_for_link: impl FnOnce() -> String,
) -> Result<File, FileError> {
    options
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|err| {
            if err.raw_os_error() == Some(libc::ELOOP) {
                FileError::Link {
                    what,
                    path: path.to_path_buf(),
                    fix: fix_for_link(),
                }
            } else {
                io_error(what, path)(err)
            }
        })
}

/// What an open file of boltd's must be: a regular file with one name, owned by boltd's
/// user; with `secret`, readable by nobody else.
pub fn check_own_file(
    file: &File,
    path: &Path,
    what: &'static str,
    secret: Option<&'static str>,
) -> Result<(), FileError> {
    let meta = file.metadata().map_err(io_error(what, path))?;
    check_own_metadata(&meta, path, what, secret)
}

fn check_own_metadata(
    meta: &fs::Metadata,
    path: &Path,
    what: &'static str,
    secret: Option<&'static str>,
) -> Result<(), FileError> {
    if !meta.file_type().is_file() {
        return Err(FileError::NotRegular {
            what,
            path: path.to_path_buf(),
            kind: kind_of(&meta.file_type()),
        });
    }
    let me = users::current_uid();
    if meta.uid() != me {
        return Err(FileError::FileOwnedByOther {
            what,
            path: path.to_path_buf(),
            owner: meta.uid(),
        });
    }
    if meta.nlink() > 1 {
        return Err(FileError::HardLinked {
            what,
            path: path.to_path_buf(),
            links: meta.nlink(),
        });
    }
    if let Some(why) = secret {
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(FileError::FileOpenToOthers {
                what,
                path: path.to_path_buf(),
                mode,
                why,
            });
        }
    }
    Ok(())
}

/// The database, its write-ahead log and its shared-memory file, as SQLite names them.
pub fn store_files(db: &Path) -> [PathBuf; 3] {
    let with = |suffix: &str| {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [db.to_path_buf(), with("-wal"), with("-shm")]
}

/// Makes the database files that exist private (an older bolt left them 0644), refusing
/// ones that belong to another user. Links are left alone: SQLite follows them, and a
/// database moved elsewhere by its administrator is theirs to protect.
pub fn tighten_store_files(db: &Path) -> Result<(), FileError> {
    for path in store_files(db) {
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(io_error("database file", &path)(err)),
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        check_own_metadata(&meta, &path, "database file", None)?;
        let mode = meta.mode() & 0o7777;
        if mode & 0o077 != 0 {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600))
                .map_err(io_error("database file", &path))?;
            tracing::info!(file = %path.display(), was = format!("{mode:04o}"), "made a database file private (0600)");
        }
    }
    Ok(())
}

/// A file type in words, for messages.
pub fn kind_of(kind: &fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_fifo() {
        "a named pipe"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn creates_missing_directories_private_and_leaves_existing_ones_alone() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
        let sub = shared.join("a/b");
        ensure_private_dir(&sub, DATA_DIR).unwrap();
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&shared.join("a")), 0o700);
        assert_eq!(
            mode(&shared),
            0o1777,
            "a directory boltd did not create keeps its mode"
        );
        ensure_private_dir(&shared, SOCKET_DIR).unwrap();
        assert_eq!(mode(&shared), 0o1777);
    }

    #[test]
    fn refuses_a_directory_others_can_write_and_says_how_to_fix_it() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        let err = check_dir(dir.path(), DATA_DIR).unwrap_err().to_string();
        assert!(err.contains("writable by everyone (mode 0777)"), "{err}");
        assert!(
            err.contains(&format!("`chmod 700 {}`", dir.path().display())),
            "{err}"
        );
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o770)).unwrap();
        let err = check_dir(dir.path(), DATA_DIR).unwrap_err().to_string();
        assert!(err.contains("writable by its group"), "{err}");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        check_dir(dir.path(), DATA_DIR).unwrap();
    }

    #[test]
    fn own_files_are_opened_without_following_links() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        fs::write(&target, "precious").unwrap();
        let link = dir.path().join("boltd.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = open_no_follow(
            OpenOptions::new().write(true).create(true),
            &link,
            "pidfile",
            || "remove it".into(),
        )
        .unwrap_err();
        assert!(matches!(err, FileError::Link { .. }), "{err}");
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
    }

    #[test]
    fn secrets_must_be_private_and_have_one_name() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("bolt.key");
        fs::write(&key, "k").unwrap();
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        let open = || File::open(&key).unwrap();
        let err = check_own_file(&open(), &key, "key file", Some("it decrypts credentials"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mode 0644") && err.contains("`chmod 600"),
            "{err}"
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
        check_own_file(&open(), &key, "key file", Some("it decrypts credentials")).unwrap();
        fs::hard_link(&key, dir.path().join("other")).unwrap();
        let err = check_own_file(&open(), &key, "key file", None).unwrap_err();
        assert!(
            matches!(err, FileError::HardLinked { links: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn store_files_left_open_by_an_older_bolt_are_made_private() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("bolt.db");
        for path in store_files(&db).iter().take(2) {
            fs::write(path, "").unwrap();
            fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        tighten_store_files(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&store_files(&db)[1]), 0o600);
    }
}
