//! `bolt status`: is the daemon up, and what is it doing.

use super::{CliError, Global, output};
use bolt_shared::model::DaemonStatus;

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: &StatusArgs) -> Result<(), CliError> {
    let status = global.connect()?.status()?;
    if args.json {
        output::print_json(&status)?;
    } else {
        println!("{}", describe(&status));
    }
    Ok(())
}

pub fn describe(status: &DaemonStatus) -> String {
    let mut text = format!(
        "boltd {} (protocol {}) running as pid {}, up {}\n\
         data dir   {}\n\
         socket     {}\n\
         webhooks   {}\n\
         queue      {} waiting, {} running on {} workers\n\
         projects   {}, workflows {}, work orders {}",
        status.version,
        status.protocol,
        status.pid,
        bolt_shared::timespec::format_duration_ms(status.uptime_secs as i64 * 1000),
        status.data_dir,
        status.socket,
        status
            .http_listen
            .as_deref()
            .map(|a| format!("http://{a}"))
            .unwrap_or_else(|| "off".into()),
        status.queue_depth,
        status.running,
        status.workers,
        status.projects,
        status.workflows,
        status.work_orders,
    );
    if !status.counts.is_empty() {
        let counts: Vec<String> = status
            .counts
            .iter()
            .map(|c| format!("{} {}", c.state, c.count))
            .collect();
        text.push_str(&format!("\nby state   {}", counts.join(", ")));
    }
    text
}
