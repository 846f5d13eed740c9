//! Installs and removals as transactions on the adaptors folder.
//!
//! One lock file (`<root>/.lock`, an OS file lock) is held for the whole of an install or
//! removal, by boltd and by `bolt` alike, so two never interleave. An install is unpacked
//! into `<root>/.staging-…`, its manifest written last, and renamed into place only when
//! complete; a failure (or a crash) leaves only the staging folder, which is removed at
//! once or by the next holder of the lock. Removal renames the version away first, so it
//! disappears at once even while its files are deleted.

use super::{InstallError, Report};
use crate::engine::adaptors::installed::InstalledAdaptors;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long an install waits for another to finish before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(30 * 60);

/// The adaptors lock, held until dropped.
pub struct Lock {
    _file: File,
    root: PathBuf,
}

/// Takes the lock of `adaptors` (creating the folder, mode 0700), waiting for another
/// holder if there is one.
pub async fn lock(adaptors: &InstalledAdaptors, report: Report<'_>) -> Result<Lock, InstallError> {
    let root = adaptors.root().to_path_buf();
    create_private_dir(&root)?;
    let path = root.join(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            InstallError::io(format!("cannot open the lock file {}", path.display()), e)
        })?;
    let started = std::time::Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                if !told {
                    report(bolt_shared::adaptors::InstallProgress::Waiting {
                        lock: path.display().to_string(),
                    });
                    told = true;
                }
                if started.elapsed() > LOCK_WAIT {
                    return Err(InstallError::Other(format!(
                        "another install has held {} for over {} minutes; is a `bolt adaptor add` stuck?",
                        path.display(),
                        LOCK_WAIT.as_secs() / 60
                    )));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(InstallError::io(
                    format!("cannot lock {}", path.display()),
                    e,
                ));
            }
        }
    }
    let lock = Lock { _file: file, root };
    lock.remove_leftovers();
    Ok(lock)
}

fn create_private_dir(dir: &Path) -> Result<(), InstallError> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| InstallError::io(format!("cannot create {}", dir.display()), e))
}

impl Lock {
    /// Staging and trash folders an interrupted install or removal left behind: only the
    /// holder of the lock could be using them, and that is now us.
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".staging-") || name.starts_with(".trash-") {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }

    /// A fresh staging folder for `name@version`.
    pub fn stage(&self, name: &str, version: &str) -> Result<Staging, InstallError> {
        let dir = self
            .root
            .join(format!(".staging-{}", unique(&format!("{name}@{version}"))));
        std::fs::create_dir(&dir)
            .map_err(|e| InstallError::io(format!("cannot create {}", dir.display()), e))?;
        Ok(Staging {
            dir,
            destination: self.root.join(format!("{name}@{version}")),
            committed: false,
        })
    }

    /// Removes an install root (renamed away first, so it is gone at once).
    pub fn remove(&self, install_root: &Path) -> Result<(), InstallError> {
        let trash = self.root.join(format!(".trash-{}", unique("rm")));
        std::fs::rename(install_root, &trash).map_err(|e| {
            InstallError::io(format!("cannot remove {}", install_root.display()), e)
        })?;
        let _ = std::fs::remove_dir_all(&trash);
        remove_empty_scope(&self.root, install_root);
        Ok(())
    }
}

/// A name unique to this process and moment, safe as one path component.
fn unique(label: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{}-{}-{nanos}", label.replace('/', "+"), std::process::id())
}

/// `@openfn/` folders hold scoped installs; an empty one goes with its last version.
fn remove_empty_scope(root: &Path, install_root: &Path) {
    if let Some(parent) = install_root.parent()
        && parent != root
        && parent.starts_with(root)
    {
        let _ = std::fs::remove_dir(parent);
    }
}

/// An install being built; removed on drop unless committed.
pub struct Staging {
    dir: PathBuf,
    destination: PathBuf,
    committed: bool,
}

