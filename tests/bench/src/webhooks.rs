//! `bolt-bench webhooks`: durable webhook acknowledgements per second and end-to-end runs
//! per second for a one-step job, with a load generator on loopback.
//!
//! It starts its own boltd ([`crate::daemon`]) on a temp data dir, deploys a
//! one-step project, fires N requests from C concurrent keep-alive connections, then waits
//! for every run to finish.

use crate::{load_gen, proc_cpu};
use anyhow::{Context, anyhow};
use bolt_shared::client::Client;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct WebhookBenchArgs {
    /// Requests to send.
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Send at this many requests per second (open loop; latency counts from when each
    /// request was due) instead of each connection sending as soon as it is answered.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Only acknowledge: the workflow's concurrency is 0, so runs stay queued and the
    /// figure shows intake alone, without runs competing for the CPU and the writer.
    #[arg(long)]
    pub queue_only: bool,
    /// First measure the harness floor: the same load, pace and connections as GETs of the
    /// webhook URL, which boltd answers without touching the store. On a small machine the
    /// load generator, the daemon's HTTP stack and the scheduler set this floor; no durable
    /// figure can be better.
    #[arg(long)]
    pub floor: bool,
    /// Make each webhook body about this many bytes: a patient record with free-text notes
    /// (every word is full-text indexed). The default is a small record (~50 bytes).
    #[arg(long)]
    pub body_bytes: Option<usize>,
    /// Start this many `bolt logs --follow` processes on a long-running run before the load,
    /// to see what live followers cost webhook intake.
    #[arg(long, default_value_t = 0)]
    pub followers: usize,
}

/// Words for the notes of a bigger body: clinical-sounding, varied enough that the
/// full-text index gets many distinct terms.
const NOTE_WORDS: &[&str] = &[
    "fever",
    "cough",
    "malaria",
    "negative",
    "positive",
    "referred",
    "clinic",
    "follow-up",
    "dose",
    "paracetamol",
    "amoxicillin",
    "weight",
    "height",
    "district",
    "village",
    "visit",
    "antenatal",
    "vaccination",
    "measles",
    "polio",
    "screening",
    "stable",
    "discharged",
    "admitted",
    "rapid",
    "test",
    "result",
    "pending",
    "mother",
    "child",
    "household",
    "water",
];

/// Distinct bodies made in advance; request n sends variant n % this, with its own id.
pub(crate) const BODY_VARIANTS: usize = 64;

/// `body` (made for request n % BODY_VARIANTS) with request n's patient id.
pub(crate) fn with_patient(body: &str, n: usize) -> String {
    body.replacen(&patient_id(n % BODY_VARIANTS), &patient_id(n), 1)
}

fn patient_id(n: usize) -> String {
    format!("P-{n:07}")
}

/// The body of request `n`: a patient record, padded with notes to about `bytes` bytes.
pub(crate) fn body(n: usize, bytes: Option<usize>) -> String {
    let record = format!(
        "{{\"patient_id\": \"{}\", \"clinic\": \"bench\"",
        patient_id(n)
    );
    let Some(bytes) = bytes else {
        return record + "}";
    };
    let room = bytes.saturating_sub(record.len() + r#", "notes": ""}"#.len());
    let mut notes = String::new();
    let mut pick = n;
    loop {
        let word = format!("{}{}", NOTE_WORDS[pick % NOTE_WORDS.len()], pick % 97);
        let separator = usize::from(!notes.is_empty());
        if notes.len() + separator + word.len() > room {
            break;
        }
        if separator == 1 {
            notes.push(' ');
        }
        notes.push_str(&word);
        pick = pick.wrapping_mul(31).wrapping_add(7);
    }
    format!("{record}, \"notes\": \"{notes}\"}}")
}

/// The store's writer thread, as the kernel names it (15 characters at most).
const WRITER_THREAD: &str = "bolt-store-writ";

/// The one-step job every benchmark webhook runs (`bolt-bench engine` runs it too).
pub const BENCH_JOB: &str = "fn(state => ({ ...state, data: { ...state.data, seen: true } }))";

/// The benchmark's project: one webhook (`/i/bench`) into one `BENCH_JOB` step;
/// `concurrency: 0` holds every run in the queue.
pub(crate) fn project(queue_only: bool) -> String {
    let concurrency = if queue_only {
        "    concurrency: 0\n"
    } else {
        ""
    };
    format!(
        "name: bench\nworkflows:\n  echo:\n    name: Echo\n{concurrency}    jobs:\n      echo:\n        name: Echo\n        adaptor: '@openfn/language-common@3.3.4'\n        body: |\n          {BENCH_JOB}\n    triggers:\n      webhook:\n        type: webhook\n        custom_path: bench\n    edges:\n      webhook->echo:\n        source_trigger: webhook\n        target_job: echo\n        condition_type: always\n"
    )
}

/// A workflow whose one run logs a line every 200 ms for ten minutes: what the followers
/// follow.
const FOLLOWED_PROJECT: &str = "name: bench-follow\nworkflows:\n  ticker:\n    name: Ticker\n    run_timeout_secs: 900\n    jobs:\n      tick:\n        name: Tick\n        body: |\n          fn(async state => { for (let i = 0; i < 3000; i++) { console.log('tick', i); await new Promise(r => setTimeout(r, 200)); } return state; })\n    triggers:\n      webhook:\n        type: webhook\n        custom_path: ticker\n    edges:\n      webhook->tick:\n        source_trigger: webhook\n        target_job: tick\n        condition_type: always\n";

/// `bolt logs --follow` processes, killed when dropped.
struct Followers {
    children: Vec<Child>,
}

impl Drop for Followers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
        }
        for child in &mut self.children {
            let _ = child.wait();
        }
    }
}

