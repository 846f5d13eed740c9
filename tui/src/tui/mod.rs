//! `bolt`'s interactive terminal UI: history first, run detail, reprocessing, workflows,
//! credentials. Built for tired people on slow SSH links: draws only on change, every state
//! has a symbol as well as a colour, and the terminal is always restored.

pub mod access;
pub mod action;
pub mod app;
pub mod fixtures;
pub mod keymap;
pub mod measure;
pub mod screens;
pub mod source;
pub mod theme;
pub mod widgets;

#[allow(unused_imports)]
pub use measure::measure_bytes;
pub use theme::ColorMode;

use app::App;
use keymap::Keymap;
use ratatui::crossterm::event::{self, Event as TermEvent};
use source::{DataSource, Incoming, SocketSource};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;
use theme::Theme;

pub struct TuiOptions {
    pub socket: PathBuf,
    /// Open the run detail of this reference (work order, run or step) directly.
    pub open_ref: Option<String>,
    pub color: ColorMode,
    /// Plain ASCII symbols for terminals without Unicode.
    pub ascii: bool,
    /// `[tui.keys]` from bolt.toml: `command = "key[,key]"` or `"screen.command" = "key"`.
    pub keys: BTreeMap<String, String>,
}

impl TuiOptions {
    /// Options from the `[tui]` section of bolt.toml (color, ascii, keys).
    pub fn from_config(
        socket: PathBuf,
        open_ref: Option<String>,
        config: &bolt_shared::config::TuiConfig,
    ) -> Result<TuiOptions, String> {
        let color = match &config.color {
            Some(text) => text.parse()?,
            None => ColorMode::Auto,
        };
        Ok(TuiOptions {
            socket,
            open_ref,
            color,
            ascii: config.ascii,
            keys: config.keys.clone(),
        })
    }
}

/// Everything the UI loop reacts to, on one channel.
pub enum UiEvent {
    Terminal(TermEvent),
    Incoming(Box<Incoming>),
    InputFailed(String),
}

/// Builds the app the way `run` does (keymap overrides reported in the banner).
pub fn build_app(options: &TuiOptions) -> App {
    let theme = Theme::new(options.color, options.ascii);
    let (keymap, warnings) = Keymap::with_overrides(&options.keys);
    let mut app = App::new(theme, keymap);
    if !warnings.is_empty() {
        app.run(action::Action::error(warnings.join("; ")));
    }
    app
}

/// Runs the TUI until the user quits. Restores the terminal on return and on panic.
pub fn run(options: TuiOptions) -> anyhow::Result<()> {
    let mut app = build_app(&options);
    let (tx, rx) = channel::<UiEvent>();
    let mut source = SocketSource::spawn(options.socket.clone(), tx.clone(), |incoming| {
        UiEvent::Incoming(Box::new(incoming))
    });
    let stop = Arc::new(AtomicBool::new(false));
    spawn_input(tx, stop.clone());
    let mut terminal = ratatui::init();
    app.start(options.open_ref.clone());
    let result = event_loop(&mut terminal, &mut app, &rx, &mut source);
    stop.store(true, Ordering::Relaxed);
    ratatui::restore();
    result
}

/// Reads terminal input on its own thread. Polling (not drawing) keeps it stoppable.
fn spawn_input(tx: Sender<UiEvent>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match event::poll(Duration::from_millis(200)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(UiEvent::Terminal(ev)).is_err() {
                            return;
                        }
                    }
                    Err(err) => {
                        let _ = tx.send(UiEvent::InputFailed(err.to_string()));
                        return;
                    }
                },
                Ok(false) => {}
                Err(err) => {
                    let _ = tx.send(UiEvent::InputFailed(err.to_string()));
                    return;
                }
            }
        }
    });
}

/// Applies one event; returns whether a redraw is needed.
pub fn apply(app: &mut App, event: UiEvent) -> anyhow::Result<bool> {
    Ok(match event {
        UiEvent::Terminal(TermEvent::Key(key)) => app.handle_key(key),
        UiEvent::Terminal(TermEvent::Resize(..)) => true,
        UiEvent::Terminal(_) => false,
        UiEvent::Incoming(incoming) => app.handle_incoming(*incoming),
        UiEvent::InputFailed(message) => anyhow::bail!("cannot read the terminal: {message}"),
    })
}

fn flush_outbox(app: &mut App, source: &mut dyn DataSource) {
    for (tag, request) in app.outbox.drain(..) {
        source.send(tag, request);
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: &Receiver<UiEvent>,
    source: &mut dyn DataSource,
) -> anyhow::Result<()> {
    flush_outbox(app, source);
    terminal.draw(|frame| app.draw(frame))?;
    while let Ok(first) = rx.recv() {
        let mut dirty = apply(app, first)?;
        // Take everything already waiting before drawing: a burst of events costs one frame.
        while let Ok(next) = rx.try_recv() {
            dirty |= apply(app, next)?;
            if app.quit {
                break;
            }
        }
        flush_outbox(app, source);
        if app.quit {
            return Ok(());
        }
        if dirty {
            terminal.draw(|frame| app.draw(frame))?;
        }
    }
    Ok(())
}
