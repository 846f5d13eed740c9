//! What an operator on call relies on, drawn into `TestBackend`: quitting from anywhere, an
//! editor that never loses or breaks code, whole values readable, fresh rows and counts.

#![allow(clippy::unwrap_used)]

use bolt_client::tui;

use bolt_shared::protocol::Request;
use ratatui::Terminal;
use ratatui::crossterm::event::KeyCode;
use tui::action::{Action, External};
use tui::app::App;
use tui::dialogs::overlay::Overlay;
use tui::measure::demo_app;
use tui::source::{Incoming, Tag};
use tui::testing::{ctrl, press, render, type_text};
use tui::theme::ColorMode;

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

/// A failed step whose input holds an HTTP 500 answer with the cause at the end of a body
/// far wider than the screen; the detail is open on it.
fn detail_with_long_body() -> (App, String) {
    let cause = "CAUSE: clinic id 7 is not registered with the lab";
    let body = format!("{} {cause}", "upstream said: ".repeat(30));
    let input = serde_json::json!({"response": {"status": 500, "body": body}}).to_string();
    let mut shown = tui::fixtures::show_failed();
    for run in &mut shown.work_order.runs {
        for step in &mut run.steps {
            step.input = Some(tui::fixtures::dataclip(Some(&input)));
        }
    }
    let mut app = demo_app(ColorMode::Full);
    app.run(Action::OpenDetail {
        reference: shown.work_order.row.id.clone(),
        search: None,
    });
    let tag = app
        .outbox
        .drain(..)
        .find_map(|(tag, _)| matches!(tag, Tag::Show { .. }).then_some(tag))
        .unwrap();
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(bolt_shared::protocol::Response::Shown(Box::new(shown))),
    });
    (app, body)
}

/// The screen's text without spaces and box drawing: wrapped rows read as one string.
fn squeeze(screen: &str) -> String {
    screen
        .chars()
        .filter(|c| !c.is_whitespace() && !('\u{2500}'..='\u{257f}').contains(c))
        .collect()
}

fn select_json_path(app: &mut App, path: &str) {
    let detail = app.detail.as_mut().unwrap();
    detail.focus = tui::screens::detail::Focus::Content;
    let at = detail
        .input
        .lines()
        .iter()
        .position(|l| l.path == path)
        .unwrap();
    detail.input.move_to(at);
}

#[test]
fn a_long_value_is_cut_with_an_ellipsis_then_wraps_whole() {
    let (mut app, _) = detail_with_long_body();
    select_json_path(&mut app, "/response/body");
    let cut = render(&app, 100, 30);
    let body_row = cut.lines().find(|l| l.contains("\"body\"")).unwrap();
    assert!(body_row.contains('…'), "a cut value says so:\n{cut}");
    assert!(!cut.contains("not registered with the lab"), "{cut}");

    press(&mut app, KeyCode::Char('W'));
    let wrapped = render(&app, 100, 30);
    assert!(
        squeeze(&wrapped).contains("clinicid7isnotregisteredwiththelab\""),
        "the end of the value is on screen:\n{wrapped}"
    );
    press(&mut app, KeyCode::Char('W'));
    assert!(!render(&app, 100, 30).contains("not registered with the lab"));
}

#[test]
fn zoom_shows_the_selected_value_whole_and_copy_and_pager_take_it() {
    let (mut app, body) = detail_with_long_body();
    select_json_path(&mut app, "/response/body");
    press(&mut app, KeyCode::Char('z'));
    assert!(matches!(app.overlays.last(), Some(Overlay::Zoom(_))));
    let zoom = render(&app, 80, 24);
    assert!(
        zoom.contains("Validate Visit input /response/body"),
        "{zoom}"
    );
    assert!(
        squeeze(&zoom).contains(&squeeze(&body)),
        "the whole string, unescaped, wrapped:\n{zoom}"
    );
    // y in the zoom copies the value itself (not its JSON-escaped form).
    press(&mut app, KeyCode::Char('y'));
    assert_eq!(
        app.external.take(),
        Some(External::Copy {
            what: "Validate Visit input /response/body".into(),
            text: body.clone(),
        })
    );
    press(&mut app, KeyCode::Esc);
    assert!(app.overlays.is_empty());

    press(&mut app, KeyCode::Char('y'));
    assert!(matches!(app.external.take(), Some(External::Copy { text, .. }) if text == body));
    press(&mut app, KeyCode::Char('|'));
    match app.external.take() {
        Some(External::Page { text }) => {
            assert!(text.contains("\"status\": 500"), "pretty JSON: {text}");
            assert!(text.contains("not registered with the lab"));
        }
        other => panic!("{other:?}"),
    }
    app.external_done(
        External::Copy {
            what: "x".into(),
            text: "y".into(),
        },
        Ok("copied x (1 bytes) to the clipboard with OSC 52".into()),
    );
    assert!(render(&app, 100, 30).contains("copied x (1 bytes)"));
}

