//! Render tests: every screen drawn into ratatui's `TestBackend` from fabricated daemon data,
//! asserting on the text a person would read.

#![allow(clippy::unwrap_used)]

use bolt_client::tui;

use bolt_shared::model::{MatchSource, SearchHit, WipeReason, WorkOrderState};
use bolt_shared::protocol::{Event, Request, RerunOutcome, Response};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;
use ratatui::style::Color;
use std::time::Duration;
use tui::action::ScreenId;
use tui::app::App;
use tui::dialogs::overlay::Overlay;
use tui::fixtures;
use tui::measure::demo_app;
use tui::source::{Connection, Incoming, Tag};
use tui::testing::{ctrl, press, render, type_text};
use tui::theme::ColorMode;

fn open_detail(app: &mut App) {
    press(app, KeyCode::Enter);
    let sent: Vec<(Tag, Request)> = app.outbox.drain(..).collect();
    assert!(
        sent.iter()
            .any(|(_, r)| matches!(r, Request::Show { bodies: true, .. })),
        "{sent:?}"
    );
    for (tag, _) in sent {
        if matches!(tag, Tag::Show { .. }) {
            app.handle_incoming(Incoming::Response {
                tag,
                result: Ok(Response::Shown(Box::new(fixtures::show_failed()))),
            });
        }
    }
    let logs: Vec<(Tag, Request)> = app.outbox.drain(..).collect();
    for (tag, _) in logs {
        if let Tag::Logs { run_id } = &tag {
            let lines = fixtures::logs(run_id, 4);
            app.handle_incoming(Incoming::Response {
                tag,
                result: Ok(Response::Logs { lines, more: false }),
            });
        }
    }
}

#[test]
fn history_shows_mixed_states_with_symbols_counts_and_errors() {
    let app = demo_app(ColorMode::Full);
    let screen = render(&app, 120, 40);
    for expected in [
        "bolt ▸ History",
        "✔ 1,204",
        "✘ 17",
        "⚠ 2",
        "RECEIVED",
        "FIRST ERROR",
        "Visit Intake",
        "✘ failed",
        "✔ success",
        "● running",
        "… pending",
        "⚠ crashed",
        "⊘ cancelled",
        "Validate Visit: visit has no patient",
        "boltd ● connected",
        "Enter open",
    ] {
        assert!(
            screen.contains(expected),
            "missing {expected:?} in\n{screen}"
        );
    }
    // The first row is selected and marked with the pointer.
    let first_row = screen.lines().find(|l| l.contains("Visit Intake")).unwrap();
    assert!(first_row.contains('▸'), "{first_row}");
}

#[test]
fn history_fits_80_by_24() {
    let app = demo_app(ColorMode::Full);
    let screen = render(&app, 80, 24);
    let lines: Vec<&str> = screen.lines().collect();
    assert_eq!(lines.len(), 24);
    assert!(lines[0].contains("History"));
    assert!(screen.contains("✘ failed"));
    assert!(
        lines[23].contains("connected"),
        "status line: {}",
        lines[23]
    );
    assert!(
        lines[23].contains("Enter open"),
        "status line: {}",
        lines[23]
    );
}

#[test]
fn monochrome_ascii_keeps_meaning_in_words_and_symbols() {
    let mut app = demo_app(ColorMode::None);
    app.theme.ascii = true;
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| app.draw(frame)).unwrap();
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content()
            .iter()
            .all(|cell| cell.fg == Color::Reset && cell.bg == Color::Reset),
        "no colour at all"
    );
    let screen = render(&app, 120, 40);
    assert!(screen.contains("FAIL failed"), "{screen}");
    assert!(screen.contains("ok success"));
    assert!(screen.lines().any(|l| l.starts_with(" >")), "ascii pointer");
    assert!(screen.is_ascii(), "only ASCII in ascii mode:\n{screen}");
}

