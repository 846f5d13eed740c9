//! Printing results: JSON for scripts, aligned text for people. Human-readable text goes
//! through [`say`] / [`warn`] (and tables through [`table`]), which escape the control
//! characters stored data may hold, so a payload can't drive the terminal.

use super::terminal::{self, Paint};
use bolt_shared::escape::{escape_controls, escape_controls_line};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

/// Prints text for people on standard output, control characters escaped (newlines kept).
pub fn say(text: impl AsRef<str>) {
    println!("{}", escape_controls(text.as_ref()));
}

/// The same on standard error.
pub fn warn(text: impl AsRef<str>) {
    eprintln!("{}", escape_controls(text.as_ref()));
}

/// `println!` for people: the formatted text goes through [`say`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::cli::output::say(format!($($arg)*)) };
}

/// `eprintln!` for people: the formatted text goes through [`warn`].
#[macro_export]
macro_rules! say_err {
    ($($arg:tt)*) => { $crate::cli::output::warn(format!($($arg)*)) };
}

pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A command's plain answer: its message for people, or with `--json`
/// `{"ok": true, "message": …}` plus what it acted on (`about`).
pub fn done(json: bool, message: &str, about: &[(&str, &str)]) -> anyhow::Result<()> {
    if !json {
        say(message);
        return Ok(());
    }
    let mut object = serde_json::Map::new();
    object.insert("ok".into(), true.into());
    for (key, value) in about {
        object.insert((*key).into(), (*value).into());
    }
    object.insert("message".into(), message.into());
    print_json(&object)
}

/// Left-aligned columns sized to their widest cell (by display width), every cell kept to
/// one line with its control characters escaped; fitted to the terminal's width (see
/// [`terminal::width`]): the last column wraps, or goes below its row when there is no room.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    render_table(header, rows, terminal::width(), None)
}

/// Prints [`table`] with the header in bold and cells coloured by `paint(column, cell)`
/// when colour is on.
pub fn print_table(header: &[&str], rows: &[Vec<String>], paint: &CellPaint) {
    // The cells are escaped by `render_table`; only its own colour codes are left.
    let paint = terminal::color().then_some(paint);
    println!("{}", render_table(header, rows, terminal::width(), paint));
}

/// The colour of a work order state word (the cell may start with its symbol).
pub fn state_paint(cell: &str) -> Option<Paint> {
    let word = cell
        .split_whitespace()
        .find(|w| w.chars().all(|c| c.is_ascii_lowercase()))?;
    match word {
        "success" => Some(Paint::Green),
        "failed" | "crashed" | "exception" | "lost" | "rejected" => Some(Paint::Red),
        "killed" | "cancelled" => Some(Paint::Yellow),
        "running" | "pending" => Some(Paint::Blue),
        _ => None,
    }
}

/// The colour of a table cell, from its column and text.
pub type CellPaint = dyn Fn(usize, &str) -> Option<Paint>;

/// Below this many columns the last column goes under its row instead of beside it.
const NARROWEST_LAST_COLUMN: usize = 20;