#[test]
fn long_log_lines_wrap_and_zoom() {
    let (mut app, _) = detail_with_long_body();
    let run_id = app.detail.as_ref().unwrap().logs_run.clone().unwrap();
    let mut lines = tui::fixtures::logs(&run_id, 2);
    lines[0].message = format!("{} END-OF-LOG-LINE", "request failed: ".repeat(20));
    app.handle_incoming(Incoming::Response {
        tag: Tag::Logs {
            run_id: run_id.clone(),
        },
        result: Ok(bolt_shared::protocol::Response::Logs { lines, more: false }),
    });
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('l'));
    let cut = render(&app, 100, 30);
    assert!(!cut.contains("END-OF-LOG-LINE"), "{cut}");
    assert!(cut.contains('…'), "{cut}");
    press(&mut app, KeyCode::Char('W'));
    assert!(render(&app, 100, 30).contains("END-OF-LOG-LINE"));
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('z'));
    let zoom = render(&app, 100, 30);
    assert!(zoom.contains("END-OF-LOG-LINE"), "{zoom}");
}

fn failed_page(ids: &[usize], failed: u64) -> bolt_shared::model::WorkOrderPage {
    use bolt_shared::model::{StateCount, WorkOrderState};
    bolt_shared::model::WorkOrderPage {
        rows: ids
            .iter()
            .map(|i| tui::fixtures::row(*i, WorkOrderState::Failed))
            .collect(),
        next_cursor: None,
        counts: vec![StateCount {
            state: WorkOrderState::Failed,
            count: failed,
        }],
        counts_capped: false,
    }
}

fn answer_refresh(app: &mut App, page: bolt_shared::model::WorkOrderPage) {
    let sent: Vec<_> = app.outbox.drain(..).collect();
    assert!(
        sent.iter()
            .any(|(tag, _)| matches!(tag, Tag::HistoryRefresh)),
        "a refresh was asked for: {sent:?}"
    );
    app.handle_incoming(Incoming::Response {
        tag: Tag::HistoryRefresh,
        result: Ok(bolt_shared::protocol::Response::WorkOrders(page)),
    });
}

#[test]
fn after_a_rerun_the_failed_filter_rows_counts_and_first_error_update() {
    use bolt_shared::model::WorkOrderState;
    use bolt_shared::protocol::Event;
    let mut app = demo_app(ColorMode::Full);
    app.history.filter.states = vec![WorkOrderState::Failed];
    app.history.apply_reload(failed_page(&[1, 2, 3], 3));
    app.outbox.clear();
    let before = render(&app, 160, 20);
    assert!(
        before.contains("(P-0041)") && before.contains("(P-0042)"),
        "{before}"
    );

    // Row 2 was rerun and succeeded; row 3 failed again with another error.
    let rerun = app.history.rows[1].id.clone();
    app.handle_incoming(Incoming::Event(Event::WorkOrderChanged {
        id: rerun,
        state: WorkOrderState::Success,
        created: false,
    }));
    let mut page = failed_page(&[1, 3], 2);
    page.rows[1].first_error.as_mut().unwrap().message = Some("lab id missing".into());
    answer_refresh(&mut app, page);
    let after = render(&app, 160, 20);
    assert!(
        !after.contains("(P-0042)"),
        "the green one left the list:\n{after}"
    );
    assert!(
        after.contains("lab id missing"),
        "FIRST ERROR is the new one:\n{after}"
    );
    assert!(after.contains("✘ 2"), "the count follows:\n{after}");

    // A work order not listed that fails again comes back into the failed list.
    app.handle_incoming(Incoming::Event(Event::WorkOrderChanged {
        id: tui::fixtures::row(2, WorkOrderState::Failed).id,
        state: WorkOrderState::Failed,
        created: false,
    }));
    answer_refresh(&mut app, failed_page(&[1, 2, 3], 3));
    assert!(render(&app, 160, 20).contains("(P-0042)"));
}