#[test]
fn search_hits_show_where_and_highlight_the_match() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "P-0042");
    press(&mut app, KeyCode::Enter);
    let (tag, request) = app.outbox.pop().unwrap();
    match &request {
        Request::ListWorkOrders {
            filter,
            after: None,
            ..
        } => assert_eq!(filter.search.as_deref(), Some("P-0042")),
        other => panic!("{other:?}"),
    }
    let mut page = fixtures::page(3, None);
    page.rows[1].hit = Some(SearchHit {
        source: MatchSource::Output,
        snippet: "…patient [P-0042] missing".into(),
    });
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::WorkOrders(page)),
    });
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal.draw(|frame| app.draw(frame)).unwrap();
    let screen = render(&app, 120, 40);
    assert!(screen.contains("MATCH"));
    assert!(screen.contains("search \"P-0042\""));
    let row = screen
        .lines()
        .position(|l| l.contains("in output: …patient P-0042 missing"))
        .expect(&screen);
    // The matched text is highlighted, the rest of the snippet is not.
    let buffer = terminal.backend().buffer();
    let line: String = (0..120)
        .map(|x| buffer[(x, row as u16)].symbol().to_string())
        .collect();
    let at = line.find("P-0042").unwrap();
    let col = line[..at].chars().count() as u16;
    assert_eq!(buffer[(col, row as u16)].bg, Color::Yellow);
    assert_ne!(buffer[(col - 2, row as u16)].bg, Color::Yellow);
}

#[test]
fn live_rows_show_a_new_marker_and_keep_the_selection() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('j'));
    let selected = app.history.selected_row().unwrap().id.clone();
    app.handle_incoming(Incoming::Event(Event::WorkOrderChanged {
        id: "fresh".into(),
        state: WorkOrderState::Running,
        created: true,
    }));
    let (tag, _) = app.outbox.pop().unwrap();
    let mut page = fixtures::page(5, None);
    let mut fresh = fixtures::row(500, WorkOrderState::Running);
    fresh.workflow = "Fresh Arrival".into();
    page.rows.insert(0, fresh);
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::WorkOrders(page)),
    });
    let screen = render(&app, 120, 40);
    assert!(screen.contains("▲ 1 new — g to show"), "{screen}");
    assert!(!screen.contains("Fresh Arrival"), "the view did not move");
    assert_eq!(app.history.selected_row().unwrap().id, selected);
    press(&mut app, KeyCode::Char('g'));
    assert!(render(&app, 120, 40).contains("Fresh Arrival"));
}

#[test]
fn run_detail_opens_on_the_failed_step_with_its_error_and_input() {
    let mut app = demo_app(ColorMode::Full);
    open_detail(&mut app);
    assert_eq!(app.screen(), ScreenId::Detail);
    let screen = render(&app, 120, 40);
    for expected in [
        "History ▸ wo",
        "Runs: #2 ✘ failed",
        "(from Validate Visit)",
        "#1 ✘ failed",
        "Steps",
        "✘ Validate Visit",
        "✔ Report Bad Visit",
        "· Summarise Visit  (not run)",
        "Error: JobError",
        "visit has no patient",
        "at line 3, column 29 of the job",
        "[input]",
        "\"clinic\": \"Hill\"",
        "▾ \"items\": [",
    ] {
        assert!(
            screen.contains(expected),
            "missing {expected:?} in\n{screen}"
        );
    }
    // Logs tab with level colours and the follow indicator off for a finished run.
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('l'));
    let logs = render(&app, 120, 40);
    assert!(logs.contains("[logs]"));
    assert!(
        logs.contains("ERROR   JobError: visit has no patient"),
        "{logs}"
    );
    // And at 80x24 the error is still on screen.
    press(&mut app, KeyCode::Char('h'));
    press(&mut app, KeyCode::Char('h'));
    let small = render(&app, 80, 24);
    assert!(small.contains("Error: JobError"), "{small}");
    assert!(small.contains("Validate Visit"));
}

#[test]
fn folding_and_searching_json_in_the_detail() {
    let mut app = demo_app(ColorMode::Full);
    open_detail(&mut app);
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char(' '));
    let folded = render(&app, 120, 40);
    assert!(folded.contains("▸ \"data\": { 4 keys }"), "{folded}");
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "V-7781");
    press(&mut app, KeyCode::Enter);
    let found = render(&app, 120, 40);
    assert!(
        found.contains("\"visit_id\": \"V-7781\""),
        "search unfolds to the match:\n{found}"
    );
    assert!(found.contains("1 in input"), "{found}");
}

