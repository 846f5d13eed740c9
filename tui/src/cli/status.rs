//! `bolt status`: is the daemon up, and what is it doing.

use super::{CliError, Global, output};
use bolt_shared::model::{DaemonStatus, Latencies, StoreTimings};

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
        crate::say!("{}", describe(&status));
    }
    Ok(())
}

pub fn describe(status: &DaemonStatus) -> String {
    let mut text = format!(
        "boltd {} (protocol {}) {} as pid {}, up {}\n\
         data dir   {}\n\
         socket     {}\n\
         webhooks   {}\n\
         queue      {} waiting, {} running on {} workers\n\
         projects   {}, workflows {}, work orders {}",
        status.version,
        status.protocol,
        if status.stopping {
            "stopping"
        } else {
            "running"
        },
        status.pid,
        // Whole seconds: a daemon up for under one is "0s", not "<1ms".
        match status.uptime_secs {
            0 => "0s".to_string(),
            secs => bolt_shared::timespec::format_duration_ms(secs as i64 * 1000),
        },
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
    if let Some(store) = describe_store(&status.store) {
        text.push_str(&format!("\nstore      {store}"));
    }
    text
}

/// How long durable writes and WAL syncs have taken since boltd started, in one line;
/// `None` before the first write.
pub fn describe_store(store: &StoreTimings) -> Option<String> {
    if store.writes.count == 0 {
        return None;
    }
    Some(format!(
        "writes on disk in {} ({} since start); WAL fdatasync {} ({})",
        describe_latencies(&store.writes),
        store.writes.count,
        describe_latencies(&store.wal_syncs),
        store.wal_syncs.count
    ))
}

fn describe_latencies(latencies: &Latencies) -> String {
    let ms = |us: u64| us as f64 / 1000.0;
    format!(
        "p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms",
        ms(latencies.p50_us),
        ms(latencies.p99_us),
        ms(latencies.max_us)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_timings_read_in_milliseconds_and_stay_out_until_a_write() {
        assert_eq!(describe_store(&StoreTimings::default()), None);
        let store = StoreTimings {
            writes: Latencies {
                count: 1200,
                p50_us: 1530,
                p99_us: 8200,
                max_us: 31_000,
            },
            wal_syncs: Latencies {
                count: 300,
                p50_us: 450,
                p99_us: 2990,
                max_us: 25_900,
            },
        };
        assert_eq!(
            describe_store(&store).as_deref(),
            Some(
                "writes on disk in p50 1.53 ms, p99 8.20 ms, max 31.0 ms (1200 since start); \
                 WAL fdatasync p50 0.45 ms, p99 2.99 ms, max 25.9 ms (300)"
            )
        );
    }
}