#[test]
fn workflow_counts_follow_finished_runs_on_the_workflows_screens() {
    use bolt_shared::model::WorkOrderState;
    use bolt_shared::protocol::Event;
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    let loads = |app: &mut App| {
        app.outbox
            .drain(..)
            .filter(|(tag, _)| matches!(tag, Tag::Workflows))
            .count()
    };
    assert_eq!(loads(&mut app), 1);
    app.handle_incoming(Incoming::Response {
        tag: Tag::Workflows,
        result: Ok(bolt_shared::protocol::Response::Workflows {
            workflows: tui::fixtures::workflows(),
        }),
    });
    let finished = |app: &mut App| {
        app.handle_incoming(Incoming::Event(Event::WorkOrderChanged {
            id: "wo".into(),
            state: WorkOrderState::Failed,
            created: false,
        }))
    };
    finished(&mut app);
    assert_eq!(loads(&mut app), 1, "a finished run reloads the counts");
    finished(&mut app);
    finished(&mut app);
    assert_eq!(loads(&mut app), 0, "one load in flight at a time");
    let mut fresh = tui::fixtures::workflows();
    fresh[0].failed_24h += 1;
    app.handle_incoming(Incoming::Response {
        tag: Tag::Workflows,
        result: Ok(bolt_shared::protocol::Response::Workflows { workflows: fresh }),
    });
    assert_eq!(loads(&mut app), 1, "the events meanwhile ask once more");
}

#[test]
fn a_reconnect_reloads_and_clears_old_errors_and_ctrl_r_reconnects_at_once() {
    use std::time::Duration;
    use tui::source::Connection;
    let mut app = demo_app(ColorMode::Full);
    app.handle_incoming(Incoming::Connection(Connection::Down {
        error: "connection refused".into(),
        retry_in: Duration::from_secs(8),
    }));
    app.run(Action::error(
        "loading the history failed: connection refused",
    ));
    let down = render(&app, 120, 20);
    assert!(down.contains("down, retrying in 8s"), "{down}");
    ctrl(&mut app, 'r');
    assert!(app.reconnect_now, "the runtime is told to reconnect now");
    assert!(render(&app, 120, 20).contains("reconnecting to boltd now"));
    app.outbox.clear();
    app.handle_incoming(Incoming::Connection(Connection::Connected {
        daemon: "boltd 0.1.0".into(),
        user: None,
        role: None,
    }));
    let up = render(&app, 120, 20);
    assert!(!up.contains("connection refused"), "{up}");
    assert!(up.contains("connected"), "{up}");
    let sent: Vec<_> = app.outbox.drain(..).map(|(tag, _)| tag).collect();
    assert!(sent.contains(&Tag::HistoryReload), "{sent:?}");
    assert!(sent.contains(&Tag::Workflows), "{sent:?}");
}

/// History filtered to failures, all of Visit Intake (rows 0, 4, 8), loaded whole or not.
fn failed_visits(more_pages: bool) -> App {
    use bolt_shared::model::WorkOrderState;
    let mut app = demo_app(ColorMode::Full);
    app.history.filter.states = vec![WorkOrderState::Failed];
    let mut page = failed_page(&[0, 4, 8], 3);
    page.next_cursor = more_pages.then(|| "next".to_string());
    app.history.apply_reload(page);
    app.outbox.clear();
    app
}

