//! Taking the terminal and always giving it back: raw mode and the alternate screen on the
//! way in; on the way out (normal quit, SIGTERM/SIGHUP/SIGINT, panic) raw mode off, the
//! normal screen back and the cursor shown, flushed before the process goes.

use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use std::io::{Write, stdout};
use std::sync::atomic::{AtomicBool, Ordering};

/// The signals that end the TUI; each restores the terminal first.
pub const ENDING_SIGNALS: [i32; 3] = [SIGTERM, SIGHUP, SIGINT];

/// The TUI's terminal: ratatui over the backend that writes basic colours and erases.
pub type Screen = ratatui::Terminal<super::wire::WireBackend<std::io::Stdout>>;

/// Raw mode, alternate screen, a panic hook that restores both; the ratatui terminal.
pub fn take() -> std::io::Result<Screen> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        give_back();
        previous(info);
    }));
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen)?;
    ratatui::Terminal::new(super::wire::WireBackend::new(stdout()))
}

/// Leaves the alternate screen, shows the cursor, turns raw mode off, and flushes. Safe to
/// call more than once; errors are ignored because there is nothing better to do at exit.
pub fn give_back() {
    let mut out = stdout().lock();
    let _ = execute!(out, LeaveAlternateScreen, Show);
    let _ = out.flush();
    let _ = disable_raw_mode();
}

/// Set while another program ($EDITOR, $PAGER) has the terminal: its Ctrl-C reaches bolt
/// too (same process group), and must not end the TUI.
static LENT: AtomicBool = AtomicBool::new(false);

/// Gives the terminal to another program for a while.
pub fn suspend() {
    LENT.store(true, Ordering::SeqCst);
    give_back();
}

/// Takes the terminal back after [`suspend`].
pub fn resume() -> std::io::Result<()> {
    enable_raw_mode()?;
    execute!(stdout(), EnterAlternateScreen, Hide)?;
    LENT.store(false, Ordering::SeqCst);
    Ok(())
}

/// Delivers SIGTERM, SIGHUP and SIGINT to `deliver` on a thread of their own, instead of
/// letting them kill the process with the terminal still raw.
pub fn on_signals(deliver: impl Fn(i32) -> bool + Send + 'static) -> std::io::Result<()> {
    let mut signals = Signals::new(ENDING_SIGNALS)?;
    std::thread::spawn(move || {
        for signal in signals.forever() {
            if signal == SIGINT && LENT.load(Ordering::SeqCst) {
                continue;
            }
            if !deliver(signal) {
                return;
            }
        }
    });
    Ok(())
}

/// The shell convention for "ended by signal N".
pub fn exit_code(signal: i32) -> i32 {
    128 + signal
}
