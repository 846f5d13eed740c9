//! Work that needs the terminal itself: lending it to `$EDITOR` or `$PAGER` (leave the
//! alternate screen, raw mode off, run, take it back) and the OSC 52 clipboard escape.

use super::action::External;
use super::terminal;
use base64::Engine as _;
use std::io::Write;
use std::process::{Command, Stdio};

/// The longest text sent as OSC 52: terminals drop larger escapes silently (xterm's
/// default limit is about 100 kB of base64).
pub const OSC52_MAX_BYTES: usize = 74_000;

/// Does the work; `Ok` carries the edited text for an editor, a message otherwise.
pub fn perform(screen: &mut terminal::Screen, request: &External) -> Result<String, String> {
    match request {
        External::EditJob { text, .. } => lend(screen, || edit(text)),
        External::Page { text } => lend(screen, || page(text)).map(|()| String::new()),
        External::Copy { what, text } => copy(what, text),
    }
}

/// Runs `work` on the normal screen, then takes the terminal back and redraws it whole.
fn lend<T>(
    screen: &mut terminal::Screen,
    work: impl FnOnce() -> Result<T, String>,
) -> Result<T, String> {
    terminal::suspend();
    let result = work();
    terminal::resume().map_err(|err| format!("could not take the terminal back: {err}"))?;
    screen
        .clear()
        .map_err(|err| format!("could not redraw: {err}"))?;
    result
}

/// `$VISUAL`, else `$EDITOR`, else `vi`, on a private temporary copy of `text`.
fn edit(text: &str) -> Result<String, String> {
    let editor = program_from_env(&["VISUAL", "EDITOR"], "vi");
    let mut file = tempfile::Builder::new()
        .prefix("bolt-job-")
        .suffix(".js")
        .tempfile()
        .map_err(|err| format!("could not make a temporary file for $EDITOR: {err}"))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|err| format!("could not write the temporary file for $EDITOR: {err}"))?;
    // Through the shell, so EDITOR="code --wait" works as it does for git.
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("bolt-editor")
        .arg(file.path())
        .status()
        .map_err(|err| format!("could not start {editor}: {err}"))?;
    if !status.success() {
        return Err(format!(
            "{editor} exited with {status}; the job was not changed"
        ));
    }
    std::fs::read_to_string(file.path())
        .map_err(|err| format!("could not read back what {editor} saved: {err}"))
}

/// `$PAGER`, else `less -R`, reading `text` on its stdin.
fn page(text: &str) -> Result<(), String> {
    let pager = program_from_env(&["PAGER"], "less -R");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&pager)
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|err| format!("could not start the pager {pager}: {err}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit before the end closes the pipe; that is not an error.
        let _ = stdin.write_all(text.as_bytes());
    }
    child
        .wait()
        .map_err(|err| format!("the pager {pager} failed: {err}"))?;
    Ok(())
}

fn program_from_env(names: &[&str], fallback: &str) -> String {
    names
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .map(|value| value.trim().to_string())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| fallback.to_string())
}

/// OSC 52 when the terminal can take it, else a private file (0600) in the runtime dir.
fn copy(what: &str, text: &str) -> Result<String, String> {
    if osc52_usable(text, std::env::var("TERM").ok().as_deref()) {
        let mut out = std::io::stdout().lock();
        out.write_all(osc52(text).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|err| format!("could not send the clipboard escape: {err}"))?;
        return Ok(format!(
            "copied {what} ({} bytes) to the clipboard with OSC 52 (if your terminal ignores it, w writes a file)",
            text.len()
        ));
    }
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    let mut file = tempfile::Builder::new()
        .prefix("bolt-copy-")
        .suffix(".txt")
        .tempfile_in(&dir)
        .map_err(|err| format!("could not make a file in {}: {err}", dir.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|err| format!("could not write the copy: {err}"))?;
    let (_, path) = file
        .keep()
        .map_err(|err| format!("could not keep the copy: {err}"))?;
    Ok(format!(
        "this terminal cannot take {} bytes by OSC 52: {what} written to {} (only you can read it)",
        text.len(),
        path.display()
    ))
}

/// The escape that asks the terminal to put `text` on the system clipboard.
pub fn osc52(text: &str) -> String {
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

/// Whether OSC 52 is worth trying: not on the Linux console or a dumb terminal, and not
/// for text longer than terminals accept.
pub fn osc52_usable(text: &str, term: Option<&str>) -> bool {
    let term_ok = !matches!(term, None | Some("") | Some("dumb") | Some("linux"));
    term_ok && text.len() <= OSC52_MAX_BYTES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_base64_in_the_clipboard_escape() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
    }

    #[test]
    fn osc52_is_skipped_where_it_cannot_work() {
        assert!(osc52_usable("x", Some("xterm-256color")));
        assert!(!osc52_usable("x", Some("linux")));
        assert!(!osc52_usable("x", None));
        assert!(!osc52_usable(
            &"x".repeat(OSC52_MAX_BYTES + 1),
            Some("tmux")
        ));
    }
}