#[test]
fn all_matching_with_a_status_filter_reruns_from_the_failed_step_by_name() {
    let mut app = failed_visits(false);
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('R'));
    let picker = render(&app, 120, 30);
    assert!(
        picker.contains("Rerun the selected Visit Intake work orders from which step?"),
        "no workflow filter is needed when the selection is one workflow:\n{picker}"
    );
    assert!(
        picker.contains("▸ Validate Visit  failed here"),
        "starts on the failed step:\n{picker}"
    );
    assert!(picker.contains("j/k move · / filter"), "{picker}");
    // List keys: j moves, g goes back to the top, Enter picks.
    press(&mut app, KeyCode::Char('j'));
    assert!(render(&app, 120, 30).contains("▸ Summarise Visit"));
    press(&mut app, KeyCode::Char('g'));
    press(&mut app, KeyCode::Enter);
    let confirm = render(&app, 120, 30);
    assert!(
        squeeze(&confirm).contains(&squeeze(
            "Rerun ALL 3 work orders of Visit Intake matching the filter, from step Validate Visit?"
        )),
        "names, not keys:\n{confirm}"
    );
    assert!(confirm.contains("y/Enter yes   n/Esc no"), "{confirm}");
    press(&mut app, KeyCode::Char('y'));
    match app.outbox.pop() {
        Some((Tag::BulkMatching, Request::RerunMatching { filter, from_job })) => {
            assert_eq!(from_job.as_deref(), Some("job-validate"));
            assert_eq!(filter.workflow.as_deref(), Some("Visit Intake"));
            assert_eq!(
                filter.states,
                vec![bolt_shared::model::WorkOrderState::Failed]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn all_matching_beyond_the_loaded_rows_asks_boltd_whether_it_is_one_workflow() {
    let answer = |app: &mut App, in_workflow: u64| {
        let (tag, request) = app.outbox.pop().expect("a count request");
        assert!(matches!(tag, Tag::BulkScope(_)), "{tag:?}");
        match &request {
            Request::ListWorkOrders { filter, .. } => {
                assert_eq!(filter.workflow.as_deref(), Some("Visit Intake"))
            }
            other => panic!("{other:?}"),
        }
        app.handle_incoming(Incoming::Response {
            tag,
            result: Ok(bolt_shared::protocol::Response::WorkOrders(failed_page(
                &[0],
                in_workflow,
            ))),
        });
    };
    let mut app = failed_visits(true);
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('R'));
    answer(&mut app, 3);
    assert!(matches!(app.overlays.last(), Some(Overlay::Picker(_))));

    let mut app = failed_visits(true);
    app.history.counts[0].count = 40;
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('R'));
    answer(&mut app, 3);
    assert!(app.overlays.is_empty());
    let screen = render(&app, 160, 30);
    assert!(
        screen.contains("only 3 of the 40 matching work orders are in Visit Intake"),
        "{screen}"
    );
}

#[test]
fn marks_across_workflows_are_refused_naming_them_and_a_filter_change_says_it_clears_marks() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char('R'));
    let screen = render(&app, 200, 30);
    assert!(
        screen.contains("the marked work orders belong to 2 workflows (Lab Results, Visit Intake)")
            || screen.contains(
                "the marked work orders belong to 2 workflows (Visit Intake, Lab Results)"
            ),
        "{screen}"
    );
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "P-0042");
    press(&mut app, KeyCode::Enter);
    assert!(app.history.marked.is_empty());
    assert!(
        render(&app, 120, 30).contains("the filter changed: 2 marked work orders unmarked"),
        "{}",
        render(&app, 120, 30)
    );
}

#[test]
fn at_80_by_24_the_ref_column_stays_and_trigger_goes_first() {
    let app = demo_app(ColorMode::Full);
    let screen = render(&app, 80, 24);
    let header = screen.lines().find(|l| l.contains("RECEIVED")).unwrap();
    assert!(header.contains("REF"), "{header}");
    assert!(!header.contains("TRIGGER"), "{header}");
    let row = &app.history.rows[0];
    assert!(screen.contains(&row.short_ref), "{screen}");
    let wide = render(&app, 120, 40);
    assert!(wide.contains("TRIGGER") && wide.contains("REF"));
}

