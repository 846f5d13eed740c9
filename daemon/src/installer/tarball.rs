//! Package tarballs: checking them against the registry's integrity, and unpacking them
//! safely.
//!
//! Integrity is a Subresource Integrity string (`sha512-<base64>`, possibly several
//! space-separated hashes): the strongest algorithm in it is checked. Registries give old
//! packages only `dist.shasum` (hex SHA-1), used only when there is no integrity.
//!
//! Unpacking strips the leading folder every npm tarball has (`package/`, whatever its
//! name) and refuses: absolute paths, `..`, writing through a symlink, symlinks or hard
//! links pointing outside the package, devices and FIFOs. Hard links are copied. Sizes are
//! capped (per file, per package, entry count). Modes are reduced to 0644/0755.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::Digest;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// Caps of one unpacked package.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
    pub max_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 256 * 1024 * 1024,
            max_total_bytes: 1024 * 1024 * 1024,
            max_entries: 200_000,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IntegrityError {
    #[error("expected {expected}, got {actual}")]
    Mismatch { expected: String, actual: String },
    #[error("{0}")]
    Unusable(String),
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("not a valid npm package tarball: {0}")]
    Corrupt(String),
    #[error("unsafe entry {entry:?}: {why}")]
    Unsafe { entry: String, why: String },
    #[error("too large: {0}")]
    TooLarge(String),
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// `sha512-<base64>` of `bytes`: how bolt records what it checked or computed.
pub fn sha512_sri(bytes: &[u8]) -> String {
    format!("sha512-{}", BASE64.encode(sha2::Sha512::digest(bytes)))
}

/// Checks `bytes` against the registry's `integrity` (or, lacking it, `shasum`) and
/// returns the hash that was checked, as an SRI string.
pub fn check_integrity(
    bytes: &[u8],
    integrity: Option<&str>,
    shasum: Option<&str>,
) -> Result<String, IntegrityError> {
    if let Some(sri) = integrity.map(str::trim).filter(|s| !s.is_empty()) {
        let strength = |algo: &str| {
            ["sha1", "sha256", "sha384", "sha512"]
                .iter()
                .position(|a| *a == algo)
        };
        let best = sri
            .split_whitespace()
            .filter_map(|entry| {
                let (algo, rest) = entry.split_once('-')?;
                let digest = rest.split('?').next().unwrap_or(rest);
                Some((strength(algo)?, algo, digest))
            })
            .max_by_key(|(rank, _, _)| *rank);
        let Some((_, algo, expected)) = best else {
            return Err(IntegrityError::Unusable(format!(
                "integrity {sri:?} uses no hash bolt knows (sha512, sha384, sha256, sha1)"
            )));
        };
        let actual = match algo {
            "sha512" => BASE64.encode(sha2::Sha512::digest(bytes)),
            "sha384" => BASE64.encode(sha2::Sha384::digest(bytes)),
            "sha256" => BASE64.encode(sha2::Sha256::digest(bytes)),
            _ => BASE64.encode(sha1::Sha1::digest(bytes)),
        };
        return if actual == expected {
            Ok(format!("{algo}-{expected}"))
        } else {
            Err(IntegrityError::Mismatch {
                expected: format!("{algo}-{expected}"),
                actual: format!("{algo}-{actual}"),
            })
        };
    }
    if let Some(hex) = shasum.map(str::trim).filter(|s| !s.is_empty()) {
        let digest = sha1::Sha1::digest(bytes);
        let actual: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        return if actual.eq_ignore_ascii_case(hex) {
            Ok(format!("sha1-{}", BASE64.encode(digest)))
        } else {
            Err(IntegrityError::Mismatch {
                expected: format!("shasum {hex}"),
                actual: format!("shasum {actual}"),
            })
        };
    }
    Err(IntegrityError::Unusable(
        "the registry gives neither dist.integrity nor dist.shasum for it".into(),
    ))
}

/// What was unpacked.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unpacked {
    pub files: u64,
    pub bytes: u64,
}

