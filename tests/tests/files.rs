//! boltd's files: private directories it creates itself, refusals (each with its fix) of
//! directories and files others could tamper with, a socket it never takes from another
//! boltd, and a client that talks only to a daemon it trusts.

use bolt_e2e::{Daemon, Options, bin, boltd_refusal, is_root};
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .mode()
        & 0o7777
}

fn args<'a>(data: &'a Path, socket: &'a Path) -> Vec<&'a OsStr> {
    vec![
        OsStr::new("--data-dir"),
        data.as_os_str(),
        OsStr::new("--socket"),
        socket.as_os_str(),
    ]
}

#[test]
fn a_regular_file_at_the_socket_path_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("boltd.sock");
    fs::write(&socket, "someone's notes").unwrap();
    let (status, stderr) = boltd_refusal(&args(&dir.path().join("data"), &socket));
    assert!(!status.success());
    assert!(
        stderr.contains(&format!(
            "the socket path {} is a regular file",
            socket.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("never another kind of file"), "{stderr}");
    assert_eq!(fs::read_to_string(&socket).unwrap(), "someone's notes");
}

#[test]
fn a_socket_in_a_directory_everyone_can_write_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    fs::create_dir(&open).unwrap();
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    let (status, stderr) = boltd_refusal(&args(&dir.path().join("data"), &open.join("boltd.sock")));
    assert!(!status.success());
    assert!(
        stderr.contains("is writable by everyone (mode 0777)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`chmod 700 {}`", open.display())),
        "{stderr}"
    );
    assert_eq!(
        mode(&open),
        0o777,
        "boltd changes no directory it did not create"
    );
    assert!(!open.join("boltd.sock").exists());
}