/// Every dialog at 80×24 shows its last line (its key hints) inside the screen.
#[test]
fn every_dialog_fits_80_by_24_with_its_key_hints() {
    let check = |app: &App, hint: &str| {
        let screen = render(app, 80, 24);
        assert!(screen.contains(hint), "missing {hint:?}:\n{screen}");
    };
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('r'));
    check(&app, "y/Enter yes   n/Esc no");
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('R'));
    check(&app, "j/k move · / filter");
    press(&mut app, KeyCode::Esc);

    press(&mut app, KeyCode::Char('?'));
    check(&app, "Esc");
    press(&mut app, KeyCode::Esc);

    let mut editor = editing();
    check(&editor, "Esc close");
    type_text(&mut editor, "x");
    press(&mut editor, KeyCode::Esc);
    check(&editor, "y/Enter yes   n/Esc no");

    let (mut detail, _) = detail_with_long_body();
    select_json_path(&mut detail, "/response/body");
    press(&mut detail, KeyCode::Char('z'));
    check(&detail, "Esc close");
}

#[test]
fn ascii_mode_has_a_look_alike_for_every_symbol_drawn() {
    use tui::ascii::ascii_look_alike;
    let mut screens = Vec::new();
    let mut app = demo_app(ColorMode::Full);
    screens.push(render(&app, 120, 40));
    press(&mut app, KeyCode::Char('2'));
    screens.push(render(&app, 120, 40));
    press(&mut app, KeyCode::Enter);
    screens.push(render(&app, 120, 40));
    press(&mut app, KeyCode::Char('3'));
    screens.push(render(&app, 120, 40));
    let (mut detail, _) = detail_with_long_body();
    screens.push(render(&detail, 120, 40));
    press(&mut detail, KeyCode::Char('l'));
    press(&mut detail, KeyCode::Char('l'));
    press(&mut detail, KeyCode::Char('L'));
    screens.push(render(&detail, 120, 40));
    let mut missing: Vec<String> = screens
        .iter()
        .flat_map(|s| s.chars())
        .filter(|c| !c.is_ascii())
        .map(|c| c.to_string())
        .filter(|c| ascii_look_alike(c).is_none())
        .collect();
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "no ASCII stand-in for {missing:?}");
}

/// Everything written to the terminal for a session of screens, through the real backend.
fn wire_bytes(color: ColorMode) -> String {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let backend = tui::wire::WireBackend::with_width(capture.clone(), 120);
    let mut terminal = Terminal::with_options(
        backend,
        ratatui::TerminalOptions {
            viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 120, 40)),
        },
    )
    .unwrap();
    let (mut app, _) = detail_with_long_body();
    app.theme.color = color;
    let keys = ['1', 'j', '2', '3', '1', 'f'];
    terminal.draw(|f| app.draw(f)).unwrap();
    for key in keys {
        press(&mut app, KeyCode::Char(key));
        terminal.draw(|f| app.draw(f)).unwrap();
    }
    String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned()
}

/// The parameters of every SGR sequence (`ESC [ … m`) in the output.
fn sgr_params(wire: &str) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    for part in wire.split("\x1b[").skip(1) {
        let end = part
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(part.len());
        if part[end..].starts_with('m') {
            out.push(
                part[..end]
                    .split(';')
                    .filter_map(|p| p.parse().ok())
                    .collect(),
            );
        }
    }
    out
}

#[test]
fn reduced_colour_writes_only_the_16_basic_colours() {
    let reduced = wire_bytes(ColorMode::Reduced);
    let is_colour = |p: &u32| matches!(p, 30..=39 | 40..=49 | 90..=97 | 100..=107);
    let sgrs = sgr_params(&reduced);
    assert!(
        sgrs.iter().any(|p| p.contains(&31)),
        "red is the basic SGR 31"
    );
    for params in &sgrs {
        assert!(
            !params.contains(&38) && !params.contains(&48),
            "a 256- or true-colour code was sent: {params:?}"
        );
    }
    assert!(!reduced.contains("38;5;") && !reduced.contains("48;5;"));
    let none = wire_bytes(ColorMode::None);
    for params in sgr_params(&none) {
        assert!(
            !params.iter().any(is_colour),
            "NO_COLOR sends no colour: {params:?}"
        );
    }
    // Blank row ends are erased, not written as spaces.
    assert!(reduced.contains("\x1b[K"));
}