fn render_table(
    header: &[&str],
    rows: &[Vec<String>],
    width: Option<usize>,
    paint: Option<&CellPaint>,
) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| escape_controls_line(cell).into_owned())
                .collect()
        })
        .collect();
    let columns = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.width());
            }
        }
    }
    let prefix: usize = widths
        .iter()
        .take(columns.saturating_sub(1))
        .map(|w| w + 2)
        .sum();
    let last = widths.last().copied().unwrap_or(0);
    // How the last column is laid out: beside its row in one piece, wrapped beside it, or
    // wrapped under it.
    let layout = match width {
        Some(width) if prefix + last > width && columns > 1 => {
            // Beside the row only if no word (a URL, a path) has to be cut to fit.
            let longest_word = rows
                .iter()
                .filter_map(|row| row.get(columns - 1))
                .flat_map(|cell| cell.split_whitespace())
                .map(UnicodeWidthStr::width)
                .max()
                .unwrap_or(0);
            let room = width.saturating_sub(prefix);
            if room >= NARROWEST_LAST_COLUMN.max(longest_word) {
                LastColumn::Wrapped(width - prefix)
            } else {
                LastColumn::Below(width.saturating_sub(BELOW_INDENT.len()).max(1))
            }
        }
        _ => LastColumn::Beside,
    };
    let line = |cells: &[&str], header: bool| {
        let mut out = String::new();
        let count = match layout {
            LastColumn::Below(_) => cells.len().min(columns.saturating_sub(1)),
            _ => cells.len(),
        };
        let painted = |i: usize, cell: &str| match (paint, header) {
            (None, _) => cell.to_string(),
            (Some(_), true) => Paint::Bold.apply(cell),
            (Some(paint), false) => match paint(i, cell) {
                Some(p) => p.apply(cell),
                None => cell.to_string(),
            },
        };
        for (i, cell) in cells.iter().take(count).enumerate() {
            if i + 1 == cells.len() {
                let pieces = match layout {
                    LastColumn::Wrapped(room) => wrap_cell(cell, room),
                    _ => vec![cell.to_string()],
                };
                for (n, piece) in pieces.iter().enumerate() {
                    if n > 0 {
                        out.push('\n');
                        out.push_str(&" ".repeat(prefix));
                    }
                    out.push_str(&painted(i, piece));
                }
            } else {
                out.push_str(&painted(i, cell));
                let pad = widths[i].saturating_sub(cell.width()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        let mut out = trim_line_ends(&out);
        if let (LastColumn::Below(room), Some(cell)) = (layout, cells.get(columns - 1))
            && !header
            && !cell.is_empty()
        {
            for piece in wrap_cell(cell, room) {
                out.push('\n');
                out.push_str(BELOW_INDENT);
                out.push_str(&painted(columns - 1, &piece));
            }
        }
        out
    };
    let mut out = line(header, true);
    for row in &rows {
        out.push('\n');
        out.push_str(&line(
            &row.iter().map(String::as_str).collect::<Vec<_>>(),
            false,
        ));
    }
    out
}

const BELOW_INDENT: &str = "    ";

#[derive(Clone, Copy)]
enum LastColumn {
    Beside,
    /// Wrapped to this many columns beside its row.
    Wrapped(usize),
    /// Wrapped to this many columns on the lines under its row.
    Below(usize),
}

fn wrap_cell(cell: &str, room: usize) -> Vec<String> {
    textwrap::wrap(cell, terminal::wrap_options(room.max(1)))
        .into_iter()
        .map(|piece| piece.into_owned())
        .collect()
}

fn trim_line_ends(text: &str) -> String {
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align_on_unicode() {
        let text = super::render_table(
            &["A", "B"],
            &[
                vec!["✔ ok".into(), "x".into()],
                vec!["no".into(), "y".into()],
            ],
            None,
            None,
        );
        assert_eq!(text, "A     B\n✔ ok  x\nno    y");
    }

    #[test]
    fn the_last_column_wraps_beside_its_row_or_goes_under_it() {
        let rows = vec![vec![
            "key".to_string(),
            "webhook POST http://127.0.0.1:4000/i/visits; cron '0 * * * *'".to_string(),
        ]];
        let wide = super::render_table(&["K", "TRIGGERS"], &rows, None, None);
        assert_eq!(wide.lines().count(), 2);
        let wrapped = super::render_table(&["K", "TRIGGERS"], &rows, Some(40), None);
        assert!(wrapped.lines().count() > 2, "{wrapped}");
        assert!(
            wrapped.lines().all(|l| l.chars().count() <= 40),
            "{wrapped}"
        );
        assert!(
            wrapped.lines().skip(2).all(|l| l.starts_with("     ")),
            "{wrapped}"
        );
        let below = super::render_table(&["K", "TRIGGERS"], &rows, Some(22), None);
        assert!(below.lines().all(|l| l.chars().count() <= 22), "{below}");
        assert_eq!(below.lines().nth(1), Some("key"), "{below}");
        assert!(
            below
                .lines()
                .nth(2)
                .is_some_and(|l| l.starts_with("    webhook")),
            "{below}"
        );
    }

    #[test]
    fn cells_cannot_hold_escape_sequences_or_break_rows() {
        let text = super::render_table(&["A"], &[vec!["\u{1b}[2Kx\ny".into()]], None, None);
        assert_eq!(text, "A\n\\x1b[2Kx\\ny");
    }
}
