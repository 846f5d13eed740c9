//! Compiled bytecode of package modules, so a file is parsed once per install rather than
//! in every step: in memory for the process (keyed by path, size and modification time) and
//! on disk under the install root (`.bolt-bytecode/`), so a cold `bolt execute` doesn't
//! parse either.
//!
//! A disk entry records the bolt version and QuickJS bytecode stamp it was made with, the
//! module's path, the source's size and modification time, and a SHA-256 of the bytecode;
//! any mismatch (another bolt build, a moved or reinstalled tree, a torn write) and the file
//! is compiled again and the entry rewritten. Entries are written to a temporary file and
//! renamed into place, so concurrent writers never leave half an entry.
//!
//! QuickJS reads bytecode through rquickjs's bundle loader, which wants `'static` bytes: each
//! compiled file version is kept for the life of the process (an install's files never
//! change; a changed local file adds one more entry).

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// What the bytecode is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An ES module file.
    Esm = 1,
    /// A strict CommonJS file wrapped as an ES module (see `source`).
    CommonJs = 2,
}

/// A source file's identity: its size and modification time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub size: u64,
    pub modified_ns: u128,
}

impl Stamp {
    pub fn of(path: &Path) -> std::io::Result<Stamp> {
        let meta = std::fs::metadata(path)?;
        let modified_ns = meta
            .modified()?
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        Ok(Stamp {
            size: meta.len(),
            modified_ns,
        })
    }
}

/// Bytecode in the form rquickjs's bundle loader takes (a one-module bundle).
pub type Bundled = &'static [(&'static str, &'static [u8])];

/// The name a cached module has inside its one-module bundle.
pub const BUNDLE_ENTRY: &str = "module";

/// Which bolt and QuickJS made a disk entry.
const FORMAT_STAMP: &str = concat!(env!("CARGO_PKG_VERSION"), "/qjs-", env!("BOLT_QJS_STAMP"));
const MAGIC: &[u8; 8] = b"BOLTQBC1";
/// The folder under an install root that holds its compiled modules.
pub const DISK_DIR: &str = ".bolt-bytecode";

type MemoryKey = (PathBuf, Kind);

fn memory() -> &'static Mutex<HashMap<MemoryKey, (Stamp, Bundled)>> {
    static MEMORY: OnceLock<Mutex<HashMap<MemoryKey, (Stamp, Bundled)>>> = OnceLock::new();
    MEMORY.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The bytecode of this version of the file, if compiled before in this process.
pub fn from_memory(path: &Path, kind: Kind, stamp: Stamp) -> Option<Bundled> {
    let memory = memory().lock().ok()?;
    match memory.get(&(path.to_path_buf(), kind)) {
        Some((seen, bundled)) if *seen == stamp => Some(*bundled),
        _ => None,
    }
}

/// Keeps bytecode for the rest of the process.
pub fn keep(path: &Path, kind: Kind, stamp: Stamp, bytes: Vec<u8>) -> Bundled {
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    let bundled: Bundled = Box::leak(Box::new([(BUNDLE_ENTRY, bytes)]));
    if let Ok(mut memory) = memory().lock() {
        memory.insert((path.to_path_buf(), kind), (stamp, bundled));
    }
    bundled
}

fn disk_file(root: &Path, path: &Path, kind: Kind) -> PathBuf {
    let mut hash = Sha256::new();
    hash.update(path.as_os_str().as_encoded_bytes());
    hash.update([kind as u8]);
    let digest = hash.finalize();
    let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    root.join(DISK_DIR).join(format!("{name}.qbc"))
}

fn header(path: &Path, kind: Kind, stamp: Stamp) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    for part in [
        FORMAT_STAMP.as_bytes(),
        &super::source::SOURCE_FORMAT.to_le_bytes(),
        path.as_os_str().as_encoded_bytes(),
    ] {
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
        out.extend_from_slice(part);
    }
    out.extend_from_slice(&stamp.size.to_le_bytes());
    out.extend_from_slice(&stamp.modified_ns.to_le_bytes());
    out.push(kind as u8);
    out
}

/// The bytecode stored under `root` for this version of the file, if valid.
pub fn from_disk(root: &Path, path: &Path, kind: Kind, stamp: Stamp) -> Option<Vec<u8>> {
    let data = std::fs::read(disk_file(root, path, kind)).ok()?;
    let expected = header(path, kind, stamp);
    let rest = data.strip_prefix(expected.as_slice())?;
    if rest.len() < 32 {
        return None;
    }
    let (digest, bytecode) = rest.split_at(32);
    if Sha256::digest(bytecode).as_slice() != digest {
        return None;
    }
    Some(bytecode.to_vec())
}

/// Stores bytecode under `root`; failures (a read-only install) are ignored: the file is
/// compiled again next time.
pub fn to_disk(root: &Path, path: &Path, kind: Kind, stamp: Stamp, bytecode: &[u8]) {
    let file = disk_file(root, path, kind);
    let Some(dir) = file.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut data = header(path, kind, stamp);
    data.extend_from_slice(&Sha256::digest(bytecode));
    data.extend_from_slice(bytecode);
    let Ok(mut temp) = tempfile_in(dir) else {
        return;
    };
    if temp.1.write_all(&data).is_ok() && temp.1.flush().is_ok() {
        let _ = std::fs::rename(&temp.0, &file);
    } else {
        let _ = std::fs::remove_file(&temp.0);
    }
}

/// A uniquely named new file in `dir`.
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!(".tmp-{}-{n}", std::process::id()));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn disk_entries_are_checked_before_use() {
        let temp = tempfile::tempdir().unwrap();
        let root = temp.path();
        let path = root.join("node_modules/x/index.js");
        let stamp = Stamp {
            size: 10,
            modified_ns: 42,
        };
        to_disk(root, &path, Kind::Esm, stamp, b"bytecode");
        assert_eq!(
            from_disk(root, &path, Kind::Esm, stamp).as_deref(),
            Some(&b"bytecode"[..])
        );
        // Another version of the source, another kind, another path: nothing.
        let newer = Stamp {
            size: 10,
            modified_ns: 43,
        };
        assert!(from_disk(root, &path, Kind::Esm, newer).is_none());
        assert!(from_disk(root, &path, Kind::CommonJs, stamp).is_none());
        // A corrupted entry is refused.
        let file = disk_file(root, &path, Kind::Esm);
        let mut data = std::fs::read(&file).unwrap();
        let last = data.len() - 1;
        data[last] ^= 1;
        std::fs::write(&file, data).unwrap();
        assert!(from_disk(root, &path, Kind::Esm, stamp).is_none());
        // No temporary files are left behind.
        let leftovers: Vec<_> = std::fs::read_dir(root.join(DISK_DIR))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn memory_entries_follow_the_stamp() {
        let path = PathBuf::from("/nowhere/memory-test.js");
        let stamp = Stamp {
            size: 1,
            modified_ns: 1,
        };
        assert!(from_memory(&path, Kind::Esm, stamp).is_none());
        keep(&path, Kind::Esm, stamp, vec![1, 2, 3]);
        let bundled = from_memory(&path, Kind::Esm, stamp).unwrap();
        assert_eq!(bundled[0].1, &[1, 2, 3]);
        let changed = Stamp {
            size: 2,
            modified_ns: 1,
        };
        assert!(from_memory(&path, Kind::Esm, changed).is_none());
    }
}