/// Unpacks a gzipped npm tarball into `dest` (the package folder; created if missing).
pub fn unpack(tgz: &[u8], dest: &Path, limits: Limits) -> Result<Unpacked, UnpackError> {
    std::fs::create_dir_all(dest).map_err(|source| UnpackError::Io {
        path: dest.to_path_buf(),
        source,
    })?;
    let corrupt = |e: std::io::Error| UnpackError::Corrupt(e.to_string());
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    let mut done = Unpacked::default();
    let mut entries_seen = 0u64;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        entries_seen += 1;
        if entries_seen > limits.max_entries {
            return Err(UnpackError::TooLarge(format!(
                "more than {} entries",
                limits.max_entries
            )));
        }
        let raw = entry.path().map_err(corrupt)?.into_owned();
        let shown = raw.display().to_string();
        let Some(relative) = package_relative(&raw, &shown)? else {
            continue; // the leading folder itself
        };
        let kind = entry.header().entry_type();
        let target = dest.join(&relative);
        let unsafe_entry = |why: &str| UnpackError::Unsafe {
            entry: shown.clone(),
            why: why.to_string(),
        };
        ensure_no_symlink_on_the_way(dest, &relative, &shown)?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| UnpackError::Io { path, source }
        };
        use tar::EntryType;
        match kind {
            EntryType::Directory => {
                std::fs::create_dir_all(&target).map_err(io(&target))?;
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let size = entry.header().size().map_err(corrupt)?;
                if size > limits.max_file_bytes {
                    return Err(UnpackError::TooLarge(format!(
                        "{shown} is {size} bytes (limit {})",
                        limits.max_file_bytes
                    )));
                }
                if done.bytes + size > limits.max_total_bytes {
                    return Err(UnpackError::TooLarge(format!(
                        "the package unpacks to more than {} bytes",
                        limits.max_total_bytes
                    )));
                }
                let executable = entry.header().mode().is_ok_and(|m| m & 0o111 != 0);
                make_parent(&target)?;
                clear_for_file(&target, &shown)?;
                let mut file = open_new(&target, executable).map_err(io(&target))?;
                let copied =
                    std::io::copy(&mut (&mut entry).take(size), &mut file).map_err(corrupt)?;
                file.flush().map_err(io(&target))?;
                done.files += 1;
                done.bytes += copied;
            }
            EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| unsafe_entry("a symlink without a target"))?
                    .into_owned();
                if link.is_absolute() || !stays_inside(&relative, &link) {
                    return Err(unsafe_entry(&format!(
                        "a symlink to {} points outside the package",
                        link.display()
                    )));
                }
                make_parent(&target)?;
                clear_for_file(&target, &shown)?;
                std::os::unix::fs::symlink(&link, &target).map_err(io(&target))?;
            }
            EntryType::Link => {
                let link = entry
                    .link_name()
                    .map_err(corrupt)?
                    .ok_or_else(|| unsafe_entry("a hard link without a target"))?
                    .into_owned();
                let link_shown = link.display().to_string();
                let source = package_relative(&link, &link_shown)?
                    .map(|rel| dest.join(rel))
                    .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.is_file()))
                    .ok_or_else(|| {
                        unsafe_entry(&format!(
                            "a hard link to {link_shown}, which is not a file unpacked before it"
                        ))
                    })?;
                make_parent(&target)?;
                clear_for_file(&target, &shown)?;
                std::fs::copy(&source, &target).map_err(io(&target))?;
                done.files += 1;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(unsafe_entry("a device or FIFO"));
            }
            // Metadata entries (pax and GNU headers the tar crate has not folded in).
            _ => {}
        }
    }
    if !dest.join("package.json").is_file() {
        return Err(UnpackError::Corrupt(
            "it has no package.json in its top folder".into(),
        ));
    }
    Ok(done)
}

/// The package.json of a gzipped npm tarball, without unpacking anything.
pub fn read_package_json(tgz: &[u8]) -> Result<serde_json::Value, UnpackError> {
    let corrupt = |e: std::io::Error| UnpackError::Corrupt(e.to_string());
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    for entry in archive.entries().map_err(corrupt)? {
        let entry = entry.map_err(corrupt)?;
        let raw = entry.path().map_err(corrupt)?.into_owned();
        let shown = raw.display().to_string();
        if package_relative(&raw, &shown)?.as_deref() != Some(Path::new("package.json")) {
            continue;
        }
        let mut text = String::new();
        entry
            .take(16 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(corrupt)?;
        return serde_json::from_str(&text)
            .map_err(|e| UnpackError::Corrupt(format!("its package.json is not JSON: {e}")));
    }
    Err(UnpackError::Corrupt(
        "it has no package.json in its top folder".into(),
    ))
}

/// The entry's path below the tarball's top folder; `None` for the top folder itself.
fn package_relative(raw: &Path, shown: &str) -> Result<Option<PathBuf>, UnpackError> {
    let mut parts = Vec::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(UnpackError::Unsafe {
                    entry: shown.to_string(),
                    why: "a path with `..`".into(),
                });
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(UnpackError::Unsafe {
                    entry: shown.to_string(),
                    why: "an absolute path".into(),
                });
            }
        }
    }
    if parts.len() < 2 {
        return Ok(None);
    }
    Ok(Some(parts[1..].iter().collect()))
}

