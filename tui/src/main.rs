mod tui;

// Temporary launcher until the lead wires `bolt` (no subcommand) to the TUI:
//   bolt tui [--socket PATH] [--ascii] [--no-color|--reduced-color] [--measure] [REF]
fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    if args.next().as_deref() != Some("tui") {
        return Ok(());
    }
    let config = match bolt_shared::paths::default_config_path() {
        Some(path) => bolt_shared::Config::load(&path, false)?,
        None => bolt_shared::Config::default(),
    };
    let socket = bolt_shared::paths::socket_in(&bolt_shared::paths::default_data_dir());
    let mut options =
        tui::TuiOptions::from_config(socket, None, &config.tui).map_err(anyhow::Error::msg)?;
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