#[test]
fn a_prefilled_prompt_is_replaced_by_typing_and_takes_ctrl_u_and_ctrl_w() {
    let (mut app, _) = detail_with_long_body();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "lab id");
    press(&mut app, KeyCode::Enter);
    assert_eq!(
        app.detail.as_ref().unwrap().search.as_deref(),
        Some("lab id")
    );
    // Opened again, it shows the term; typing replaces it.
    press(&mut app, KeyCode::Char('/'));
    assert!(render(&app, 120, 30).contains("lab id"));
    type_text(&mut app, "cause");
    let text = |app: &App| match app.overlays.last() {
        Some(Overlay::Prompt(prompt)) => prompt.text(),
        _ => panic!("no prompt"),
    };
    assert_eq!(text(&app), "cause");
    press(&mut app, KeyCode::Esc);
    // A cursor key keeps the suggestion for editing.
    press(&mut app, KeyCode::Char('/'));
    press(&mut app, KeyCode::End);
    type_text(&mut app, " 7 more");
    assert_eq!(text(&app), "lab id 7 more");
    ctrl(&mut app, 'w');
    assert_eq!(text(&app), "lab id 7 ");
    ctrl(&mut app, 'u');
    assert_eq!(text(&app), "");
}

#[test]
fn n_and_shift_n_step_through_matches_in_every_view_that_searches() {
    // Detail: JSON matches forwards and backwards.
    let (mut app, _) = detail_with_long_body();
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "s");
    press(&mut app, KeyCode::Enter);
    let cursor = |app: &App| app.detail.as_ref().unwrap().input.cursor;
    let first = cursor(&app);
    press(&mut app, KeyCode::Char('n'));
    let second = cursor(&app);
    assert_ne!(first, second);
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(cursor(&app), first);

    // Workflows: n/N find the next and previous workflow named like the search.
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "i");
    press(&mut app, KeyCode::Enter);
    let at = |app: &App| app.workflows.selected;
    let start = at(&app);
    press(&mut app, KeyCode::Char('n'));
    assert_ne!(at(&app), start);
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(at(&app), start);

    // History: without a search n says how to search; with one it steps through rows.
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('n'));
    assert!(render(&app, 120, 30).contains("no search yet"));
    app.history.filter.search = Some("P-0042".into());
    press(&mut app, KeyCode::Char('n'));
    assert_eq!(app.history.selected, 1);
    press(&mut app, KeyCode::Char('N'));
    assert_eq!(app.history.selected, 0);
}

#[test]
fn the_manual_run_dialog_takes_the_webhook_body_and_says_so() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('t'));
    let dialog = render(&app, 100, 30);
    assert!(
        dialog.contains("Input: webhook body (the run gets it as state.data)"),
        "{dialog}"
    );
    assert!(dialog.contains("ctrl-t: whole state"), "{dialog}");
    ctrl(&mut app, 't');
    assert!(render(&app, 100, 30).contains("the whole initial state"));
    press(&mut app, KeyCode::Down);
    type_text(&mut app, "\"data\": {\"v\": 1}, \"cursor\": 3");
    app.outbox.clear();
    ctrl(&mut app, 's');
    match app.outbox.pop() {
        Some((_, Request::Trigger { input, .. })) => assert_eq!(
            input,
            bolt_shared::protocol::ManualInput::Json {
                value: serde_json::json!({"data": {"v": 1}, "cursor": 3})
            }
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn failures_view_by_key_and_palette_opens_the_example_and_filters_the_history() {
    use bolt_shared::model::FailureGroup;
    let group = |workflow: &str, job: &str, count: u64, example: &str| FailureGroup {
        workflow: workflow.into(),
        job: job.into(),
        error_type: "JobError".into(),
        count,
        first_seen: chrono::Utc::now(),
        last_seen: chrono::Utc::now(),
        example_ref: example.into(),
        example_message: Some("visit has no patient".into()),
    };
    let answer = |app: &mut App| {
        let (tag, request) = app.outbox.pop().expect("a failures request");
        assert_eq!(tag, Tag::Failures);
        assert!(matches!(request, Request::Failures { since: Some(_) }));
        app.handle_incoming(Incoming::Response {
            tag,
            result: Ok(bolt_shared::protocol::Response::Failures {
                groups: vec![
                    group(
                        "Visit Intake",
                        "Validate Visit",
                        17,
                        "0190a3b4-5c6d-7e8f-9a0b-000000420000",
                    ),
                    group(
                        "Lab Results",
                        "Fetch",
                        2,
                        "0190a3b4-5c6d-7e8f-9a0b-000000420001",
                    ),
                ],
            }),
        });
    };
    let mut app = demo_app(ColorMode::Full);
    app.outbox.clear();
    press(&mut app, KeyCode::Char('5'));
    answer(&mut app);
    let view = render(&app, 120, 30);
    assert!(
        view.contains("Failures in the last 24 hours: 19 in 2 groups"),
        "{view}"
    );
    assert!(
        view.contains("Visit Intake") && view.contains("Validate Visit"),
        "{view}"
    );
    press(&mut app, KeyCode::Enter);
    assert!(app.overlays.is_empty());
    assert!(
        app.outbox.iter().any(
            |(_, r)| matches!(r, Request::Show { reference, .. } if reference.ends_with("420000"))
        ),
        "Enter opens the example work order"
    );

    // From the palette, and f filters the history to that workflow's failures.
    let mut app = demo_app(ColorMode::Full);
    app.outbox.clear();
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "go-failures");
    press(&mut app, KeyCode::Enter);
    answer(&mut app);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('f'));
    assert_eq!(app.history.filter.workflow.as_deref(), Some("Lab Results"));
    assert!(
        app.history
            .filter
            .states
            .contains(&bolt_shared::model::WorkOrderState::Failed)
    );
}