#[test]
fn wiped_data_says_why_not_just_empty() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Enter);
    let (tag, _) = app.outbox.drain(..).next().unwrap();
    let mut shown = fixtures::show_failed();
    for run in &mut shown.work_order.runs {
        for step in &mut run.steps {
            if let Some(input) = step.input.as_mut() {
                input.body = None;
                input.wipe_reason = Some(WipeReason::Retention);
            }
            if let Some(output) = step.output.as_mut() {
                output.body = None;
                output.wipe_reason = Some(WipeReason::TooLarge);
                output.size_bytes = Some(12 * 1024 * 1024);
            }
        }
    }
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Shown(Box::new(shown))),
    });
    assert!(render(&app, 120, 40).contains("erased by the project's retention policy"));
    press(&mut app, KeyCode::Char('l'));
    assert!(render(&app, 120, 40).contains("too large to store (12288 KB)"));
}

#[test]
fn workflows_list_and_graph() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    assert_eq!(app.screen(), ScreenId::Workflows);
    app.outbox.clear();
    let list = render(&app, 120, 40);
    assert!(
        list.contains("cron \"0 2 * * *\" — At 02:00 every day"),
        "{list}"
    );
    assert!(list.contains("in 15h 12m"), "{list}");
    assert!(list.contains("webhook http://localhost:4000/i/visits"));
    assert!(list.contains("✔812 / ✘9"), "{list}");
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), ScreenId::Graph);
    let graph = render(&app, 120, 40);
    let expected = [
        " ◇ webhook http://localhost:4000/i/visits",
        " │ always",
        " ▼",
        " ┌────────────────┐",
        " │ Validate Visit │ http@7.2.0",
        " └────────────────┘",
        "   │                 ┌─────────────────┐",
        "   ├─ on success ──▶ │ Summarise Visit │ http@7.2.0",
        "   │                 └─────────────────┘",
        "   │                 ┌──────────────────┐",
        "   └─ on failure ──▶ │ Report Bad Visit │ http@7.2.0",
        "                     └──────────────────┘",
    ];
    for line in expected {
        assert!(
            graph.lines().any(|l| l.trim_end() == line),
            "missing line {line:?} in\n{graph}"
        );
    }
    // Editing a job: the editor opens with its code; saving shows the diff first.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('e'));
    let editor = render(&app, 120, 40);
    assert!(editor.contains("Edit job: Summarise Visit"), "{editor}");
    assert!(editor.contains("post('/summaries'"));
    type_text(&mut app, "// ");
    ctrl(&mut app, 's');
    let diff = render(&app, 120, 40);
    assert!(diff.contains("- post('/summaries'"), "{diff}");
    assert!(diff.contains("+ // post('/summaries'"), "{diff}");
    press(&mut app, KeyCode::Char('y'));
    // The editor stays open until boltd has taken the save, so a refusal loses nothing.
    assert!(matches!(app.overlays.last(), Some(Overlay::JobEditor(_))));
    let (tag, _) = app
        .outbox
        .iter()
        .find(|(_, r)| matches!(r, Request::UpdateJob { job, .. } if job == "job-summarise"))
        .cloned()
        .unwrap();
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Done {
            message: "saved as version 4".into(),
        }),
    });
    assert!(app.overlays.is_empty());
}

