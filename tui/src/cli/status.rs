//! `bolt status`: is the daemon up, and what is it doing.

use super::{CliError, Global, output};
use bolt_shared::model::{DaemonStatus, Latencies, StoreHealth, StoreTimings};

#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, args: &StatusArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let status = client.status()?;
    if args.json {
        output::print_json(&status)?;
    } else {
        let text = fit(&describe(&status), super::terminal::width());
        // Escaped first: the daemon's paths are data; only our colour codes are added.
        println!("{}", paint(&bolt_shared::escape::escape_controls(&text)));
        if let Some(user) = &client.user {
            let role = client.role.map_or("no role", |r| r.name());
            crate::say!("you        {user} ({role}; `bolt access` lists what each role may do)");
        }
    }
    Ok(())
}

/// Colours the words of `describe` that answer "is it well?" (when colour is on).
fn paint(text: &str) -> String {
    use super::terminal::Paint;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if let Some(first) = lines.first_mut() {
        *first = first
            .replacen(
                " running as pid",
                &format!(" {} as pid", Paint::Green.apply("running")),
                1,
            )
            .replacen(
                " stopping as pid",
                &format!(" {} as pid", Paint::Yellow.apply("stopping")),
                1,
            );
    }
    for line in lines.iter_mut().skip(1) {
        if line.starts_with("health     REFUSING WRITES") {
            *line = line.replacen("REFUSING WRITES", &Paint::Red.apply("REFUSING WRITES"), 1);
        }
    }
    lines.join("\n")
}

/// Where the values of `describe`'s lines start ("data dir   /var/lib/bolt").
const VALUE_COLUMN: &str = "           ";

/// `describe`'s text wrapped to `width`, continuation lines under the values.
pub fn fit(text: &str, width: Option<usize>) -> String {
    text.lines()
        .map(|line| super::terminal::wrap(line, width, VALUE_COLUMN))
        .collect::<Vec<_>>()
        .join("\n")
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
    if let Some(database) = &status.database {
        text.push_str(&format!("\ndatabase   {database}"));
    }
    if let Some(nodes) = describe_nodes(status, chrono::Utc::now()) {
        text.push_str(&format!("\n{nodes}"));
    }
    if let Some(health) = describe_health(&status.store_health, chrono::Utc::now()) {
        text.push_str(&format!("\n{health}"));
    }
    if let Some(store) = describe_store(&status.store) {
        text.push_str(&format!("\nstore      {store}"));
    }
    if let Some(alerts) = describe_notify(&status.notify) {
        text.push_str(&format!("\n{alerts}"));
    }
    if let Some(delivery) = &status.audit_syslog {
        let state = match (delivery.waiting, &delivery.last_error) {
            (0, _) => "every audit event delivered".to_string(),
            (n, Some(error)) => format!("{n} audit events waiting for the collector ({error})"),
            (n, None) => format!("{n} audit events being delivered"),
        };
        text.push_str(&format!(
            "
audit      syslog {}: {state}",
            delivery.target
        ));
    }
    if status.log_lines_dropped > 0 {
        text.push_str(&format!(
            "\nlog        {} lines could not be written to boltd's stderr (full disk or closed output) and were dropped",
            status.log_lines_dropped
        ));
    }
    text
}

/// The nodes sharing a PostgreSQL store, one line each: which answered, its age, when it
/// last heartbeated and its load. Nothing on SQLite (one node).
pub fn describe_nodes(status: &DaemonStatus, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    status.database.as_ref()?;
    let ago = |at: chrono::DateTime<chrono::Utc>| {
        let ms = (now - at).num_milliseconds().max(0);
        if ms < 1000 {
            "0s".to_string()
        } else {
            bolt_shared::timespec::format_duration_ms(ms / 1000 * 1000)
        }
    };
    let lines: Vec<String> = status
        .nodes
        .iter()
        .map(|node| {
            format!(
                "{}{} on {} pid {}: up {}, heartbeat {} ago, {} running on {} workers",
                node.id,
                if node.this_node { " (this node)" } else { "" },
                node.hostname,
                node.pid,
                ago(node.started_at),
                ago(node.heartbeat_at),
                node.running,
                node.workers
            )
        })
        .collect();
    Some(format!(
        "nodes      {} sharing the database\n           {}",
        lines.len(),
        lines.join("\n           ")
    ))
}

