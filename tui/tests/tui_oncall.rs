//! What an operator on call relies on, drawn into `TestBackend`: quitting from anywhere, an
//! editor that never loses or breaks code, whole values readable, fresh rows and counts.

#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "../src/tui/mod.rs"]
mod tui;

use bolt_shared::protocol::Request;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use tui::action::{Action, External};
use tui::app::App;
use tui::measure::demo_app;
use tui::source::Incoming;
use tui::theme::ColorMode;
use tui::widgets::overlay::Overlay;

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| app.draw(frame)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..height {
        for x in 0..width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ctrl(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        if c == '\n' {
            press(app, KeyCode::Enter);
        } else {
            press(app, KeyCode::Char(c));
        }
    }
}

/// The demo app with the editor open on Summarise Visit.
fn editing() -> App {
    let mut app = demo_app(ColorMode::Full);
    app.run(Action::EditJob {
        workflow_id: "wf-visit".into(),
        job_id: "job-summarise".into(),
        external: false,
    });
    assert!(matches!(app.overlays.last(), Some(Overlay::JobEditor(_))));
    app
}

fn editor_text(app: &App) -> String {
    match app
        .overlays
        .iter()
        .find(|o| matches!(o, Overlay::JobEditor(_)))
    {
        Some(Overlay::JobEditor(editor)) => editor.body(),
        _ => panic!("no job editor open"),
    }
}

#[test]
fn ctrl_c_quits_from_any_screen_and_dialog() {
    let mut app = demo_app(ColorMode::Full);
    ctrl(&mut app, 'c');
    assert!(app.quit, "ctrl-c on the history quits");

    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('?'));
    assert!(!app.overlays.is_empty());
    ctrl(&mut app, 'c');
    assert!(app.quit, "ctrl-c over the help of the graph quits");

    // An editor without changes is not an unsaved edit.
    let mut app = editing();
    ctrl(&mut app, 'c');
    assert!(app.quit);
}

#[test]
fn ctrl_c_with_an_unsaved_edit_asks_first() {
    let mut app = editing();
    type_text(&mut app, "// note\n");
    ctrl(&mut app, 'c');
    assert!(!app.quit, "an unsaved edit is not thrown away by one key");
    let screen = render(&app, 100, 30);
    assert!(screen.contains("Quit bolt without saving?"), "{screen}");
    assert!(
        screen.contains("Unsaved: the edit of Summarise Visit."),
        "{screen}"
    );
    press(&mut app, KeyCode::Char('n'));
    assert!(!app.quit);
    assert!(editor_text(&app).starts_with("// note"), "the edit is kept");
    ctrl(&mut app, 'c');
    ctrl(&mut app, 'c');
    assert!(app.quit, "ctrl-c twice quits anyway");
}

#[test]
fn a_save_that_does_not_compile_is_refused_with_its_line_and_column() {
    let mut app = editing();
    // Line 2 gets an unclosed call.
    press(&mut app, KeyCode::End);
    type_text(&mut app, "\nfn(state => ( ;");
    ctrl(&mut app, 's');
    assert!(
        app.outbox
            .iter()
            .all(|(_, r)| !matches!(r, Request::UpdateJob { .. })),
        "nothing is sent"
    );
    assert!(matches!(app.overlays.last(), Some(Overlay::JobEditor(_))));
    let screen = render(&app, 120, 30);
    assert!(screen.contains("not saved: SyntaxError"), "{screen}");
    assert!(screen.contains("(line 2, column"), "{screen}");
    // Typing clears the message; a fixed job goes on to the diff.
    press(&mut app, KeyCode::Backspace);
    type_text(&mut app, "state));");
    ctrl(&mut app, 's');
    assert!(matches!(app.overlays.last(), Some(Overlay::Diff(_))));
}

#[test]
fn a_refused_save_keeps_the_editor_open_with_boltd_s_reason() {
    let mut app = editing();
    type_text(&mut app, "// note\n");
    ctrl(&mut app, 's');
    press(&mut app, KeyCode::Char('y'));
    let (tag, _) = app
        .outbox
        .iter()
        .find(|(_, r)| matches!(r, Request::UpdateJob { .. }))
        .cloned()
        .unwrap();
    app.handle_incoming(Incoming::Response {
        tag,
        result: Err("the job does not compile: boom (line 1, column 0)".into()),
    });
    assert!(matches!(app.overlays.last(), Some(Overlay::JobEditor(_))));
    assert!(editor_text(&app).starts_with("// note"));
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("not saved: the job does not compile: boom (line 1, column 0)"),
        "{screen}"
    );
}

#[test]
fn esc_on_an_edit_asks_and_undo_redo_work() {
    let mut app = editing();
    let original = editor_text(&app);
    type_text(&mut app, "X");
    ctrl(&mut app, 'z');
    assert_eq!(editor_text(&app), original, "ctrl-z undoes");
    ctrl(&mut app, 'y');
    assert!(editor_text(&app).starts_with('X'), "ctrl-y redoes");
    let help = render(&app, 120, 30);
    assert!(help.contains("ctrl-z undo · ctrl-y redo"), "{help}");

    press(&mut app, KeyCode::Esc);
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("Discard the changes to Summarise Visit?"),
        "{screen}"
    );
    press(&mut app, KeyCode::Char('n'));
    assert!(editor_text(&app).starts_with('X'), "n goes back to editing");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('y'));
    assert!(app.overlays.is_empty(), "y discards and closes");
    assert!(render(&app, 120, 30).contains("changes to Summarise Visit discarded"));
}

#[test]
fn external_editor_result_goes_through_the_same_check_and_diff() {
    let mut app = demo_app(ColorMode::Full);
    app.run(Action::EditJob {
        workflow_id: "wf-visit".into(),
        job_id: "job-summarise".into(),
        external: true,
    });
    let request = app.external.take().expect("asks the runtime for $EDITOR");
    let External::EditJob { text, .. } = &request else {
        panic!("{request:?}")
    };
    assert!(text.contains("post('/summaries'"));

    app.external_done(
        request.clone(),
        Ok("fn(state => {\n  return state;\n".into()),
    );
    let screen = render(&app, 120, 30);
    assert!(screen.contains("not saved: SyntaxError"), "{screen}");
    assert!(screen.contains("(line 2, column 15)"), "{screen}");
    assert!(
        editor_text(&app).contains("return state;"),
        "kept for fixing"
    );

    app.external_done(request, Ok("fn(state => state);\n".into()));
    let diff = render(&app, 120, 30);
    assert!(diff.contains("+ fn(state => state);"), "{diff}");

    // From the graph, ctrl-o opens the selected job in $EDITOR.
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Enter);
    app.outbox.clear();
    ctrl(&mut app, 'o');
    assert!(matches!(app.external, Some(External::EditJob { .. })));
}

#[test]
fn external_failures_show_in_the_banner() {
    let mut app = demo_app(ColorMode::Full);
    app.external_done(
        External::Page { text: "x".into() },
        Err("could not start the pager nope: not found".into()),
    );
    let screen = render(&app, 120, 30);
    assert!(
        screen.contains("could not start the pager nope"),
        "{screen}"
    );
}