#[test]
fn manual_run_sends_the_typed_json() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    app.outbox.clear();
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('t'));
    assert!(render(&app, 120, 40).contains("Run Visit Intake by hand"));
    press(&mut app, KeyCode::Down);
    type_text(&mut app, "\"visit_id\": \"V-1\"");
    ctrl(&mut app, 's');
    match app.outbox.pop() {
        Some((
            Tag::Trigger,
            Request::Trigger {
                workflow, input, ..
            },
        )) => {
            assert_eq!(workflow, "wf-visit");
            assert_eq!(
                input,
                // Typed as the webhook body: the run starts with it as state.data.
                bolt_shared::protocol::ManualInput::Json {
                    value: serde_json::json!({"data": {"visit_id": "V-1"}})
                }
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn credential_form_masks_secrets_and_lists_never_show_values() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('3'));
    let (tag, _) = app.outbox.pop().unwrap();
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Credentials {
            credentials: fixtures::credentials(),
        }),
    });
    let list = render(&app, 120, 40);
    assert!(list.contains("dhis2-play"));
    assert!(list.contains("baseUrl, username, password"));
    assert!(list.contains("Nightly Sync / Sync to DHIS2"));
    assert!(list.contains("(unused)"));
    press(&mut app, KeyCode::Char('n'));
    type_text(&mut app, "odk");
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "https://odk.example.org");
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "hunter2");
    let form = render(&app, 120, 40);
    assert!(form.contains("New credential"), "{form}");
    assert!(form.contains("https://odk.example.org"));
    assert!(!form.contains("hunter2"), "the password is masked:\n{form}");
    assert!(form.contains("•••••••"), "{form}");
    ctrl(&mut app, 's');
    match app.outbox.pop() {
        Some((_, Request::CredentialSet { name, body })) => {
            assert_eq!(name, "odk");
            assert_eq!(body["password"], "hunter2");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn help_overlay_lists_this_screens_keys_from_the_keymap() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('?'));
    let help = render(&app, 120, 40);
    for expected in [
        "Keys — History",
        "space",
        "mark / unmark row",
        "A ",
        "select all matching the filter",
        "f ",
        "edit the filter",
        "ctrl-d",
    ] {
        assert!(help.contains(expected), "missing {expected:?} in\n{help}");
    }
    press(&mut app, KeyCode::Esc);
    assert!(app.overlays.is_empty());
    // Overridden keys show up in help.
    let mut keys = std::collections::BTreeMap::new();
    keys.insert("mark".to_string(), "m".to_string());
    let mut app = tui::build_app(&tui::TuiOptions {
        socket: "/nonexistent".into(),
        open_ref: None,
        open_job: None,
        color: ColorMode::Full,
        ascii: false,
        keys,
    });
    press(&mut app, KeyCode::Char('?'));
    let help = render(&app, 80, 24);
    assert!(
        help.lines()
            .any(|l| l.contains(" m ") && l.contains("mark / unmark row")),
        "{help}"
    );
}

#[test]
fn command_palette_matches_fuzzily_and_runs_the_command() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char(':'));
    type_text(&mut app, "gocred");
    let palette = render(&app, 120, 40);
    assert!(palette.contains("go-credentials"), "{palette}");
    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), ScreenId::Credentials);
}

#[test]
fn bulk_rerun_confirms_the_count_and_shows_progress() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    press(&mut app, KeyCode::Char(' '));
    assert!(render(&app, 120, 40).contains("3 marked"));
    press(&mut app, KeyCode::Char('r'));
    let confirm = render(&app, 120, 40);
    assert!(
        confirm.contains("Rerun 3 marked work orders from the start, oldest first?"),
        "{confirm}"
    );
    press(&mut app, KeyCode::Char('y'));
    let sent: Vec<(Tag, Request)> = app.outbox.drain(..).collect();
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(
        |(tag, r)| *tag == Tag::BulkItem && matches!(r, Request::Rerun { from_job: None, .. })
    ));
    app.handle_incoming(Incoming::Response {
        tag: Tag::BulkItem,
        result: Ok(Response::Reruns {
            outcomes: vec![RerunOutcome {
                work_order_id: "a".into(),
                run_id: Some("r".into()),
                skipped: None,
            }],
        }),
    });
    assert!(render(&app, 120, 40).contains("rerunning 1/3"));
    app.handle_incoming(Incoming::Response {
        tag: Tag::BulkItem,
        result: Err("input was erased by retention".into()),
    });
    app.handle_incoming(Incoming::Response {
        tag: Tag::BulkItem,
        result: Ok(Response::Reruns {
            outcomes: vec![RerunOutcome {
                work_order_id: "c".into(),
                run_id: Some("r3".into()),
                skipped: None,
            }],
        }),
    });
    let done = render(&app, 120, 40);
    assert!(
        done.contains("bulk rerun finished: 2 started, 1 failed (input was erased by retention)"),
        "{done}"
    );

    // All matching the filter: one RerunMatching, progress from events.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('A'));
    press(&mut app, KeyCode::Char('r'));
    assert!(render(&app, 120, 40).contains("Rerun ALL 1,224 work orders matching the filter"));
    press(&mut app, KeyCode::Enter);
    assert!(matches!(
        app.outbox.pop(),
        Some((Tag::BulkMatching, Request::RerunMatching { .. }))
    ));
    app.handle_incoming(Incoming::Event(Event::BulkProgress {
        done: 300,
        total: 1224,
    }));
    assert!(render(&app, 120, 40).contains("rerunning 300/1224"));
}