#[test]
fn from_a_workflow_h_jumps_to_its_history() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Enter);
    let name = app.graph.as_ref().unwrap().workflow.name.clone();
    press(&mut app, KeyCode::Char('H'));
    assert_eq!(app.screen(), tui::action::ScreenId::History);
    assert_eq!(app.history.filter.workflow.as_deref(), Some(name.as_str()));
    assert!(render(&app, 120, 30).contains(&format!("workflow {name}")));
}

#[test]
fn bolt_open_workflow_job_opens_the_graph_on_that_job_once_workflows_load() {
    let mut app = App::new(
        tui::theme::Theme {
            color: ColorMode::Full,
            ascii: false,
        },
        tui::keymap::Keymap::default(),
    );
    app.start(None);
    app.open_job("wf-visit".into(), Some("job-report".into()));
    assert_eq!(
        app.screen(),
        tui::action::ScreenId::History,
        "waits for the list"
    );
    app.handle_incoming(Incoming::Response {
        tag: Tag::Workflows,
        result: Ok(bolt_shared::protocol::Response::Workflows {
            workflows: tui::fixtures::workflows(),
        }),
    });
    assert_eq!(app.screen(), tui::action::ScreenId::Graph);
    let graph = app.graph.as_ref().unwrap();
    assert_eq!(graph.workflow.id, "wf-visit");
    assert_eq!(graph.selected_job.as_deref(), Some("job-report"));
}

#[test]
fn the_status_line_shows_the_queue_and_failures_of_the_last_hour() {
    use bolt_shared::protocol::Event;
    use std::time::Duration;
    use tui::source::Connection;
    let mut app = demo_app(ColorMode::Full);
    // Asked for on every (re)connect.
    app.handle_incoming(Incoming::Connection(Connection::Down {
        error: "gone".into(),
        retry_in: Duration::from_secs(1),
    }));
    app.handle_incoming(Incoming::Connection(Connection::Connected {
        daemon: "boltd".into(),
        user: None,
        role: None,
    }));
    let sent: Vec<Tag> = app.outbox.drain(..).map(|(tag, _)| tag).collect();
    assert!(
        sent.contains(&Tag::HealthStatus) && sent.contains(&Tag::HealthFailures),
        "{sent:?}"
    );
    let mut status: bolt_shared::model::DaemonStatus = serde_json::from_value(serde_json::json!({
        "version": "0.1.0", "protocol": 1, "pid": 1, "started_at": "2026-01-01T00:00:00Z",
        "uptime_secs": 1, "data_dir": "/d", "socket": "/s", "http_listen": null,
        "queue_depth": 0, "running": 0, "workers": 2, "projects": 1, "workflows": 1,
        "work_orders": 1, "counts": []
    }))
    .unwrap();
    status.queue_depth = 12;
    app.handle_incoming(Incoming::Response {
        tag: Tag::HealthStatus,
        result: Ok(bolt_shared::protocol::Response::Status(Box::new(status))),
    });
    app.handle_incoming(Incoming::Response {
        tag: Tag::HealthFailures,
        result: Ok(bolt_shared::protocol::Response::Failures { groups: vec![] }),
    });
    let line = render(&app, 120, 30);
    let status_line = line.lines().last().unwrap();
    assert!(
        status_line.contains("queue 12 · no failures in 1h · boltd ● connected"),
        "{status_line}"
    );
    // A finished run asks again.
    app.handle_incoming(Incoming::Event(Event::WorkOrderChanged {
        id: "x".into(),
        state: bolt_shared::model::WorkOrderState::Failed,
        created: false,
    }));
    assert!(
        app.outbox
            .iter()
            .any(|(tag, _)| *tag == Tag::HealthFailures)
    );
}

