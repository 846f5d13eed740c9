//! Acting as root or as another Unix user, for the tests of who may do what.

use crate::binaries::bin;
use crate::daemon::Daemon;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Whether the tests run as root (needed to mount a small filesystem or act as another
/// user); tests that need it print a notice and pass when not.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A Unix user the tests create (as root) to run `bolt` as someone other than boltd's
/// user. [`unix_user`] returns `None`, after printing why, when that can't be done.
pub struct UnixUser {
    pub name: String,
}

/// Creates (or reuses) the system user `name`, a member of `groups` (created too). `None` with a printed notice when the tests don't run as root or the system
/// lacks useradd/groupadd/setpriv.
pub fn unix_user(name: &str, groups: &[&str]) -> Option<UnixUser> {
    if !is_root() {
        eprintln!("notice: skipped: acting as another Unix user needs root");
        return None;
    }
    for tool in ["useradd", "groupadd", "setpriv"] {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !found {
            eprintln!("notice: skipped: {tool} is not installed");
            return None;
        }
    }
    // /etc/passwd and /etc/group are locked while another test edits them: retry.
    let run = |args: &[&str]| {
        for _ in 0..50 {
            let out = Command::new(args[0])
                .args(&args[1..])
                .output()
                .expect("run a user tool");
            // 9: the name exists already (from an earlier test).
            if out.status.success() || out.status.code() == Some(9) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{args:?} kept failing");
    };
    for group in groups {
        run(&["groupadd", "-f", group]);
    }
    let groups = groups.join(",");
    run(&[
        "useradd",
        "--system",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "-G",
        &groups,
        name,
    ]);
    // An existing user from an earlier run may lack a group.
    run(&["usermod", "-a", "-G", &groups, name]);
    Some(UnixUser {
        name: name.to_string(),
    })
}

impl Daemon {
    /// Runs the real `bolt` as `user` (its uid, gid and groups), against this daemon.
    pub fn bolt_as(&self, user: &UnixUser, args: &[&str]) -> Output {
        let gid = Command::new("id")
            .args(["-g", &user.name])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .expect("the user's group");
        Command::new("setpriv")
            .arg(format!("--reuid={}", user.name))
            .arg(format!("--regid={gid}"))
            .arg("--init-groups")
            .arg("--")
            .arg(bin("bolt"))
            .arg("--socket")
            .arg(&self.socket)
            .args(args)
            .env_remove("BOLT_CONFIG")
            .env_remove("BOLT_DATA_DIR")
            .env_remove("XDG_CONFIG_HOME")
            .env_remove("XDG_DATA_HOME")
            // Not root's home: the user can't read it (bolt would refuse its config dir).
            .env("HOME", "/nonexistent")
            .stdin(Stdio::null())
            .output()
            .expect("run bolt as another user")
    }
}
