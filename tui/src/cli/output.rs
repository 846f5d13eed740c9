//! Printing results: JSON for scripts, aligned text for people. Human-readable text goes
//! through [`say`] / [`warn`] (and tables through [`table`]), which escape the control
//! characters stored data may hold, so a payload can't drive the terminal.

use bolt_shared::escape::{escape_controls, escape_controls_line};
use serde::Serialize;

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

/// Left-aligned columns sized to their widest cell (by characters, not bytes); every cell
/// is kept to one line with its control characters escaped.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            row.iter()
                .map(|cell| escape_controls_line(cell).into_owned())
                .collect()
        })
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(cell);
                let pad = widths[i].saturating_sub(cell.chars().count()) + 2;
                out.push_str(&" ".repeat(pad));
            }
        }
        out.trim_end().to_string()
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_align_on_unicode() {
        let text = super::table(
            &["A", "B"],
            &[
                vec!["✔ ok".into(), "x".into()],
                vec!["no".into(), "y".into()],
            ],
        );
        assert_eq!(text, "A     B\n✔ ok  x\nno    y");
    }

    #[test]
    fn cells_cannot_hold_escape_sequences_or_break_rows() {
        let text = super::table(&["A"], &[vec!["\u{1b}[2Kx\ny".into()]]);
        assert_eq!(text, "A\n\\x1b[2Kx\\ny");
    }
}