/// Deploys the ticker workflow and starts its run; returns the run's id.
fn start_followed_run(client: &mut Client) -> anyhow::Result<String> {
    bolt_client::cli::projects::deploy_text(
        client,
        FOLLOWED_PROJECT.to_string(),
        "bench-follow.yaml".into(),
        Default::default(),
        false,
    )?;
    match client.request(bolt_shared::protocol::Request::Trigger {
        workflow: "ticker".into(),
        input: bolt_shared::protocol::ManualInput::Empty,
        wait: false,
    })? {
        bolt_shared::protocol::Response::Triggered(t) => Ok(t.run_id),
        other => Err(anyhow!("unexpected answer: {other:?}")),
    }
}

/// The benchmark's project (queue only: runs stay queued, so only intake is measured).
pub(crate) fn deploy_bench_project(client: &mut Client, queue_only: bool) -> anyhow::Result<()> {
    bolt_client::cli::projects::deploy_text(
        client,
        project(queue_only),
        "bench.yaml".into(),
        Default::default(),
        false,
    )?;
    Ok(())
}

/// Starts `count` followers of the run; returns once they have all connected.
fn start_followers(
    socket: &std::path::Path,
    run_id: &str,
    count: usize,
) -> anyhow::Result<Followers> {
    let mut followers = Followers {
        children: Vec::with_capacity(count),
    };
    // Each follower has connected once it has printed its first line (it subscribes before
    // it reads the lines so far); a thread per follower then drains what it prints.
    let (ready, connected) = std::sync::mpsc::channel();
    for _ in 0..count {
        let mut child = Command::new(crate::sibling_binary("bolt")?)
            .arg("--socket")
            .arg(socket)
            .arg("logs")
            .arg("--follow")
            .arg(run_id)
            .env_remove("BOLT_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting a follower")?;
        if let Some(stdout) = child.stdout.take() {
            let ready = ready.clone();
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    use std::io::BufRead;
                    let mut lines = std::io::BufReader::new(stdout).lines();
                    if lines.next().is_some() {
                        let _ = ready.send(());
                    }
                    for _ in lines {}
                })
                .context("starting a follower's reader")?;
        }
        followers.children.push(child);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    for _ in 0..count {
        let left = deadline.saturating_duration_since(Instant::now());
        connected
            .recv_timeout(left)
            .map_err(|_| anyhow!("the followers did not all start within 60 s"))?;
    }
    Ok(followers)
}

