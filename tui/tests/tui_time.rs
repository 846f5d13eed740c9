//! The TUI follows the one time rule: its time columns name the zone in their header and
//! show times in it (local, or UTC when asked).

#![allow(clippy::unwrap_used)]

use bolt_client::tui;

use tui::measure::demo_app;
use tui::testing::render;
use tui::theme::ColorMode;

#[test]
fn the_history_header_names_the_zone_of_its_times() {
    // What `bolt --utc` (or `[tui] time = "utc"`) sets before the TUI opens.
    bolt_shared::time::init(true, None).unwrap();
    let app = demo_app(ColorMode::Full);
    let screen = render(&app, 120, 40);
    assert!(screen.contains("RECEIVED UTC"), "{screen}");
}