/// The alert channels: one line each with its queue, and the last failure if any.
pub fn describe_notify(notify: &bolt_shared::notify::NotifyStatus) -> Option<String> {
    if notify.channels.is_empty() && notify.degraded_in_memory == 0 {
        return None;
    }
    let mut lines = Vec::new();
    for channel in &notify.channels {
        let mut line = format!(
            "{} {} {} ({}): {} delivered, {} queued",
            channel.channel,
            channel.kind,
            channel.target,
            channel.on.join(", "),
            channel.delivered,
            channel.pending,
        );
        if channel.retrying > 0 {
            line.push_str(&format!(" ({} retrying)", channel.retrying));
        }
        if channel.held > 0 {
            line.push_str(&format!(", {} held for a digest", channel.held));
        }
        if channel.failed > 0 {
            line.push_str(&format!(", {} FAILED (gave up)", channel.failed));
        }
        if let Some(error) = &channel.last_error {
            let when = channel
                .last_error_at
                .map(|at| format!(" at {}", at.format("%Y-%m-%d %H:%M:%S UTC")))
                .unwrap_or_default();
            line.push_str(&format!("\n             last error{when}: {error}"));
        }
        lines.push(line);
    }
    if notify.unsorted > 0 {
        lines.push(format!(
            "{} events not yet sorted to channels",
            notify.unsorted
        ));
    }
    if notify.degraded_in_memory > 0 {
        lines.push(format!(
            "{} boltd_degraded alerts held in memory (the store refuses writes)",
            notify.degraded_in_memory
        ));
    }
    Some(format!("alerts     {}", lines.join("\n           ")))
}

/// The store's health, when there is something to say: refusing writes (since when, why,
/// what to do) or, once writable again, how often it refused them.
pub fn describe_health(health: &StoreHealth, now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    if health.writable {
        return (health.faults > 0).then(|| {
            format!(
                "health     takes writes (refused them {} time{} since start after disk faults; see boltd's log)",
                health.faults,
                if health.faults == 1 { "" } else { "s" }
            )
        });
    }
    let since = match health.refusing_since {
        Some(since) => format!(
            " since {} ({} ago)",
            bolt_shared::time::rule().stamp(since),
            bolt_shared::timespec::format_duration_ms((now - since).num_milliseconds().max(1000))
        ),
        None => String::new(),
    };
    let mut text = format!(
        "health     REFUSING WRITES{since}: webhooks get 503, nothing new is stored\n           why: {}",
        health.reason.as_deref().unwrap_or("unknown")
    );
    if let Some(advice) = &health.advice {
        text.push_str(&format!("\n           what to do: {advice}"));
    }
    Some(text)
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
    fn a_store_refusing_writes_says_since_when_why_and_what_to_do() {
        let now = chrono::Utc::now();
        assert_eq!(describe_health(&StoreHealth::default(), now), None);
        let health = StoreHealth {
            writable: false,
            refusing_since: Some(now - chrono::Duration::seconds(90)),
            reason: Some("a commit failed: No space left on device (os error 28)".into()),
            advice: Some("free space on the filesystem of /data".into()),
            last_probe: Some(now),
            faults: 1,
        };
        let text = describe_health(&health, now).unwrap();
        assert!(
            text.starts_with("health     REFUSING WRITES since "),
            "{text}"
        );
        assert!(text.contains("(1m 30s ago)"), "{text}");
        assert!(
            text.contains("why: a commit failed: No space left on device"),
            "{text}"
        );
        assert!(
            text.contains("what to do: free space on the filesystem of /data"),
            "{text}"
        );
        let healed = StoreHealth {
            faults: 2,
            ..StoreHealth::default()
        };
        assert!(
            describe_health(&healed, now)
                .unwrap()
                .contains("refused them 2 times")
        );
    }

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
