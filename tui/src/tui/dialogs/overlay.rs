//! Modal dialogs drawn over a screen. They form a stack; the top one gets the keys.

use super::confirm::Confirm;
use super::constants::ConstantsForm;
use super::credform::CredForm;
use super::editor::{DiffView, JobEditor, TriggerEditor};
use super::failures::Failures;
use super::filter::FilterForm;
use super::help::Help;
use super::picker::Picker;
use super::prompt::Prompt;
use super::versions::{DiffText, VersionsView};
use super::zoom::Zoom;
use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear};

/// What a dialog wants after a key.
pub enum Outcome {
    Stay,
    Close,
    /// Close this dialog, then run the action.
    Done(Action),
    /// Stay open and run the action (e.g. open a nested picker).
    Keep(Action),
}

pub enum Overlay {
    Help(Help),
    Picker(Picker),
    Confirm(Confirm),
    Prompt(Prompt),
    Filter(Box<FilterForm>),
    JobEditor(Box<JobEditor>),
    TriggerEditor(Box<TriggerEditor>),
    Diff(DiffView),
    CredForm(Box<CredForm>),
    Versions(Box<VersionsView>),
    VersionDiff(DiffText),
    Constants(Box<ConstantsForm>),
    Zoom(Box<Zoom>),
    Failures(Box<Failures>),
}

impl Overlay {
    pub fn name(&self) -> &'static str {
        match self {
            Overlay::Help(_) => "help",
            Overlay::Picker(_) => "picker",
            Overlay::Confirm(_) => "confirm",
            Overlay::Prompt(_) => "prompt",
            Overlay::Filter(_) => "filter",
            Overlay::JobEditor(_) => "job editor",
            Overlay::TriggerEditor(_) => "run input",
            Overlay::Diff(_) => "diff",
            Overlay::CredForm(_) => "credential form",
            Overlay::Versions(_) => "versions",
            Overlay::VersionDiff(_) => "version diff",
            Overlay::Constants(_) => "constants",
            Overlay::Zoom(_) => "zoom",
            Overlay::Failures(_) => "failures",
        }
    }

    /// What would be lost if this dialog went away now: "the edit of Validate", or None.
    pub fn unsaved(&self) -> Option<String> {
        match self {
            Overlay::JobEditor(editor) if editor.is_dirty() => {
                Some(format!("the edit of {}", editor.job_name))
            }
            Overlay::Diff(diff) if diff.on_yes.is_some() => Some(diff.title.clone()),
            _ => None,
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent, keymap: &Keymap) -> Outcome {
        match self {
            Overlay::Help(help) => help.handle_key(key, keymap),
            Overlay::Picker(picker) => picker.handle_key(key),
            Overlay::Confirm(confirm) => confirm.handle_key(key),
            Overlay::Prompt(prompt) => prompt.handle_key(key),
            Overlay::Filter(form) => form.handle_key(key),
            Overlay::JobEditor(editor) => editor.handle_key(key),
            Overlay::TriggerEditor(editor) => editor.handle_key(key),
            Overlay::Diff(diff) => diff.handle_key(key),
            Overlay::CredForm(form) => form.handle_key(key),
            Overlay::Versions(view) => view.handle_key(key),
            Overlay::VersionDiff(view) => view.handle_key(key),
            Overlay::Constants(form) => form.handle_key(key),
            Overlay::Zoom(zoom) => zoom.handle_key(key),
            Overlay::Failures(list) => list.handle_key(key),
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: &Theme, keymap: &Keymap) {
        match self {
            Overlay::Help(help) => help.draw(frame, area, theme, keymap),
            Overlay::Picker(picker) => picker.draw(frame, area, theme),
            Overlay::Confirm(confirm) => confirm.draw(frame, area, theme),
            Overlay::Prompt(prompt) => prompt.draw(frame, area, theme),
            Overlay::Filter(form) => form.draw(frame, area, theme),
            Overlay::JobEditor(editor) => editor.draw(frame, area, theme),
            Overlay::TriggerEditor(editor) => editor.draw(frame, area, theme),
            Overlay::Diff(diff) => diff.draw(frame, area, theme),
            Overlay::CredForm(form) => form.draw(frame, area, theme),
            Overlay::Versions(view) => view.draw(frame, area, theme),
            Overlay::VersionDiff(view) => view.draw(frame, area, theme),
            Overlay::Constants(form) => form.draw(frame, area, theme),
            Overlay::Zoom(zoom) => zoom.draw(frame, area, theme),
            Overlay::Failures(list) => list.draw(frame, area, theme),
        }
    }
}

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
