//! The daemon's lifecycle and the socket protocol, through real processes.

use bolt_e2e::{Daemon, bin};
use bolt_shared::client::{Client, ClientError};
use bolt_shared::protocol::*;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::process::Command;

fn raw(daemon: &Daemon) -> (UnixStream, BufReader<UnixStream>) {
    let stream = UnixStream::connect(&daemon.socket).expect("connect");
    let reader = BufReader::new(stream.try_clone().expect("clone stream"));
    (stream, reader)
}

fn read_frame(reader: &mut BufReader<UnixStream>) -> ServerFrame {
    let mut line = String::new();
    reader.read_line(&mut line).expect("read frame");
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad frame {line:?}: {e}"))
}

#[test]
fn handshake_and_status_json() {
    let daemon = Daemon::start();
    let status = daemon.bolt_json(&["status"]);
    assert_eq!(status["protocol"], PROTOCOL_VERSION);
    assert_eq!(status["data_dir"], daemon.data_dir().display().to_string());
    assert_eq!(status["queue_depth"], 0);
    assert!(status["uptime_secs"].is_u64());
    // The socket is private: 0600 in a 0700 directory.
    let mode = std::fs::metadata(&daemon.socket)
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(daemon.socket.parent().unwrap())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
}

#[test]
fn second_instance_is_refused_naming_the_pid() {
    let daemon = Daemon::start();
    let second = daemon.spawn().wait_with_output().unwrap();
    assert!(!second.status.success());
    let stderr = std::fs::read_to_string(daemon.data_dir().join("boltd.log")).unwrap();
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(stderr.contains(&daemon.pid().to_string()), "{stderr}");
    // The first one is untouched.
    daemon.client().status().unwrap();
}

#[test]
fn kill_9_then_restart_works_and_keeps_the_store() {
    let mut daemon = Daemon::start();
    daemon.deploy_text(include_str!("../../config/example-project.yaml"));
    daemon.kill9();
    assert!(
        daemon.socket.exists(),
        "a killed daemon leaves its socket behind"
    );
    daemon.restart();
    let status = daemon.client().status().unwrap();
    assert_eq!(status.workflows, 2, "the store survived");
}

#[test]
fn sigterm_shuts_down_gracefully_and_removes_the_socket() {
    let mut daemon = Daemon::start();
    let status = daemon.stop();
    assert!(status.success(), "{status}");
    assert!(!daemon.socket.exists());
    assert!(!daemon.data_dir().join("boltd.pid").exists());
}

#[test]
fn garbage_and_oversized_frames_get_errors_and_the_daemon_keeps_serving() {
    let daemon = Daemon::start();
    let (mut stream, mut reader) = raw(&daemon);
    stream.write_all(b"this is not json\n").unwrap();
    match read_frame(&mut reader) {
        ServerFrame::Error { error, .. } => assert_eq!(error.code, ErrorCode::BadFrame),
        other => panic!("{other:?}"),
    }
    stream
        .write_all(b"{\"type\":\"request\",\"id\":9,\"request\":{\"kind\":\"no_such_thing\"}}\n")
        .unwrap();
    match read_frame(&mut reader) {
        ServerFrame::Error { id, error } => {
            assert_eq!(id, Some(9));
            assert_eq!(error.code, ErrorCode::BadFrame);
        }
        other => panic!("{other:?}"),
    }
    // Before the handshake a valid request is refused, politely.
    stream
        .write_all(
            &encode(&ClientFrame::Request {
                id: 1,
                request: Request::Ping,
            })
            .unwrap(),
        )
        .unwrap();
    match read_frame(&mut reader) {
        ServerFrame::Error { error, .. } => assert_eq!(error.code, ErrorCode::NoHandshake),
        other => panic!("{other:?}"),
    }
    let big = vec![b'x'; MAX_FRAME_BYTES + 10];
    stream.write_all(&big).unwrap();
    stream.write_all(b"\n").unwrap();
    match read_frame(&mut reader) {
        ServerFrame::Error { error, .. } => {
            assert_eq!(error.code, ErrorCode::BadFrame);
            assert!(error.message.contains("limit"), "{}", error.message);
        }
        other => panic!("{other:?}"),
    }
    // The same connection still works after a proper hello.
    stream
        .write_all(
            &encode(&ClientFrame::Hello {
                protocol: PROTOCOL_VERSION,
                client: "test".into(),
                parts: false,
            })
            .unwrap(),
        )
        .unwrap();
    assert!(matches!(read_frame(&mut reader), ServerFrame::Hello { .. }));
    stream
        .write_all(
            &encode(&ClientFrame::Request {
                id: 2,
                request: Request::Ping,
            })
            .unwrap(),
        )
        .unwrap();
    match read_frame(&mut reader) {
        ServerFrame::Response { id, response } => {
            assert_eq!(id, 2);
            assert_eq!(*response, Response::Pong);
        }
        other => panic!("{other:?}"),
    }
    // And other clients were never affected.
    daemon.client().status().unwrap();
}

#[test]
fn protocol_mismatch_says_to_restart_boltd() {
    let daemon = Daemon::start();
    let err = Client::connect_as(&daemon.socket, "bolt-old", PROTOCOL_VERSION + 1)
        .err()
        .unwrap();
    match err {
        ClientError::ProtocolMismatch(message) => {
            assert!(
                message.contains(&format!("protocol {}", PROTOCOL_VERSION + 1)),
                "{message}"
            );
            assert!(
                message.contains(&format!("speaks {PROTOCOL_VERSION}")),
                "{message}"
            );
            assert!(message.contains("restart boltd"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn status_without_a_daemon_says_how_to_start_it_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("nothing.sock");
    let out = Command::new(bin("bolt"))
        .arg("--socket")
        .arg(&socket)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("boltd is not running at {}", socket.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("start it with `boltd` or `bolt up`"),
        "{stderr}"
    );
}

#[test]
fn migrations_run_on_an_empty_dir_and_are_idempotent_on_restart() {
    let mut daemon = Daemon::start();
    if !bolt_e2e::on_postgres() {
        assert!(daemon.data_dir().join("bolt.db").exists());
    }
    daemon.stop();
    daemon.restart();
    daemon.stop();
    daemon.restart();
    assert_eq!(daemon.client().status().unwrap().projects, 0);
}

#[test]
fn bolt_up_starts_one_daemon_deploys_the_example_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        Command::new(bin("bolt"))
            .args(["up", "--no-tui"])
            .env("BOLT_DATA_DIR", dir.path())
            .env("BOLT_CONFIG", dir.path().join("none.toml"))
            .output()
            .unwrap()
    };
    std::fs::write(
        dir.path().join("none.toml"),
        "[http]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let first = run();
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        first.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(stdout.contains("deployed the example project"), "{stdout}");
    assert!(
        stdout.contains("/i/visits"),
        "the webhook URL is printed: {stdout}"
    );
    let pid = std::fs::read_to_string(dir.path().join("boltd.pid")).unwrap();
    let second = run();
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stderr).contains("already running"));
    assert!(!String::from_utf8_lossy(&second.stdout).contains("deployed the example"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("boltd.pid")).unwrap(),
        pid,
        "no second daemon"
    );
    let _ = Command::new("kill").arg(pid.trim()).status();
}
