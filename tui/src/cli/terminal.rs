//! What the terminal bolt prints to can take: how wide it is, and whether to colour.
//!
//! Width: `COLUMNS` when set, else the terminal's width; a pipe without `COLUMNS` gets
//! whole lines (for grep). Colour: on a terminal unless `NO_COLOR` is set or `--color none`;
//! `--color full|reduced` asks for it even on a pipe. Only the 16 basic SGR colours are
//! used, so every terminal (and `--color reduced`) shows them.

use std::io::IsTerminal;
use std::sync::OnceLock;

static COLOR: OnceLock<bool> = OnceLock::new();

/// Decides colour once, from `--color` (auto, full, reduced, none) and the environment.
pub fn init_color(flag: Option<&str>) -> Result<(), String> {
    let on = match flag.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
        None | Some("auto") => {
            std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
        Some("full" | "reduced" | "16" | "basic") => true,
        Some("none" | "off" | "no" | "mono") => false,
        Some(other) => {
            return Err(format!(
                "unknown --color '{other}': use auto, full, reduced or none"
            ));
        }
    };
    let _ = COLOR.set(on);
    Ok(())
}

pub fn color() -> bool {
    COLOR.get().copied().unwrap_or(false)
}

/// An SGR colour of the 16 basic ones (or bold).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paint {
    Bold,
    Green,
    Red,
    Yellow,
    Blue,
    Dim,
}

impl Paint {
    fn code(self) -> &'static str {
        match self {
            Paint::Bold => "1",
            Paint::Green => "32",
            Paint::Red => "31",
            Paint::Yellow => "33",
            Paint::Blue => "34",
            Paint::Dim => "2",
        }
    }

    /// `text` in this colour when colour is on; as it is otherwise. `text` must already be
    /// free of control characters.
    pub fn apply(self, text: &str) -> String {
        if color() && !text.is_empty() {
            format!("\u{1b}[{}m{text}\u{1b}[0m", self.code())
        } else {
            text.to_string()
        }
    }
}

/// How wide lines may be: `COLUMNS`, else the terminal's width; `None` on a pipe.
pub fn width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(columns);
    }
    if !std::io::stdout().is_terminal() {
        return None;
    }
    ratatui::crossterm::terminal::size()
        .ok()
        .map(|(columns, _)| usize::from(columns))
        .filter(|c| *c > 0)
}

/// Wraps `text` to `width` columns; lines after the first start with `indent`.
pub fn wrap(text: &str, width: Option<usize>, indent: &str) -> String {
    let Some(width) = width else {
        return text.to_string();
    };
    let options = wrap_options(width.max(indent.len() + 10)).subsequent_indent(indent);
    textwrap::wrap(text, options).join("\n")
}

/// Lines break at spaces only (not inside a URL or at a path's hyphens); a word longer
/// than the line is cut.
pub fn wrap_options<'a>(width: usize) -> textwrap::Options<'a> {
    textwrap::Options::new(width)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation)
        .break_words(true)
}