/// Whether `link` (relative to the folder of `entry`) stays within the package.
fn stays_inside(entry: &Path, link: &Path) -> bool {
    let mut depth: i64 = entry.components().count() as i64 - 1;
    for component in link.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth -= 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    true
}

/// Refuses an entry whose folders include a symlink an earlier entry made: writing there
/// could land anywhere.
fn ensure_no_symlink_on_the_way(
    dest: &Path,
    relative: &Path,
    shown: &str,
) -> Result<(), UnpackError> {
    let mut path = dest.to_path_buf();
    let parts: Vec<Component> = relative.components().collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        path.push(part);
        if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(UnpackError::Unsafe {
                entry: shown.to_string(),
                why: "it would be written through a symlink".into(),
            });
        }
    }
    Ok(())
}

fn make_parent(target: &Path) -> Result<(), UnpackError> {
    match target.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(|source| UnpackError::Io {
            path: parent.to_path_buf(),
            source,
        }),
        None => Ok(()),
    }
}

/// A later entry replaces an earlier file or link of the same name (as tar does), never a
/// folder.
fn clear_for_file(target: &Path, shown: &str) -> Result<(), UnpackError> {
    match std::fs::symlink_metadata(target) {
        Ok(meta) if meta.is_dir() => Err(UnpackError::Unsafe {
            entry: shown.to_string(),
            why: "a file where a folder already is".into(),
        }),
        Ok(_) => std::fs::remove_file(target).map_err(|source| UnpackError::Io {
            path: target.to_path_buf(),
            source,
        }),
        Err(_) => Ok(()),
    }
}

