//! `bolt`'s interactive terminal UI: history first, run detail, reprocessing, workflows,
//! credentials. Built for tired people on slow SSH links: draws only on change, every state
//! has a symbol as well as a colour, and the terminal is always restored.

pub mod access;
pub mod action;
pub mod app;
pub mod ascii;
pub mod dialogs;
pub mod external;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod keymap;
#[cfg(any(test, feature = "fixtures"))]
pub mod measure;
pub mod screens;
pub mod source;
pub mod status_line;
pub mod terminal;
#[cfg(any(test, feature = "fixtures"))]
pub mod testing;
pub mod theme;
pub mod widgets;
pub mod wire;

#[cfg(any(test, feature = "fixtures"))]
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
    /// Open the workflow screen of this workflow id, on this job id (`bolt open WF/JOB`).
    pub open_job: Option<(String, Option<String>)>,
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
            open_job: None,
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
    /// SIGTERM, SIGHUP or SIGINT: stop drawing, give the terminal back, exit.
    Signal(i32),
    /// Time passed (every [`HEALTH_EVERY`]): figures that age, like failures in the last
    /// hour, are asked for again.
    Tick,
}

/// Why the event loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Quit,
    Signal(i32),
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

/// Runs the TUI until the user quits or a signal ends it. The terminal is given back on
/// every way out: return, error, signal (then the process exits 128+N) and panic.
pub fn run(options: TuiOptions) -> anyhow::Result<()> {
    let mut app = build_app(&options);
    let (tx, rx) = channel::<UiEvent>();
    let signal_tx = tx.clone();
    terminal::on_signals(move |signal| signal_tx.send(UiEvent::Signal(signal)).is_ok())?;
    let mut source = SocketSource::spawn(options.socket.clone(), tx.clone(), |incoming| {
        UiEvent::Incoming(Box::new(incoming))
    });
    let input = Arc::new(InputControl::default());
    spawn_input(tx, input.clone());
    let mut screen = terminal::take()?;
    app.start(options.open_ref.clone());
    if let Some((workflow_id, job_id)) = options.open_job.clone() {
        app.open_job(workflow_id, job_id);
    }
    // Nothing draws after the loop returns, so the restore below is the last thing written.
    let result = event_loop(&mut screen, &mut app, &rx, &mut source, &input);
    input.stop.store(true, Ordering::Relaxed);
    drop(screen);
    terminal::give_back();
    match result? {
        Ending::Quit => Ok(()),
        Ending::Signal(signal) => std::process::exit(terminal::exit_code(signal)),
    }
}

/// How often the status line's health figures are refreshed without any event.
pub const HEALTH_EVERY: Duration = Duration::from_secs(30);

/// Stops or pauses the input thread (paused while `$EDITOR` or `$PAGER` reads the keys).
#[derive(Default)]
pub struct InputControl {
    stop: AtomicBool,
    pause: AtomicBool,
    /// Set by the input thread once it has stopped reading because of `pause`.
    idle: AtomicBool,
}

impl InputControl {
    /// Pauses the input thread and waits until it no longer reads the terminal.
    fn pause(&self) {
        self.pause.store(true, Ordering::SeqCst);
        while !self.idle.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn resume(&self) {
        self.pause.store(false, Ordering::SeqCst);
    }
}

/// Reads terminal input on its own thread. Polling (not drawing) keeps it stoppable.
fn spawn_input(tx: Sender<UiEvent>, control: Arc<InputControl>) {
    std::thread::spawn(move || {
        let mut last_tick = std::time::Instant::now();
        while !control.stop.load(Ordering::Relaxed) {
            if last_tick.elapsed() >= HEALTH_EVERY {
                last_tick = std::time::Instant::now();
                if tx.send(UiEvent::Tick).is_err() {
                    return;
                }
            }
            if control.pause.load(Ordering::SeqCst) {
                control.idle.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            control.idle.store(false, Ordering::SeqCst);
            match event::poll(Duration::from_millis(100)) {
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
        UiEvent::Signal(_) => false,
        UiEvent::Tick => {
            app.refresh_health();
            // Ages in lists ("3m ago") move on.
            true
        }
    })
}

fn flush_outbox(app: &mut App, source: &mut dyn DataSource) {
    if std::mem::take(&mut app.reconnect_now) {
        source.reconnect_now();
    }
    for (tag, request) in app.outbox.drain(..) {
        source.send(tag, request);
    }
}

fn event_loop(
    terminal: &mut terminal::Screen,
    app: &mut App,
    rx: &Receiver<UiEvent>,
    source: &mut dyn DataSource,
    input: &InputControl,
) -> anyhow::Result<Ending> {
    flush_outbox(app, source);
    terminal.draw(|frame| app.draw(frame))?;
    while let Ok(first) = rx.recv() {
        if let UiEvent::Signal(signal) = first {
            return Ok(Ending::Signal(signal));
        }
        let mut dirty = apply(app, first)?;
        // Take everything already waiting before drawing: a burst of events costs one frame.
        while let Ok(next) = rx.try_recv() {
            if let UiEvent::Signal(signal) = next {
                return Ok(Ending::Signal(signal));
            }
            dirty |= apply(app, next)?;
            if app.quit {
                break;
            }
        }
        flush_outbox(app, source);
        if app.quit {
            return Ok(Ending::Quit);
        }
        if let Some(request) = app.external.take() {
            input.pause();
            let result = external::perform(terminal, &request);
            input.resume();
            app.external_done(request, result);
            flush_outbox(app, source);
            dirty = true;
        }
        if dirty {
            terminal.draw(|frame| app.draw(frame))?;
        }
    }
    Ok(Ending::Quit)
}
