//! The one way every list and scrolled view in a dialog moves: `j`/`↓` down a line, `k`/`↑`
//! up, never past either end.

use ratatui::crossterm::event::KeyCode;

/// Where `at` moves on `key` in a list of `len` lines; None when `key` doesn't move it.
pub fn moved(key: KeyCode, at: usize, len: usize) -> Option<usize> {
    let last = len.saturating_sub(1);
    match key {
        KeyCode::Char('j') | KeyCode::Down => Some((at + 1).min(last)),
        KeyCode::Char('k') | KeyCode::Up => Some(at.saturating_sub(1)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_a_line_and_stops_at_both_ends() {
        assert_eq!(moved(KeyCode::Char('j'), 0, 3), Some(1));
        assert_eq!(moved(KeyCode::Down, 2, 3), Some(2));
        assert_eq!(moved(KeyCode::Char('k'), 1, 3), Some(0));
        assert_eq!(moved(KeyCode::Up, 0, 3), Some(0));
        assert_eq!(
            moved(KeyCode::Down, 0, 0),
            Some(0),
            "an empty list stays put"
        );
        assert_eq!(moved(KeyCode::Enter, 1, 3), None);
    }
}