fn open_new(path: &Path, executable: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if executable { 0o755 } else { 0o644 })
        .open(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
pub(crate) mod tests {
    use super::*;

    /// A gzipped tarball built entry by entry, including entries `tar::Builder` refuses.
    pub struct TarBuilder {
        tar: Vec<u8>,
    }

    impl TarBuilder {
        pub fn new() -> Self {
            TarBuilder { tar: Vec::new() }
        }

        fn raw(mut self, path: &str, kind: u8, body: &[u8], link: &str) -> Self {
            let mut header = [0u8; 512];
            header[..path.len()].copy_from_slice(path.as_bytes());
            header[100..108].copy_from_slice(b"0000644\0");
            header[108..116].copy_from_slice(b"0000000\0");
            header[116..124].copy_from_slice(b"0000000\0");
            header[124..136].copy_from_slice(format!("{:011o}\0", body.len()).as_bytes());
            header[136..148].copy_from_slice(b"00000000000\0");
            header[156] = kind;
            header[157..157 + link.len()].copy_from_slice(link.as_bytes());
            header[257..263].copy_from_slice(b"ustar\0");
            header[263..265].copy_from_slice(b"00");
            header[148..156].copy_from_slice(b"        ");
            let sum: u32 = header.iter().map(|b| *b as u32).sum();
            header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
            self.tar.extend_from_slice(&header);
            self.tar.extend_from_slice(body);
            let pad = (512 - body.len() % 512) % 512;
            self.tar.extend(std::iter::repeat_n(0u8, pad));
            self
        }

        pub fn file(self, path: &str, body: &[u8]) -> Self {
            self.raw(path, b'0', body, "")
        }
        pub fn dir(self, path: &str) -> Self {
            self.raw(path, b'5', b"", "")
        }
        pub fn symlink(self, path: &str, target: &str) -> Self {
            self.raw(path, b'2', b"", target)
        }
        pub fn hardlink(self, path: &str, target: &str) -> Self {
            self.raw(path, b'1', b"", target)
        }
        pub fn fifo(self, path: &str) -> Self {
            self.raw(path, b'6', b"", "")
        }

        pub fn gzip(mut self) -> Vec<u8> {
            self.tar.extend(std::iter::repeat_n(0u8, 1024));
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&self.tar).unwrap();
            encoder.finish().unwrap()
        }
    }

    /// A minimal npm package tarball.
    pub fn package_tgz(package_json: &str, files: &[(&str, &str)]) -> Vec<u8> {
        let mut builder = TarBuilder::new().file("package/package.json", package_json.as_bytes());
        for (path, body) in files {
            builder = builder.file(&format!("package/{path}"), body.as_bytes());
        }
        builder.gzip()
    }

    #[test]
    fn integrity_checks_the_strongest_hash() {
        let bytes = b"hello";
        let sri = sha512_sri(bytes);
        assert_eq!(check_integrity(bytes, Some(&sri), None), Ok(sri.clone()));
        let both = format!("sha1-AAAA {sri}");
        assert_eq!(check_integrity(bytes, Some(&both), None), Ok(sri.clone()));
        let other = sha512_sri(b"other");
        let Err(IntegrityError::Mismatch { expected, actual }) =
            check_integrity(bytes, Some(&other), None)
        else {
            panic!("a different hash must not pass");
        };
        assert_eq!(expected, other);
        assert_eq!(actual, sri);
        // shasum only when there is no integrity.
        let hex = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";
        assert!(
            check_integrity(bytes, None, Some(hex))
                .unwrap()
                .starts_with("sha1-")
        );
        assert!(check_integrity(bytes, None, Some("00")).is_err());
        assert!(matches!(
            check_integrity(bytes, Some("md5-xyz"), None),
            Err(IntegrityError::Unusable(_))
        ));
        assert!(check_integrity(bytes, None, None).is_err());
    }

    #[test]
    fn unpacks_a_package_without_its_top_folder() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = TarBuilder::new()
            .dir("package/")
            .file("package/package.json", br#"{"name":"x","version":"1.0.0"}"#)
            .file("package/dist/index.js", b"export const x = 1;")
            .symlink("package/dist/alias.js", "index.js")
            .hardlink("package/dist/copy.js", "package/dist/index.js")
            .gzip();
        let done = unpack(&tgz, dir.path(), Limits::default()).unwrap();
        assert_eq!(done.files, 3);
        let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();
        assert_eq!(read("dist/index.js"), "export const x = 1;");
        assert_eq!(read("dist/alias.js"), "export const x = 1;");
        assert_eq!(read("dist/copy.js"), "export const x = 1;");
        let json = read_package_json(&tgz).unwrap();
        assert_eq!(json["name"], "x");
    }

    #[test]
    fn other_top_folder_names_are_stripped_too() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = TarBuilder::new()
            .file("./node/package.json", b"{}")
            .file("node/lib/a.js", b"1")
            .gzip();
        unpack(&tgz, dir.path(), Limits::default()).unwrap();
        assert!(dir.path().join("lib/a.js").is_file());
    }

    #[test]
    fn refuses_entries_that_escape_the_package() {
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            (
                "dot-dot",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .file("package/../../evil.js", b"x")
                    .gzip(),
                "`..`",
            ),
            (
                "absolute",
                TarBuilder::new().file("/tmp/evil.js", b"x").gzip(),
                "absolute",
            ),
            (
                "symlink out",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .symlink("package/lib", "../../..")
                    .gzip(),
                "outside the package",
            ),
            (
                "absolute symlink",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .symlink("package/passwd", "/etc/passwd")
                    .gzip(),
                "outside the package",
            ),
            (
                "write through symlink",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .symlink("package/lib", ".")
                    .file("package/lib/x.js", b"x")
                    .gzip(),
                "through a symlink",
            ),
            (
                "hard link out",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .hardlink("package/x", "/etc/passwd")
                    .gzip(),
                "absolute",
            ),
            (
                "hard link to nothing",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .hardlink("package/x", "package/missing")
                    .gzip(),
                "not a file unpacked before it",
            ),
            (
                "fifo",
                TarBuilder::new()
                    .file("package/package.json", b"{}")
                    .fifo("package/pipe")
                    .gzip(),
                "device or FIFO",
            ),
        ];
        for (name, tgz, says) in cases {
            let root = tempfile::tempdir().unwrap();
            let dest = root.path().join("pkg");
            let error = unpack(&tgz, &dest, Limits::default()).unwrap_err();
            assert!(
                matches!(error, UnpackError::Unsafe { .. }),
                "{name}: {error}"
            );
            assert!(error.to_string().contains(says), "{name}: {error}");
            assert!(!root.path().join("evil.js").exists(), "{name}");
        }
    }

    #[test]
    fn caps_sizes_and_rejects_garbage() {
        let dir = tempfile::tempdir().unwrap();
        let tgz = package_tgz("{}", &[("big.js", &"x".repeat(5000))]);
        let limits = Limits {
            max_file_bytes: 1000,
            ..Limits::default()
        };
        assert!(matches!(
            unpack(&tgz, &dir.path().join("a"), limits),
            Err(UnpackError::TooLarge(_))
        ));
        let limits = Limits {
            max_entries: 1,
            ..Limits::default()
        };
        assert!(matches!(
            unpack(&tgz, &dir.path().join("b"), limits),
            Err(UnpackError::TooLarge(_))
        ));
        let error = unpack(
            b"not a tarball at all",
            &dir.path().join("c"),
            Limits::default(),
        )
        .unwrap_err();
        assert!(matches!(error, UnpackError::Corrupt(_)), "{error}");
        let no_manifest = TarBuilder::new().file("package/index.js", b"1").gzip();
        let error = unpack(&no_manifest, &dir.path().join("d"), Limits::default()).unwrap_err();
        assert!(error.to_string().contains("no package.json"), "{error}");
    }
}
