//! Making stored text safe to print on a terminal. Webhook payloads, job logs and error
//! messages are anybody's text: an ESC sequence in them could retitle the terminal, move
//! the cursor or erase what is on the screen. Every human-readable output of `bolt` (and the
//! TUI) passes stored strings through here; `--json` output is already escaped by JSON.
//!
//! Control characters become visible escapes (`\x1b`, `\r`, `\u{9b}`), as do the Unicode
//! bidirectional overrides that can make text read differently from what it is. Readable
//! text, non-ASCII letters included, is left as it is.

use std::borrow::Cow;

/// Escapes control characters but keeps newlines and tabs (multi-line output: log
/// messages, bodies).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// Escapes control characters, newlines and tabs included (one-line output: table cells).
pub fn escape_controls_line(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, one_line: bool) -> Cow<'_, str> {
    let needs = |c: char| is_unsafe(c) || (one_line && (c == '\n' || c == '\t'));
    if !text.chars().any(needs) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !needs(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    Cow::Owned(out)
}

/// C0 controls (but newline and tab), DEL, C1 controls, and the bidirectional embeddings,
/// overrides and isolates.
fn is_unsafe(c: char) -> bool {
    let code = c as u32;
    (code < 0x20 && c != '\n' && c != '\t')
        || code == 0x7f
        || (0x80..=0x9f).contains(&code)
        || (0x202a..=0x202e).contains(&code)
        || (0x2066..=0x2069).contains(&code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(
            escape_controls("\u{1b}]0;pwned\u{7}\u{1b}[2K\rfake line"),
            "\\x1b]0;pwned\\x07\\x1b[2K\\rfake line"
        );
        assert_eq!(escape_controls("csi \u{9b}31m"), "csi \\u{9b}31m");
        assert_eq!(escape_controls("del\u{7f}"), "del\\x7f");
        assert_eq!(
            escape_controls("rtl \u{202e}gnp.exe"),
            "rtl \\u{202e}gnp.exe"
        );
    }

    #[test]
    fn readable_text_is_untouched_and_not_copied() {
        let text = "Visit P-0042 at Hill — 5 items, café ✔\n\tnext line";
        assert!(matches!(escape_controls(text), Cow::Borrowed(_)));
        assert_eq!(escape_controls(text), text);
    }

    #[test]
    fn one_line_output_escapes_newlines_and_tabs_too() {
        assert_eq!(escape_controls_line("a\nb\tc\u{1b}"), "a\\nb\\tc\\x1b");
    }
}