#[test]
fn daemon_errors_show_in_a_banner_and_connection_state_in_the_status_line() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('r'));
    let (tag, _) = app.outbox.pop().unwrap();
    app.handle_incoming(Incoming::Response {
        tag,
        result: Err("cannot rerun: the input was erased by the retention policy".into()),
    });
    let screen = render(&app, 120, 40);
    assert!(
        screen.contains("failed: cannot rerun: the input was erased by the retention policy"),
        "{screen}"
    );
    // A keypress does not hide an error; Esc does.
    press(&mut app, KeyCode::Char('j'));
    assert!(render(&app, 120, 40).contains("erased by the retention policy"));
    press(&mut app, KeyCode::Esc);
    assert!(!render(&app, 120, 40).contains("erased by the retention policy"));

    app.handle_incoming(Incoming::Connection(Connection::Down {
        error: "boltd is not running".into(),
        retry_in: Duration::from_secs(4),
    }));
    assert!(render(&app, 120, 40).contains("boltd ○ down, retrying in 4s"));
    app.outbox.clear();
    app.handle_incoming(Incoming::Connection(Connection::Connected {
        daemon: "boltd".into(),
        user: None,
        role: None,
    }));
    assert!(
        app.outbox.iter().any(|(tag, _)| *tag == Tag::HistoryReload),
        "reloads after reconnecting"
    );
}

#[test]
fn open_ref_goes_straight_to_the_run_detail() {
    let mut app = tui::build_app(&tui::TuiOptions {
        socket: "/nonexistent".into(),
        open_ref: None,
        open_job: None,
        color: ColorMode::Full,
        ascii: false,
        keys: Default::default(),
    });
    app.start(Some("7qk2m9".into()));
    assert_eq!(app.screen(), ScreenId::Detail);
    assert!(app.outbox.iter().any(
        |(_, r)| matches!(r, Request::Show { reference, bodies: true } if reference == "7qk2m9")
    ));
    assert!(render(&app, 80, 24).contains("loading 7qk2m9"));
    press(&mut app, KeyCode::Char('q'));
    assert_eq!(
        app.screen(),
        ScreenId::History,
        "q goes back, it does not quit from a sub-screen"
    );
    assert!(!app.quit);
    press(&mut app, KeyCode::Char('q'));
    assert!(app.quit);
}

#[test]
fn a_row_move_writes_under_a_kilobyte() {
    let results = tui::measure::measure(120, 40, ColorMode::Full).unwrap();
    let bytes = |name: &str| results.iter().find(|m| m.action == name).unwrap().bytes;
    assert!(bytes("row move (j)") <= 1024, "{results:?}");
    assert!(bytes("row move (k)") <= 1024, "{results:?}");
    assert!(bytes("idle redraw") < 64, "{results:?}");
    assert!(bytes("first paint") > bytes("row move (j)") * 5);
}