/// One round of load: how many requests were answered as expected, in how long.
pub(crate) struct Round {
    pub answered: usize,
    pub failures: usize,
    pub took: Duration,
    /// Sorted.
    pub latencies: Vec<Duration>,
}

impl Round {
    pub fn of(outcome: load_gen::Outcome, took: Duration) -> Round {
        let mut latencies = outcome.latencies;
        latencies.sort();
        Round {
            answered: latencies.len() - outcome.failures,
            failures: outcome.failures,
            took,
            latencies,
        }
    }

    /// `what: N req/s  (n ok, f failed in s); latency p50 …, p99 …`
    pub fn describe(&self, what: &str) -> String {
        format!(
            "{what}: {:.0} req/s  ({} ok, {} failed in {:.2} s); latency p50 {:.2} ms, p99 {:.2} ms",
            self.answered as f64 / self.took.as_secs_f64(),
            self.answered,
            self.failures,
            self.took.as_secs_f64(),
            percentile(&self.latencies, 0.50),
            percentile(&self.latencies, 0.99)
        )
    }
}

pub(crate) fn percentile(samples: &[Duration], p: f64) -> f64 {
    crate::percentile::Samples::of(samples).percentile_ms(p * 100.0)
}

pub fn run(args: &WebhookBenchArgs) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    println!(
        "bolt webhook benchmark ({} build, {} CPUs): {} requests of {} bytes, {} connections{}, one-step job{}{}",
        crate::build_kind(),
        crate::cpus(),
        args.requests,
        body(0, args.body_bytes).len(),
        args.concurrency,
        match args.rate {
            Some(rate) => format!(" at {rate:.0} req/s (open loop)"),
            None => " (closed loop)".into(),
        },
        if args.queue_only {
            " (queue only: no runs execute)"
        } else {
            ""
        },
        if args.followers > 0 {
            format!(
                "; first on a boltd with a running run, then on another with {} `bolt logs --follow` processes following that run",
                args.followers
            )
        } else {
            String::new()
        }
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let pace = match args.rate {
        Some(rate) => load_gen::Pace::Rate(rate),
        None => load_gen::Pace::ClosedLoop,
    };
    let fire = |addr: &str, request| {
        let started = Instant::now();
        let outcome = runtime.block_on(load_gen::run(
            addr,
            "/i/bench",
            args.concurrency,
            args.requests,
            pace,
            200,
            request,
        ))?;
        Ok::<_, anyhow::Error>(Round::of(outcome, started.elapsed()))
    };
    // Made in advance: building a 16 KB body per request would take the load generator's
    // CPU from the daemon it measures.
    let post = load_gen::Request::Post({
        let bodies: Vec<String> = (0..BODY_VARIANTS)
            .map(|n| body(n, args.body_bytes))
            .collect();
        std::sync::Arc::new(move |n| with_patient(&bodies[n % BODY_VARIANTS], n))
    });
    // With followers: the same load first on a fresh boltd with the followed run going on
    // but nobody following it, so the two figures differ by the followers alone (not by
    // the work orders the first load left behind).
    let alone_p99 = if args.followers > 0 {
        let (reference, mut client) = crate::daemon::start()?;
        deploy_bench_project(&mut client, args.queue_only)?;
        start_followed_run(&mut client)?;
        let alone = fire(&reference.http, post.clone())?;
        println!(
            "{}",
            alone.describe("webhooks acknowledged, no followers (the followed run going on)")
        );
        Some(percentile(&alone.latencies, 0.99))
    } else {
        None
    };
    let (daemon, mut client) = crate::daemon::start()?;
    let addr = daemon.http.clone();
    deploy_bench_project(&mut client, args.queue_only)?;
    let followed_run = if args.followers > 0 {
        Some(start_followed_run(&mut client)?)
    } else {
        None
    };
    let followers = match &followed_run {
        Some(run_id) => Some(start_followers(&daemon.socket, run_id, args.followers)?),
        None => None,
    };
    if args.floor {
        let floor = fire(&addr, load_gen::Request::Get)?;
        println!(
            "{}",
            floor.describe("harness floor (GET of the webhook URL, no store)")
        );
    }
    let pid = daemon.pid();
    let cpu_before = proc_cpu::process(pid);
    let writer_before = proc_cpu::thread(pid, WRITER_THREAD);
    let started = Instant::now();
    let round = fire(&addr, post)?;
    let cpu_after = proc_cpu::process(pid);
    let writer_after = proc_cpu::thread(pid, WRITER_THREAD);
    let label = match &followers {
        Some(f) => format!(
            "webhooks acknowledged with {} followers (durable 200)",
            f.children.len()
        ),
        None => "webhooks acknowledged (durable 200)".to_string(),
    };
    println!("{}", round.describe(&label));
    if let Some(alone) = alone_p99 {
        let with = percentile(&round.latencies, 0.99);
        println!(
            "p99 with followers / without: {:.2} ms / {alone:.2} ms = {:.2}×",
            with,
            with / alone.max(0.001)
        );
    }
    let acked = round.answered;
    let per_request = |before: Option<Duration>, after: Option<Duration>| {
        before
            .zip(after)
            .map(|(b, a)| {
                format!(
                    "{:.0} µs",
                    (a - b).as_secs_f64() * 1e6 / acked.max(1) as f64
                )
            })
            .unwrap_or_else(|| "n/a".into())
    };
    println!(
        "daemon CPU per acknowledged request: {} (of which the store writer thread {})",
        per_request(cpu_before, cpu_after),
        per_request(writer_before, writer_after)
    );
    print_store_timings(&mut client)?;
    if let Some(run_id) = followed_run {
        drop(followers);
        let _ = client.request(bolt_shared::protocol::Request::Cancel { reference: run_id });
    }
    if args.queue_only {
        return Ok(());
    }
    // End to end: until every run is final.
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let status = client.status()?;
        if status.queue_depth == 0 && status.running == 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err(anyhow!("runs did not finish within 30 minutes"));
        }
        // Not too often: each status call counts work orders, which costs the daemon CPU.
        std::thread::sleep(Duration::from_millis(100));
    }
    let done_in = started.elapsed();
    let status = client.status()?;
    let success = status
        .counts
        .iter()
        .find(|c| c.state == bolt_shared::model::WorkOrderState::Success)
        .map(|c| c.count)
        .unwrap_or(0);
    println!(
        "runs completed end to end: {:.0} runs/s  ({success} succeeded of {} work orders in {:.2} s from the first request)",
        status.work_orders as f64 / done_in.as_secs_f64(),
        status.work_orders,
        done_in.as_secs_f64()
    );
    let cpu_done = proc_cpu::process(pid);
    if let Some((before, after)) = cpu_before.zip(cpu_done) {
        println!(
            "daemon CPU per completed run (intake + run + storage): {:.0} µs",
            (after - before).as_secs_f64() * 1e6 / status.work_orders.max(1) as f64
        );
    }
    print_store_timings(&mut client)?;
    Ok(())
}

/// The daemon's own account of its durable writes so far (deploying the project included).
fn print_store_timings(client: &mut Client) -> anyhow::Result<()> {
    if let Some(store) = bolt_client::cli::status::describe_store(&client.status()?.store) {
        println!("boltd's store so far: {store}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::body;

    #[test]
    fn each_request_gets_its_own_patient_id() {
        let template = body(3, Some(2_000));
        let sent = super::with_patient(&template, 64 * 5 + 3);
        let value: serde_json::Value = serde_json::from_str(&sent).expect(&sent);
        assert_eq!(value["patient_id"], "P-0000323");
        assert_eq!(sent.len(), template.len());
    }

    #[test]
    fn bodies_are_json_of_about_the_size_asked_for() {
        for bytes in [None, Some(1_000), Some(20_000)] {
            for n in [0, 1, 12_345] {
                let text = body(n, bytes);
                let value: serde_json::Value = serde_json::from_str(&text).expect(&text);
                assert_eq!(value["patient_id"], format!("P-{n:07}"));
                if let Some(bytes) = bytes {
                    assert!(
                        text.len() <= bytes && text.len() + 32 >= bytes,
                        "{}",
                        text.len()
                    );
                }
            }
        }
    }
}