impl Staging {
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `file_name` (the manifest, last) durably, then moves the install into place,
    /// replacing an older copy of the same version.
    pub fn commit(mut self, file_name: &str, manifest: &[u8]) -> Result<PathBuf, InstallError> {
        use std::io::Write;
        let path = self.dir.join(file_name);
        let mut file = File::create(&path)
            .map_err(|e| InstallError::io(format!("cannot write {}", path.display()), e))?;
        file.write_all(manifest)
            .and_then(|()| file.sync_all())
            .map_err(|e| InstallError::io(format!("cannot write {}", path.display()), e))?;
        if let Some(parent) = self.destination.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| InstallError::io(format!("cannot create {}", parent.display()), e))?;
        }
        let old = self.destination.exists().then(|| {
            self.dir
                .parent()
                .unwrap_or(&self.dir)
                .join(format!(".trash-{}", unique("old")))
        });
        if let Some(old) = &old {
            std::fs::rename(&self.destination, old).map_err(|e| {
                InstallError::io(format!("cannot replace {}", self.destination.display()), e)
            })?;
        }
        std::fs::rename(&self.dir, &self.destination).map_err(|e| {
            InstallError::io(
                format!(
                    "cannot move the install into {}",
                    self.destination.display()
                ),
                e,
            )
        })?;
        self.committed = true;
        if let Some(old) = old {
            let _ = std::fs::remove_dir_all(old);
        }
        if let Some(parent) = self.destination.parent()
            && let Ok(dir) = File::open(parent)
        {
            let _ = dir.sync_all();
        }
        Ok(self.destination.clone())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    fn quiet() -> impl Fn(bolt_shared::adaptors::InstallProgress) + Send + Sync {
        |_| {}
    }

    #[tokio::test]
    async fn a_failed_install_leaves_nothing_and_a_commit_replaces_atomically() {
        let temp = tempfile::tempdir().unwrap();
        let adaptors = InstalledAdaptors::new(temp.path().join("adaptors"));
        let report = quiet();
        let lock = lock(&adaptors, &report).await.unwrap();
        {
            let staging = lock.stage("@openfn/language-x", "1.0.0").unwrap();
            std::fs::write(staging.dir().join("half"), "x").unwrap();
        }
        let names = |dir: &Path| -> Vec<String> {
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            names
        };
        assert_eq!(names(adaptors.root()), [".lock"]);
        let staging = lock.stage("@openfn/language-x", "1.0.0").unwrap();
        std::fs::write(staging.dir().join("a"), "1").unwrap();
        let installed = staging.commit("bolt-adaptor.json", b"{}").unwrap();
        assert_eq!(installed, adaptors.root().join("@openfn/language-x@1.0.0"));
        assert_eq!(names(&installed), ["a", "bolt-adaptor.json"]);
        let staging = lock.stage("@openfn/language-x", "1.0.0").unwrap();
        std::fs::write(staging.dir().join("b"), "2").unwrap();
        staging.commit("bolt-adaptor.json", b"{}").unwrap();
        assert_eq!(names(&installed), ["b", "bolt-adaptor.json"]);
        assert_eq!(names(adaptors.root()), [".lock", "@openfn"]);
        lock.remove(&installed).unwrap();
        assert_eq!(names(adaptors.root()), [".lock"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(adaptors.root())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }

    #[tokio::test]
    async fn a_second_locker_waits_and_leftovers_are_cleaned() {
        let temp = tempfile::tempdir().unwrap();
        let adaptors = InstalledAdaptors::new(temp.path());
        let report = quiet();
        let first = lock(&adaptors, &report).await.unwrap();
        std::fs::create_dir(temp.path().join(".staging-crashed")).unwrap();
        let waited = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = waited.clone();
        let second = tokio::spawn(async move {
            let report = move |event| {
                if matches!(
                    event,
                    bolt_shared::adaptors::InstallProgress::Waiting { .. }
                ) {
                    seen.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            };
            lock(&adaptors, &report).await.map(|_| ())
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!second.is_finished());
        drop(first);
        second.await.unwrap().unwrap();
        assert!(waited.load(std::sync::atomic::Ordering::SeqCst));
        assert!(!temp.path().join(".staging-crashed").exists());
    }
}
