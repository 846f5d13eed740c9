//! `bolt-bench memory`: boltd's resident memory before, at the peak of and after runs that
//! log a great deal (by default four runs of a million 250-character lines at once), so a
//! daemon that keeps what a burst made it allocate shows at once.

use anyhow::anyhow;
use bolt_shared::protocol::{ManualInput, Request, Response};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct MemoryBenchArgs {
    /// Runs started at once.
    #[arg(long, default_value_t = 4)]
    pub runs: usize,
    /// `console.log` calls per run.
    #[arg(long, default_value_t = 1_000_000)]
    pub lines: u64,
    /// Characters per logged line.
    #[arg(long, default_value_t = 250)]
    pub line_chars: usize,
}

fn project(lines: u64, chars: usize) -> String {
    format!(
        "name: bench-memory\nworkflows:\n  chatty:\n    run_timeout_secs: 3600\n    jobs:\n      talk:\n        body: |\n          fn(s => {{ const text = 'x'.repeat({chars}); for (let i = 0; i < {lines}; i++) console.log('line', i, text); return s; }})\n    triggers:\n      webhook: {{type: webhook, custom_path: chatty}}\n    edges:\n      webhook->talk: {{source_trigger: webhook, target_job: talk, condition_type: always}}\n  tiny:\n    jobs:\n      t:\n        body: fn(s => s)\n    triggers:\n      webhook: {{type: webhook, custom_path: tiny}}\n    edges:\n      webhook->t: {{source_trigger: webhook, target_job: t, condition_type: always}}\n"
    )
}

/// (resident now, resident at its highest so far) of a process, in MiB.
fn resident(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn trigger(
    client: &mut bolt_shared::client::Client,
    workflow: &str,
    wait: bool,
) -> anyhow::Result<()> {
    match client.request(Request::Trigger {
        workflow: workflow.into(),
        input: ManualInput::Empty,
        wait,
    })? {
        Response::Triggered(_) => Ok(()),
        other => Err(anyhow!("unexpected answer: {other:?}")),
    }
}

pub fn run(args: &MemoryBenchArgs) -> anyhow::Result<()> {
    let (daemon, mut client) = crate::daemon::start()?;
    bolt_client::cli::projects::deploy_text(
        &mut client,
        project(args.lines, args.line_chars),
        "bench-memory.yaml".into(),
        Default::default(),
        false,
    )?;
    // One small run first, so the engine, the store and the socket are warm.
    trigger(&mut client, "tiny", true)?;
    let pid = daemon.pid();
    let mb = |pid| resident(pid).ok_or_else(|| anyhow!("cannot read /proc/{pid}/status"));
    let (before, _) = mb(pid)?;
    println!(
        "bolt memory benchmark ({} build): {} runs at once, each logging {} lines of {} characters",
        crate::build_kind(),
        args.runs,
        args.lines,
        args.line_chars
    );
    println!("boltd resident before: {before:.1} MiB");
    let started = Instant::now();
    for _ in 0..args.runs {
        trigger(&mut client, "chatty", false)?;
    }
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let status = client.status()?;
        if status.queue_depth == 0 && status.running == 0 {
            break;
        }
    }
    let (right_after, peak) = mb(pid)?;
    println!(
        "runs done in {:.1} s; resident at the peak {peak:.1} MiB, right after {right_after:.1} MiB",
        started.elapsed().as_secs_f64()
    );
    std::thread::sleep(Duration::from_secs(10));
    let (later, _) = mb(pid)?;
    println!("resident 10 s later, idle: {later:.1} MiB");
    Ok(())
}