#[test]
fn filter_form_shows_states_in_words_and_picks_a_workflow() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('f'));
    let form = render(&app, 120, 40);
    for expected in [
        "Filter",
        "[ ] ✘ failed",
        "[ ] ✔ success",
        "Workflow  any",
        "Since",
        "Time by   received",
    ] {
        assert!(form.contains(expected), "missing {expected:?} in\n{form}");
    }
    for _ in 0..3 {
        press(&mut app, KeyCode::Right);
    }
    press(&mut app, KeyCode::Char(' ')); // failed
    press(&mut app, KeyCode::Tab);
    press(&mut app, KeyCode::Char(' ')); // opens the workflow picker
    type_text(&mut app, "vis");
    assert!(render(&app, 120, 40).contains("Visit Intake"));
    match app.overlays.last() {
        Some(Overlay::Picker(picker)) => {
            let labels: Vec<&str> = picker
                .matches()
                .iter()
                .map(|m| m.item.label.as_str())
                .collect();
            assert_eq!(labels, vec!["Visit Intake"], "fuzzy filtered");
        }
        _ => panic!("the workflow picker is open"),
    }
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Tab);
    type_text(&mut app, "7d");
    press(&mut app, KeyCode::Enter);
    assert!(app.overlays.is_empty());
    match app.outbox.pop() {
        Some((
            Tag::HistoryReload,
            Request::ListWorkOrders {
                filter,
                after: None,
                ..
            },
        )) => {
            assert_eq!(filter.states, vec![WorkOrderState::Failed]);
            assert_eq!(filter.workflow.as_deref(), Some("Visit Intake"));
            assert!(filter.since.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        render(&app, 120, 40)
            .contains("status failed | workflow Visit Intake | since 7d (received)")
    );
}

#[test]
fn write_to_file_saves_the_value_under_the_cursor() {
    let mut app = demo_app(ColorMode::Full);
    open_detail(&mut app);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.json");
    press(&mut app, KeyCode::Char('w'));
    assert!(render(&app, 120, 40).contains("Write to file"));
    // Replace the suggested name with our path.
    press(&mut app, KeyCode::Home);
    ctrl(&mut app, 'k');
    type_text(&mut app, path.to_str().unwrap());
    press(&mut app, KeyCode::Enter);
    let written = std::fs::read_to_string(&path).unwrap();
    let value: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(value["data"]["visit_id"], "V-7781");
    assert!(render(&app, 120, 40).contains("bytes to"));
}

#[test]
fn tiny_terminals_never_panic() {
    let mut app = demo_app(ColorMode::Full);
    let sizes = [(1, 1), (10, 3), (20, 5), (40, 10), (80, 24)];
    let draw_all = |app: &App| {
        for (w, h) in sizes {
            render(app, w, h);
        }
    };
    draw_all(&app);
    press(&mut app, KeyCode::Char('?'));
    draw_all(&app);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('f'));
    draw_all(&app);
    press(&mut app, KeyCode::Esc);
    open_detail(&mut app);
    draw_all(&app);
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('l'));
    draw_all(&app);
    press(&mut app, KeyCode::Char('2'));
    draw_all(&app);
    press(&mut app, KeyCode::Enter);
    draw_all(&app);
    press(&mut app, KeyCode::Char('e'));
    draw_all(&app);
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('n'));
    draw_all(&app);
}

#[test]
fn control_characters_in_stored_logs_are_shown_escaped_never_sent_raw() {
    let mut app = demo_app(ColorMode::Full);
    open_detail(&mut app);
    let run_id = app
        .detail
        .as_ref()
        .and_then(|d| d.logs_run.clone())
        .expect("logs requested");
    let mut lines = fixtures::logs(&run_id, 1);
    lines[0].id = 99;
    lines[0].message =
        "before\u{1b}]0;pwned\u{7}\u{1b}[2K\rerased \u{9b}31m red \u{202e}txt.exe".into();
    app.handle_incoming(Incoming::Event(Event::Log(lines[0].clone())));
    press(&mut app, KeyCode::Char('l'));
    press(&mut app, KeyCode::Char('l'));
    let screen = render(&app, 160, 40);
    assert!(
        screen
            .contains("before\\x1b]0;pwned\\x07\\x1b[2K\\rerased \\u{9b}31m red \\u{202e}txt.exe"),
        "{screen}"
    );
    assert!(
        !screen
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{screen:?}"
    );
}

