//! The TUI follows the one time rule: its time columns name the zone in their header and
//! show times in it (local, or UTC when asked).

#![allow(clippy::unwrap_used)]

use bolt_client::tui;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui::measure::demo_app;
use tui::theme::ColorMode;

fn render(app: &tui::app::App, width: u16, height: u16) -> String {
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

#[test]
fn the_history_header_names_the_zone_of_its_times() {
    // What `bolt --utc` (or `[tui] time = "utc"`) sets before the TUI opens.
    bolt_shared::time::init(true, None).unwrap();
    let app = demo_app(ColorMode::Full);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("RECEIVED UTC"), "{screen}");
}
