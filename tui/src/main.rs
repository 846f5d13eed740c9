mod tui;

// Temporary launcher until the lead wires `bolt` (no subcommand) to the TUI:
//   bolt tui [--socket PATH] [--ascii] [--no-color|--reduced-color] [--measure] [REF]
fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("tui") {
        return Ok(());
    }
    let mut options = tui::TuiOptions {
        socket: bolt_shared::paths::socket_in(&bolt_shared::paths::default_data_dir()),
        open_ref: None,
        color: tui::ColorMode::Auto,
        ascii: false,
        keys: Default::default(),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--socket" => options.socket = args.next().map(Into::into).unwrap_or(options.socket),
            "--ascii" => options.ascii = true,
            "--no-color" => options.color = tui::ColorMode::None,
            "--reduced-color" => options.color = tui::ColorMode::Reduced,
            "--measure" => {
                print!("{}", tui::measure_bytes()?);
                return Ok(());
            }
            reference => options.open_ref = Some(reference.to_string()),
        }
    }
    tui::run(options)
}
