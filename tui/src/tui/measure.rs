//! How many bytes go down the wire per action: renders through the real crossterm backend
//! into a `Write` that counts, at 120×40, with realistic rows.

use super::app::App;
use super::fixtures;
use super::keymap::Keymap;
use super::source::{Connection, DataSource, Incoming, Recorder, Tag};
use super::theme::{ColorMode, Theme};
use super::wire::WireBackend;
use bolt_shared::protocol::Response;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A writer that only counts.
#[derive(Clone, Default)]
pub struct CountingWriter(pub Arc<AtomicUsize>);

impl Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One measured step.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    pub action: &'static str,
    pub bytes: usize,
}

/// An app with a loaded history, workflows and a live connection (no daemon involved).
pub fn demo_app(color: ColorMode) -> App {
    let mut app = App::new(
        Theme {
            color,
            ascii: false,
        },
        Keymap::default(),
    );
    app.start(None);
    app.outbox.clear();
    app.handle_incoming(Incoming::Connection(Connection::Connected {
        daemon: "boltd 0.1.0".into(),
        user: None,
        role: None,
    }));
    app.handle_incoming(Incoming::Response {
        tag: Tag::HistoryReload,
        result: Ok(Response::WorkOrders(fixtures::page(100, Some("next")))),
    });
    app.handle_incoming(Incoming::Response {
        tag: Tag::Workflows,
        result: Ok(Response::Workflows {
            workflows: fixtures::workflows(),
        }),
    });
    app.handle_incoming(Incoming::Response {
        tag: Tag::Credentials,
        result: Ok(Response::Credentials {
            credentials: fixtures::credentials(),
        }),
    });
    // The status line's health requests stay unanswered here.
    app.outbox.clear();
    app
}

/// Measures first paint, an idle redraw, a row move, opening a run and going back.
pub fn measure(width: u16, height: u16, color: ColorMode) -> anyhow::Result<Vec<Measurement>> {
    let counter = CountingWriter::default();
    let backend = WireBackend::with_width(counter.clone(), width);
    let mut terminal = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, width, height)),
        },
    )?;
    let mut app = demo_app(color);
    let mut results = Vec::new();
    let mut step = |action: &'static str,
                    app: &mut App,
                    terminal: &mut Terminal<WireBackend<CountingWriter>>|
     -> anyhow::Result<()> {
        let before = counter.0.load(Ordering::Relaxed);
        terminal.draw(|frame| app.draw(frame))?;
        results.push(Measurement {
            action,
            bytes: counter.0.load(Ordering::Relaxed) - before,
        });
        Ok(())
    };
    step("first paint", &mut app, &mut terminal)?;
    step("idle redraw", &mut app, &mut terminal)?;
    app.handle_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    step("row move (j)", &mut app, &mut terminal)?;
    app.handle_key(KeyEvent::new(KeyCode::Char('k'), KeyModifiers::NONE));
    step("row move (k)", &mut app, &mut terminal)?;
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    // Stand in for the daemon: take the requests the app made and answer them.
    let mut source = Recorder::default();
    for (tag, request) in app.outbox.drain(..) {
        source.send(tag, request);
    }
    for (tag, _) in source.sent.drain(..) {
        if let Tag::Show { .. } = tag {
            app.handle_incoming(Incoming::Response {
                tag,
                result: Ok(Response::Shown(Box::new(fixtures::show_failed()))),
            });
        }
    }
    let logs: Vec<Tag> = app.outbox.drain(..).map(|(tag, _)| tag).collect();
    for tag in logs {
        if let Tag::Logs { run_id } = &tag {
            let lines = fixtures::logs(run_id, 6);
            app.handle_incoming(Incoming::Response {
                tag,
                result: Ok(Response::Logs { lines, more: false }),
            });
        }
    }
    step("open run detail", &mut app, &mut terminal)?;
    app.handle_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
    step("step move in detail", &mut app, &mut terminal)?;
    app.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
    step("back to history", &mut app, &mut terminal)?;
    Ok(results)
}

/// The report `bolt bench tui` prints: bytes written per action at 120×40 and 80×24, in
/// full colour, the 16 basic colours (`--color reduced`) and none (`NO_COLOR`).
pub fn measure_bytes() -> anyhow::Result<String> {
    let modes = [
        ("default", ColorMode::Full),
        ("reduced", ColorMode::Reduced),
        ("NO_COLOR", ColorMode::None),
    ];
    let mut report = String::from("bytes written to the terminal per action\n");
    for (width, height) in [(120, 40), (80, 24)] {
        let columns: Vec<Vec<Measurement>> = modes
            .iter()
            .map(|(_, mode)| measure(width, height, *mode))
            .collect::<anyhow::Result<_>>()?;
        report.push_str(&format!("\n  {:<22}", format!("{width}x{height}")));
        for (name, _) in &modes {
            report.push_str(&format!(" {name:>9}"));
        }
        report.push('\n');
        for (index, m) in columns[0].iter().enumerate() {
            report.push_str(&format!("  {:<22}", m.action));
            for column in &columns {
                report.push_str(&format!(" {:>7} B", column[index].bytes));
            }
            report.push('\n');
        }
    }
    Ok(report)
}