fn credential_detail() -> bolt_shared::credential_view::CredentialDetail {
    serde_json::from_value(serde_json::json!({
        "name": "dhis2-play",
        "fields": [
            {"key": "baseUrl", "secret": false, "value": "https://play.dhis2.org"},
            {"key": "username", "secret": false, "value": "admin"},
            {"key": "password", "secret": true}
        ],
        "used_by": ["Nightly Sync / Sync to DHIS2"],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "history": []
    }))
    .unwrap()
}

/// The credentials screen with the edit form open on dhis2-play.
fn editing_credential() -> App {
    let mut app = demo_app(ColorMode::None);
    press(&mut app, KeyCode::Char('3'));
    app.outbox.clear();
    press(&mut app, KeyCode::Char('e'));
    let (tag, request) = app.outbox.pop().expect("the credential is asked for");
    assert!(
        matches!(request, Request::CredentialShow { .. }),
        "{request:?}"
    );
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(bolt_shared::protocol::Response::Credential(Box::new(
            credential_detail(),
        ))),
    });
    app
}

#[test]
fn editing_a_credential_keeps_other_fields_and_a_blank_secret_is_unchanged() {
    let mut app = editing_credential();
    let form = render(&app, 100, 30);
    assert!(form.contains("Edit credential dhis2-play"), "{form}");
    assert!(
        form.contains("https://play.dhis2.org"),
        "non-secret values shown:\n{form}"
    );
    assert!(form.contains("admin"), "{form}");
    assert!(form.contains("(unchanged; type to replace)"), "{form}");
    // Change only the username.
    press(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    type_text(&mut app, "ops");
    ctrl(&mut app, 's');
    match app.outbox.pop() {
        Some((_, Request::CredentialUpdate { name, set, unset })) => {
            assert_eq!(name, "dhis2-play");
            assert_eq!(
                serde_json::Value::Object(set),
                serde_json::json!({"username": "ops"})
            );
            assert!(unset.is_empty(), "{unset:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_typed_secret_never_shows_its_length_and_the_focus_shows_without_colour() {
    let mut app = editing_credential();
    // Focus is on Base URL: marked by a pointer, not only by colour.
    let form = render(&app, 100, 30);
    assert!(form.contains("▸Base URL"), "{form}");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "pw");
    let short = render(&app, 100, 30);
    type_text(&mut app, "-much-longer-secret-value");
    let long = render(&app, 100, 30);
    assert!(short.contains("•••••••• (typed)"), "{short}");
    assert_eq!(
        short.matches('•').count(),
        long.matches('•').count(),
        "the mask is the same for 2 and 27 characters"
    );
    assert!(!long.contains("much-longer"));
    assert!(long.contains("▸Password"), "{long}");
    ctrl(&mut app, 's');
    match app.outbox.pop() {
        Some((_, Request::CredentialUpdate { set, .. })) => assert_eq!(
            serde_json::Value::Object(set),
            serde_json::json!({"password": "pw-much-longer-secret-value"})
        ),
        other => panic!("{other:?}"),
    }
}