#[test]
fn a_data_dir_everyone_can_write_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o757)).unwrap();
    let (status, stderr) = boltd_refusal(&args(&data, &dir.path().join("run/boltd.sock")));
    assert!(!status.success());
    assert!(
        stderr.contains(&format!(
            "the data dir {} is writable by everyone",
            data.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`chmod 700 {}`", data.display())),
        "{stderr}"
    );
    assert_eq!(mode(&data), 0o757);
    assert_eq!(
        fs::read_dir(&data).unwrap().count(),
        0,
        "nothing was created in it"
    );
}

/// A socket placed directly in a shared sticky directory (as /tmp is): boltd serves on it
/// and leaves the directory's mode as it found it, before and after it stops.
#[test]
fn a_socket_directly_in_a_sticky_shared_directory_leaves_its_mode_alone() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("tmp");
    fs::create_dir(&shared).unwrap();
    fs::set_permissions(&shared, fs::Permissions::from_mode(0o1777)).unwrap();
    let socket = shared.join("boltd.sock");
    let data = dir.path().join("data");
    let mut daemon = Daemon::start_with_options(
        dir,
        Options {
            data_dir: Some(data.clone()),
            socket: Some(socket.clone()),
            ..Options::default()
        },
    );
    assert_eq!(mode(&shared), 0o1777);
    assert_eq!(mode(&socket), 0o600);
    assert_eq!(mode(&data), 0o700, "a data dir boltd creates is private");
    let status = daemon.bolt(&["status"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert!(daemon.stop().success());
    assert_eq!(mode(&shared), 0o1777);
    assert!(!socket.exists(), "its own socket is removed at exit");
}

/// A second boltd with another data dir but the same socket path is refused and says who
/// serves it; the first keeps its socket and keeps answering.
#[test]
fn a_second_boltd_on_the_same_socket_is_refused_while_the_first_keeps_serving() {
    let first = Daemon::start();
    let other = tempfile::tempdir().unwrap();
    let (status, stderr) = boltd_refusal(&args(other.path(), &first.socket));
    assert!(!status.success());
    assert!(stderr.contains("is listening on the socket"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", first.pid())), "{stderr}");
    assert!(
        stderr.contains("does not take over a live socket"),
        "{stderr}"
    );
    let answer = first.bolt(&["status", "--json"]);
    assert!(
        answer.status.success(),
        "{}",
        String::from_utf8_lossy(&answer.stderr)
    );
    let status: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap();
    assert_eq!(
        status["pid"],
        first.pid(),
        "clients still reach the first boltd"
    );
    assert_eq!(status["data_dir"], first.data_dir().display().to_string());
}

/// A socket left by a boltd that died (nobody answers on it) is taken over.
#[test]
fn a_stale_socket_left_by_a_killed_boltd_is_replaced() {
    let mut daemon = Daemon::start();
    daemon.kill9();
    assert!(daemon.socket.exists(), "kill -9 leaves the socket behind");
    daemon.restart();
    assert!(daemon.bolt(&["status"]).status.success());
}

#[test]
fn a_pidfile_that_is_a_symlink_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();
    let target = dir.path().join("passwd");
    fs::write(&target, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    std::os::unix::fs::symlink(&target, data.join("boltd.pid")).unwrap();
    let (status, stderr) = boltd_refusal(&args(&data, &data.join("run/boltd.sock")));
    assert!(!status.success());
    assert!(stderr.contains("the pidfile"), "{stderr}");
    assert!(stderr.contains("is a symbolic link"), "{stderr}");
    assert!(
        stderr.contains(&format!("`rm {}`", data.join("boltd.pid").display())),
        "{stderr}"
    );
    assert_eq!(
        fs::read_to_string(&target).unwrap(),
        "root:x:0:0:root:/root:/bin/bash\n"
    );
}

#[test]
fn a_key_file_others_can_read_or_that_another_user_owns_is_refused() {
    let mut daemon = Daemon::start();
    daemon.stop();
    let key = daemon.data_dir().join("bolt.key");
    let key_text = fs::read_to_string(&key).unwrap();
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let args = args(daemon.data_dir(), &daemon.socket);
    let (status, stderr) = boltd_refusal(&args);
    assert!(!status.success());
    assert!(
        stderr.contains("can be read by other users (mode 0644)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("`chmod 600 {}`", key.display())),
        "{stderr}"
    );
    fs::set_permissions(&key, fs::Permissions::from_mode(0o600)).unwrap();
    if !is_root() {
        eprintln!("not root: skipping the key file owned by another user");
        return;
    }
    std::os::unix::fs::chown(&key, Some(65534), Some(65534)).unwrap();
    let (status, stderr) = boltd_refusal(&args);
    assert!(!status.success());
    assert!(stderr.contains("the key file"), "{stderr}");
    assert!(stderr.contains("uid 65534"), "{stderr}");
    assert!(
        stderr.contains(&format!("`chown root {}`", key.display())),
        "{stderr}"
    );
    std::os::unix::fs::chown(&key, Some(0), Some(0)).unwrap();
    daemon.restart();
    assert_eq!(
        fs::read_to_string(&key).unwrap(),
        key_text,
        "the key is untouched"
    );
}

/// Everything boltd creates is its user's alone: the database with its log and index, the
/// key, the pidfile, the socket, and the socket's directory.
#[test]
fn files_boltd_creates_are_private() {
    let daemon = Daemon::start();
    let data = daemon.data_dir();
    let database: &[&str] = if bolt_e2e::on_postgres() {
        &[]
    } else {
        &["bolt.db", "bolt.db-wal", "bolt.db-shm"]
    };
    for name in database.iter().chain(&["bolt.key", "boltd.pid"]) {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
    assert_eq!(mode(&daemon.socket), 0o600);
    assert_eq!(mode(&data.join("run")), 0o700);
}

/// Database files an older bolt left readable by everyone are made private at start.
#[test]
fn database_files_left_open_by_an_older_bolt_are_made_private() {
    if !bolt_e2e::sqlite_only("SQLite's database files in the data dir") {
        return;
    }
    let mut daemon = Daemon::start();
    daemon.stop();
    let db = daemon.data_dir().join("bolt.db");
    fs::set_permissions(&db, fs::Permissions::from_mode(0o644)).unwrap();
    daemon.restart();
    assert_eq!(mode(&db), 0o600);
}

const OTHER_USER: &str = "bolt-e2e-other";

/// The uid of a second user for the test, created if need be.
fn other_user() -> Option<(u32, u32)> {
    let uid = |out: std::process::Output| {
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse::<u32>()
            .ok()
    };
    let id = |flag: &str| {
        Command::new("id")
            .args([flag, OTHER_USER])
            .output()
            .ok()
            .and_then(uid)
    };
    if id("-u").is_none() {
        // Another test run may make it meanwhile: look again whatever this says.
        let _ = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                OTHER_USER,
            ])
            .status();
    }
    Some((id("-u")?, id("-g")?))
}

/// boltd on `data` (socket inside it), running as `uid`.
fn spawn_as((uid, gid): (u32, u32), data: &Path, stderr: Stdio) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    Command::new(bin("boltd"))
        .arg("--data-dir")
        .arg(data)
        .arg("--http")
        .arg("")
        .env_remove("BOLT_CONFIG")
        .env("HOME", data)
        .stdout(Stdio::null())
        .stderr(stderr)
        .uid(uid)
        .gid(gid)
        .spawn()
        .expect("spawn boltd as another user")
}

/// A daemon running as another user: `bolt` refuses to talk to it (sends nothing) and says
/// who it found, until `daemon_user` names that user.
#[test]
fn the_client_refuses_a_daemon_running_as_another_user() {
    if !is_root() {
        eprintln!("not root: skipping the daemon-run-by-another-user test");
        return;
    }
    let Some((uid, gid)) = other_user() else {
        eprintln!("could not create a second user: skipping the daemon-run-by-another-user test");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    fs::create_dir(&data).unwrap();
    fs::set_permissions(&data, fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&data, Some(uid), Some(gid)).unwrap();
    let socket = data.join("run/boltd.sock");
    let log = fs::File::create(dir.path().join("boltd.log")).unwrap();
    let mut child = spawn_as((uid, gid), &data, Stdio::from(log));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "boltd as {OTHER_USER} exited ({status}): {}",
                fs::read_to_string(dir.path().join("boltd.log")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "boltd as {OTHER_USER} did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let bolt = |config: Option<&Path>| {
        let mut command = Command::new(bin("bolt"));
        command
            .arg("--socket")
            .arg(&socket)
            .arg("status")
            .env_remove("BOLT_CONFIG")
            .env_remove("BOLT_DATA_DIR");
        if let Some(config) = config {
            command.env("BOLT_CONFIG", config);
        }
        command.output().unwrap()
    };
    let refused = bolt(None);
    let stderr = String::from_utf8_lossy(&refused.stderr).into_owned();
    let _ = child.kill();
    let stopped = child.wait();
    let _ = stopped;
    assert!(!refused.status.success(), "{stderr}");
    assert!(stderr.contains("refusing to talk to"), "{stderr}");
    assert!(
        stderr.contains(&format!("{OTHER_USER} (uid {uid})")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("daemon_user = \"{OTHER_USER}\"")),
        "{stderr}"
    );

    // The same daemon, trusted through bolt.toml.
    let mut child = spawn_as((uid, gid), &data, Stdio::null());
    let config = dir.path().join("bolt.toml");
    fs::write(&config, format!("daemon_user = \"{OTHER_USER}\"\n")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let trusted = loop {
        let out = bolt(Some(&config));
        if out.status.success() || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        trusted.status.success(),
        "{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(String::from_utf8_lossy(&trusted.stdout).contains("running as pid"));
}