#[test]
fn graph_lists_versions_shows_a_diff_and_reverts_a_job_or_the_workflow() {
    use bolt_shared::versions::*;
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('j'));
    app.outbox.clear();
    press(&mut app, KeyCode::Char('v'));
    let (tag, request) = app.outbox.drain(..).next().expect("a versions request");
    assert!(
        matches!(request, Request::WorkflowVersions { .. }),
        "{request:?}"
    );
    let workflow = WorkflowRef {
        id: "wf-visit".into(),
        project: "clinic-intake".into(),
        key: "visit-intake".into(),
        name: "Visit Intake".into(),
    };
    let version = |v: i64, origin: VersionOrigin, summary: &str| VersionInfo {
        version: v,
        hash: format!("{v:012}"),
        created_at: chrono::Utc::now(),
        actor: Some("alice".into()),
        origin,
        summary: summary.into(),
    };
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Versions(VersionList {
            workflow: workflow.clone(),
            current: 3,
            versions: vec![
                version(
                    3,
                    VersionOrigin::JobEdit {
                        job: "job-summarise".into(),
                    },
                    "job Summarise Visit: code +1 -1",
                ),
                version(
                    2,
                    VersionOrigin::Deploy {
                        file: Some("project.yaml".into()),
                    },
                    "trigger webhook: custom_path",
                ),
                version(
                    1,
                    VersionOrigin::Deploy {
                        file: Some("project.yaml".into()),
                    },
                    "created: 3 jobs, 1 trigger, 3 edges",
                ),
            ],
        })),
    });
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Versions of Visit Intake"), "{screen}");
    assert!(
        screen.contains("job job-summarise edited: job Summarise Visit: code +1 -1"),
        "{screen}"
    );
    assert!(
        screen.contains("deploy of project.yaml: created: 3 jobs"),
        "{screen}"
    );
    assert!(screen.contains("alice"), "{screen}");
    // Enter: what the selected version (3) changed.
    press(&mut app, KeyCode::Enter);
    let (tag, request) = app.outbox.drain(..).next().expect("a diff request");
    assert!(
        matches!(
            request,
            Request::WorkflowDiff {
                from: Some(2),
                to: Some(3),
                ..
            }
        ),
        "{request:?}"
    );
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Diff(Box::new(WorkflowDiff {
            workflow: workflow.clone(),
            from: 2,
            to: 3,
            settings: vec![],
            globals: None,
            jobs: vec![ItemDiff {
                key: "job-summarise".into(),
                label: "Summarise Visit".into(),
                change: ItemChange::Changed,
                fields: vec![],
                code: Some(CodeDiff {
                    unified: "--- job-summarise (v2)\n+++ job-summarise (v3)\n@@ -1 +1 @@\n-post('/summaries')\n+// post('/summaries')\n".into(),
                    added: 1,
                    removed: 1,
                }),
            }],
            triggers: vec![],
            edges: vec![],
        }))),
    });
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Visit Intake: version 2 → 3"), "{screen}");
    assert!(screen.contains("+// post('/summaries')"), "{screen}");
    assert!(
        screen.contains("job Summarise Visit (job-summarise): changed"),
        "{screen}"
    );
    press(&mut app, KeyCode::Esc);
    // J on version 2: only the job selected on the graph goes back.
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('J'));
    let confirm = render(&app, 120, 40);
    assert!(
        confirm.contains("Put job Summarise Visit back as it was in version 2?"),
        "{confirm}"
    );
    press(&mut app, KeyCode::Char('y'));
    let sent: Vec<Request> = app.outbox.drain(..).map(|(_, r)| r).collect();
    assert!(
        sent.iter().any(|r| matches!(r, Request::WorkflowRollback { to: 2, job: Some(job), .. } if job == "job-summarise")),
        "{sent:?}"
    );
    // R: the whole workflow.
    press(&mut app, KeyCode::Char('v'));
    let (tag, _) = app.outbox.drain(..).next().unwrap();
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Versions(VersionList {
            workflow,
            current: 3,
            versions: vec![
                version(3, VersionOrigin::Unknown, "x"),
                version(2, VersionOrigin::Unknown, "y"),
            ],
        })),
    });
    press(&mut app, KeyCode::Char('j'));
    press(&mut app, KeyCode::Char('R'));
    press(&mut app, KeyCode::Char('y'));
    let sent: Vec<Request> = app.outbox.drain(..).map(|(_, r)| r).collect();
    assert!(
        sent.iter().any(|r| matches!(
            r,
            Request::WorkflowRollback {
                to: 2,
                job: None,
                ..
            }
        )),
        "{sent:?}"
    );
}

#[test]
fn graph_edits_constants_as_a_table_without_touching_code() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('2'));
    press(&mut app, KeyCode::Enter);
    app.outbox.clear();
    press(&mut app, KeyCode::Char('c'));
    let form = render(&app, 120, 40);
    assert!(form.contains("no constants yet"), "{form}");
    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "BASE_URL");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "https://clinic.example.org");
    press(&mut app, KeyCode::Enter);
    press(&mut app, KeyCode::Char('a'));
    type_text(&mut app, "MAX");
    press(&mut app, KeyCode::Enter);
    type_text(&mut app, "25");
    press(&mut app, KeyCode::Enter);
    let form = render(&app, 120, 40);
    assert!(
        form.contains("BASE_URL") && form.contains("https://clinic.example.org"),
        "{form}"
    );
    press(&mut app, KeyCode::Char('s'));
    let sent: Vec<Request> = app.outbox.drain(..).map(|(_, r)| r).collect();
    let Some(Request::SetWorkflowConstants { constants, .. }) = sent.first() else {
        panic!("{sent:?}");
    };
    assert_eq!(
        serde_json::Value::Object(constants.clone()),
        serde_json::json!({"BASE_URL": "https://clinic.example.org", "MAX": 25})
    );
}

