//! The stack of dialogs over a screen: the top one gets the keys, all are drawn.

use super::Outcome;
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
use crate::tui::action::Open;
use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;

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
    /// The dialog an [`Open`] action describes.
    pub fn open(open: Open, theme: &Theme) -> Overlay {
        match open {
            Open::Confirm {
                title,
                lines,
                on_yes,
            } => Overlay::Confirm(Confirm::new(title, lines, on_yes)),
            Open::Prompt {
                title,
                initial,
                purpose,
            } => Overlay::Prompt(Prompt::new(title, initial, purpose)),
            Open::Filter { filter, text } => {
                Overlay::Filter(Box::new(FilterForm::new(&filter, &text)))
            }
            Open::NewCredential => Overlay::CredForm(Box::new(CredForm::new(None, theme))),
            Open::Constants {
                workflow_id,
                workflow_name,
                constants,
            } => Overlay::Constants(Box::new(ConstantsForm::new(
                workflow_id,
                workflow_name,
                &constants,
            ))),
            Open::Zoom { title, text } => Overlay::Zoom(Box::new(Zoom::new(title, text))),
            Open::SaveDiff {
                job_name,
                lines,
                on_yes,
            } => Overlay::Diff(DiffView::new(&job_name, lines, on_yes)),
        }
    }

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
