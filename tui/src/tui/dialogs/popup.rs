//! What every dialog draws with and types into: a centred box, one-line inputs, the save key.

use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear};

/// A centred box of at most `width`×`height`, cleared, with a titled border; returns the inside.
pub fn popup(
    frame: &mut Frame,
    area: Rect,
    width: u16,
    height: u16,
    title: &str,
    theme: &Theme,
) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    let rect = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(if theme.ascii {
            ratatui::widgets::BorderType::Plain
        } else {
            ratatui::widgets::BorderType::Rounded
        })
        .title(format!(" {title} "))
        .title_style(theme.title());
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    inner
}

/// Single-line text input style shared by prompts and forms.
pub fn single_line(initial: &str) -> ratatui_textarea::TextArea<'static> {
    let mut area = ratatui_textarea::TextArea::new(vec![initial.to_string()]);
    area.move_cursor(ratatui_textarea::CursorMove::End);
    area.set_cursor_line_style(ratatui::style::Style::default());
    area
}

/// A key in a one-line field, with the shell's line keys: ctrl-u clears to the start,
/// ctrl-w deletes the word before the cursor. Returns whether the text changed.
pub fn line_input(area: &mut ratatui_textarea::TextArea<'static>, key: KeyEvent) -> bool {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('u') if ctrl => area.delete_line_by_head(),
        KeyCode::Char('w') if ctrl => area.delete_word(),
        _ => area.input(key),
    }
}

/// Is this the "save" chord of editors and forms (ctrl-s, or F2 where ctrl-s is taken)?
pub fn is_save(key: &KeyEvent) -> bool {
    use ratatui::crossterm::event::{KeyCode, KeyModifiers};
    matches!(key.code, KeyCode::F(2))
        || (key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('s') | KeyCode::Char('S')))
}