#[test]
fn a_viewer_sees_its_role_and_greyed_keys_and_its_rerun_is_refused_here() {
    let mut app = demo_app(ColorMode::Full);
    app.handle_incoming(Incoming::Connection(Connection::Connected {
        daemon: "boltd".into(),
        user: Some("alice".into()),
        role: Some(bolt_shared::access::Role::Viewer),
    }));
    let screen = render(&app, 160, 40);
    assert!(screen.contains("alice (viewer)"), "{screen}");
    // The rerun hint is greyed (muted), the open hint is not.
    let mut terminal = Terminal::new(TestBackend::new(160, 40)).unwrap();
    terminal.draw(|frame| app.draw(frame)).unwrap();
    let buffer = terminal.backend().buffer().clone();
    let status: String = (0..160)
        .map(|x| buffer[(x, 39)].symbol().to_string())
        .collect();
    let at = |label: &str| {
        status
            .find(label)
            .map(|i| status[..i].chars().count() as u16)
    };
    let rerun = at(" rerun ").expect("a rerun hint");
    let open = at(" open ").expect("an open hint");
    assert_ne!(
        buffer[(rerun + 1, 39)].fg,
        buffer[(open + 1, 39)].fg,
        "rerun greyed, open not: {status}"
    );
    app.outbox.clear();
    press(&mut app, KeyCode::Char('r'));
    assert!(
        !app.outbox
            .iter()
            .any(|(_, r)| matches!(r, Request::Rerun { .. })),
        "{:?}",
        app.outbox
    );
    let refused = render(&app, 160, 40);
    assert!(
        refused.contains("rerun needs the editor role; alice is a viewer"),
        "{refused}"
    );
    // A form the role can't save doesn't open.
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('3'));
    press(&mut app, KeyCode::Char('n'));
    assert!(app.overlays.is_empty());
    assert!(
        render(&app, 160, 40).contains("credential_set needs the admin role"),
        "{}",
        render(&app, 160, 40)
    );
}

#[test]
fn the_audit_log_lists_events_and_filters_by_what_is_typed() {
    let mut app = demo_app(ColorMode::Full);
    press(&mut app, KeyCode::Char('4'));
    assert_eq!(app.screen(), ScreenId::Audit);
    let (tag, request) = app.outbox.pop().unwrap();
    assert!(matches!(request, Request::Audit { .. }), "{request:?}");
    let event = |id: i64, actor: &str, kind: &str, subject: &str| bolt_shared::audit::AuditEvent {
        id,
        at: chrono::Utc::now(),
        actor: actor.into(),
        kind: kind.into(),
        subject: subject.into(),
        metadata: Some(serde_json::json!({ "set": ["password"] })),
    };
    app.handle_incoming(Incoming::Response {
        tag,
        result: Ok(Response::Audit {
            events: vec![
                event(2, "alice", "credential.updated", "dhis2"),
                event(1, "bob", "workflow.deployed", "sync"),
            ],
        }),
    });
    let screen = render(&app, 120, 40);
    assert!(screen.contains("Audit log"), "{screen}");
    assert!(screen.contains("credential.updated"), "{screen}");
    assert!(screen.contains("workflow.deployed"), "{screen}");
    assert!(screen.contains("{\"set\":[\"password\"]}"), "{screen}");
    press(&mut app, KeyCode::Char('/'));
    type_text(&mut app, "actor:alice kind:credential");
    press(&mut app, KeyCode::Enter);
    match app.outbox.pop() {
        Some((_, Request::Audit { filter })) => {
            assert_eq!(filter.actor.as_deref(), Some("alice"));
            assert_eq!(filter.kind.as_deref(), Some("credential"));
        }
        other => panic!("{other:?}"),
    }
}
