//! Driving the real `bolt` TUI in tmux the way a person would: keys in, screen text out.

use std::process::Command;
use std::time::{Duration, Instant};

/// A private tmux server (killed on drop) with one session named `bolt`.
pub struct Tmux {
    pub server: String,
}

impl Tmux {
    /// A server named after this test process and `name`, so tests can run side by side.
    pub fn new(name: &str) -> Tmux {
        Tmux {
            server: format!("bolt-{name}-{}", std::process::id()),
        }
    }

    /// A new server with `command` started in a `width`×`height` session.
    pub fn launch(name: &str, width: u16, height: u16, command: &str) -> Tmux {
        let tmux = Tmux::new(name);
        tmux.start(width, height, command);
        tmux
    }

    /// Whether tmux can be used; outside CI a missing tmux skips the test (with a note).
    pub fn available() -> bool {
        if Command::new("tmux").arg("-V").output().is_ok() {
            return true;
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "tmux is required in CI (.ci/run installs it)"
        );
        eprintln!("tmux is not installed: skipping the TUI walk-through");
        false
    }

    /// Starts the session running `command` in a `width`×`height` window.
    pub fn start(&self, width: u16, height: u16, command: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-s",
            "bolt",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            command,
        ]);
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.server)
            .args(args)
            .output()
            .expect("tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", "-t", "bolt", key]);
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// Types text literally (no key names).
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "bolt", "-l", text]);
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "bolt"])
    }

    /// The screen with its escape sequences (colours), as the terminal got them.
    pub fn screen_with_escapes(&self) -> String {
        self.run(&["capture-pane", "-p", "-e", "-t", "bolt"])
    }

    /// A tmux format value of the pane, e.g. `#{cursor_flag}`.
    pub fn pane(&self, format: &str) -> String {
        self.run(&["display", "-p", "-t", "bolt", format])
            .trim()
            .to_string()
    }

    /// Waits until the screen shows `text`; panics with the screen when it doesn't.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_until(text, |screen| screen.contains(text))
    }

    /// Waits until `ready` holds for the screen; panics with `what` and the screen.
    pub fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {what:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}
