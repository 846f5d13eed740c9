//! A tiny npm registry on 127.0.0.1 for installer tests: package documents (the abbreviated
//! form the installer asks for) and tarballs built in the test, with switches to serve a
//! wrong integrity, a corrupt tarball or a slow one.

use base64::Engine as _;
use sha2::Digest;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One package version the registry serves.
#[derive(Debug, Clone, Default)]
pub struct MockPackage {
    pub name: String,
    pub version: String,
    pub dependencies: Vec<(String, String)>,
    /// Files besides package.json, relative to the package root.
    pub files: Vec<(String, String)>,
    /// Serve this integrity instead of the tarball's own.
    pub wrong_integrity: bool,
    /// Serve garbage bytes (with their own, matching integrity) instead of a tarball.
    pub corrupt: bool,
}

impl MockPackage {
    pub fn new(name: &str, version: &str) -> MockPackage {
        MockPackage {
            name: name.into(),
            version: version.into(),
            files: vec![(
                "index.js".into(),
                format!("module.exports = {{ name: {name:?}, version: {version:?} }};\n"),
            )],
            ..MockPackage::default()
        }
    }

    pub fn dep(mut self, name: &str, range: &str) -> MockPackage {
        self.dependencies.push((name.into(), range.into()));
        self
    }

    pub fn file(mut self, path: &str, text: &str) -> MockPackage {
        self.files.push((path.into(), text.into()));
        self
    }

    /// The package.json text.
    pub fn package_json(&self) -> String {
        let deps: serde_json::Map<String, serde_json::Value> = self
            .dependencies
            .iter()
            .map(|(n, r)| (n.clone(), serde_json::Value::String(r.clone())))
            .collect();
        serde_json::json!({
            "name": self.name,
            "version": self.version,
            "main": "index.js",
            "dependencies": deps,
            "scripts": {"postinstall": "touch /tmp/bolt-must-never-run-install-scripts"},
        })
        .to_string()
    }

    /// The gzipped tarball, as `npm pack` writes it (everything under `package/`).
    pub fn tarball(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut add = |path: &str, text: &[u8]| {
            let mut header = tar::Header::new_ustar();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            header.set_cksum();
            builder
                .append_data(&mut header, format!("package/{path}"), text)
                .expect("tar entry");
        };
        add("package.json", self.package_json().as_bytes());
        for (path, text) in &self.files {
            add(path, text.as_bytes());
        }
        let tar = builder.into_inner().expect("tar");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).expect("gzip");
        gz.finish().expect("gzip")
    }

    /// Writes the tarball to `dir/<name>-<version>.tgz` (as `npm pack` would).
    pub fn pack_into(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let file = dir.join(format!(
            "{}-{}.tgz",
            self.name.trim_start_matches('@').replace('/', "-"),
            self.version
        ));
        std::fs::write(&file, self.tarball()).expect("write tgz");
        file
    }
}

pub fn sri(bytes: &[u8]) -> String {
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

struct State {
    documents: BTreeMap<String, String>,
    tarballs: BTreeMap<String, Vec<u8>>,
}

/// A registry serving `packages` until dropped.
pub struct MockRegistry {
    pub url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    /// Requests served so far (documents and tarballs).
    pub hits: Arc<AtomicUsize>,
    /// Delay before each tarball response.
    pub tarball_delay: Arc<Mutex<Duration>>,
    /// When set, every request must carry this `authorization` header (else 401).
    pub required_auth: Arc<Mutex<Option<String>>>,
}

impl MockRegistry {
    pub fn start(packages: &[MockPackage]) -> MockRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mock registry");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            documents: BTreeMap::new(),
            tarballs: BTreeMap::new(),
        }));
        let registry = MockRegistry {
            url,
            state,
            stop: Arc::new(AtomicBool::new(false)),
            hits: Arc::new(AtomicUsize::new(0)),
            tarball_delay: Arc::new(Mutex::new(Duration::ZERO)),
            required_auth: Arc::new(Mutex::new(None)),
        };
        registry.publish(packages);
        let state = registry.state.clone();
        let stop = registry.stop.clone();
        let hits = registry.hits.clone();
        let delay = registry.tarball_delay.clone();
        let auth = registry.required_auth.clone();
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let state = state.clone();
                        let hits = hits.clone();
                        let delay = *delay.lock().expect("delay");
                        let auth = auth.lock().expect("auth").clone();
                        std::thread::spawn(move || serve(stream, &state, &hits, delay, auth));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        registry
    }

    /// (Re)builds the documents and tarballs for `packages` (by name, all versions given).
    pub fn publish(&self, packages: &[MockPackage]) {
        let mut state = self.state.lock().expect("state");
        let mut by_name: BTreeMap<&str, Vec<&MockPackage>> = BTreeMap::new();
        for package in packages {
            by_name.entry(&package.name).or_default().push(package);
        }
        for (name, versions) in by_name {
            let mut docs = serde_json::Map::new();
            let mut latest = String::new();
            for package in versions {
                let file = format!(
                    "tarballs/{}-{}.tgz",
                    name.replace('/', "+"),
                    package.version
                );
                let bytes = if package.corrupt {
                    b"this is not a gzipped tarball at all".to_vec()
                } else {
                    package.tarball()
                };
                let integrity = if package.wrong_integrity {
                    sri(b"some other bytes")
                } else {
                    sri(&bytes)
                };
                let deps: serde_json::Map<String, serde_json::Value> = package
                    .dependencies
                    .iter()
                    .map(|(n, r)| (n.clone(), serde_json::Value::String(r.clone())))
                    .collect();
                docs.insert(
                    package.version.clone(),
                    serde_json::json!({
                        "name": name,
                        "version": package.version,
                        "dependencies": deps,
                        "hasInstallScript": true,
                        "dist": {"tarball": format!("{}{file}", self.url), "integrity": integrity},
                    }),
                );
                state.tarballs.insert(file, bytes);
                latest = package.version.clone();
            }
            let document = serde_json::json!({
                "name": name,
                "dist-tags": {"latest": latest},
                "versions": docs,
            });
            state
                .documents
                .insert(name.replace('/', "%2f"), document.to_string());
        }
    }
}

impl Drop for MockRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve(
    stream: TcpStream,
    state: &Mutex<State>,
    hits: &AtomicUsize,
    delay: Duration,
    required_auth: Option<String>,
) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut authorization = None;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" || line == "\n" => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':')
                    && name.eq_ignore_ascii_case("authorization")
                {
                    authorization = Some(value.trim().to_string());
                }
            }
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/')
        .to_string();
    hits.fetch_add(1, Ordering::SeqCst);
    let (status, content_type, body) = {
        let state = state.lock().expect("state");
        if required_auth.is_some() && authorization != required_auth {
            (
                "401 Unauthorized",
                "application/json",
                b"{\"error\":\"login\"}".to_vec(),
            )
        } else if let Some(doc) = state.documents.get(&path) {
            (
                "200 OK",
                "application/vnd.npm.install-v1+json",
                doc.as_bytes().to_vec(),
            )
        } else if let Some(bytes) = state.tarballs.get(&path) {
            ("200 OK", "application/octet-stream", bytes.clone())
        } else {
            (
                "404 Not Found",
                "application/json",
                b"{\"error\":\"Not found\"}".to_vec(),
            )
        }
    };
    if path.starts_with("tarballs/") {
        std::thread::sleep(delay);
    }
    let mut stream = stream;
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
}
