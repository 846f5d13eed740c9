//! `bolt bench webhooks`: durable webhook acknowledgements per second and end-to-end runs
//! per second for a one-step job, with a load generator on loopback.
//!
//! It starts its own boltd (this binary's `daemon` subcommand) on a temp data dir, deploys a
//! one-step project, fires N requests from C concurrent keep-alive connections, then waits
//! for every run to finish.

use super::CliError;
use anyhow::{Context, anyhow};
use bolt_shared::client::Client;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct WebhookBenchArgs {
    /// Requests to send.
    #[arg(long, default_value_t = 20_000)]
    pub requests: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Only acknowledge: the workflow's concurrency is 0, so runs stay queued and the
    /// figure shows intake alone, without runs competing for the CPU and the writer.
    #[arg(long)]
    pub queue_only: bool,
}

const PROJECT: &str = "name: bench\nworkflows:\n  echo:\n    name: Echo\n    jobs:\n      echo:\n        name: Echo\n        adaptor: '@openfn/language-common@3.3.4'\n        body: |\n          fn(state => ({ ...state, data: { ...state.data, seen: true } }))\n    triggers:\n      webhook:\n        type: webhook\n        custom_path: bench\n    edges:\n      webhook->echo:\n        source_trigger: webhook\n        target_job: echo\n        condition_type: always\n";

struct Daemon {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_daemon() -> anyhow::Result<(Daemon, Client, String)> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("run/boltd.sock");
    let child = Command::new(std::env::current_exe()?)
        .arg("daemon")
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--socket")
        .arg(&socket)
        .arg("--http")
        .arg("127.0.0.1:0")
        .arg("--log-level")
        .arg("warn")
        .env_remove("BOLT_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("starting boltd")?;
    let daemon = Daemon { child, _dir: dir };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(mut client) = Client::connect(&socket) {
            let addr = client
                .status()?
                .http_listen
                .ok_or_else(|| anyhow!("boltd has no webhook server"))?;
            return Ok((daemon, client, addr));
        }
        if Instant::now() > deadline {
            return Err(anyhow!("boltd did not start"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

pub fn run(args: &WebhookBenchArgs) -> Result<(), CliError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (_daemon, mut client, addr) = start_daemon()?;
    // Queue only: concurrency 0 holds every run in the queue, so only intake is measured.
    let project = if args.queue_only {
        PROJECT.replacen("    name: Echo\n", "    name: Echo\n    concurrency: 0\n", 1)
    } else {
        PROJECT.to_string()
    };
    super::projects::deploy_text(
        &mut client,
        project,
        "bench.yaml".into(),
        Default::default(),
        false,
    )?;
    println!(
        "bolt webhook benchmark ({} build, {} CPUs): {} requests, {} connections, one-step job{}",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        args.requests,
        args.concurrency,
        if args.queue_only {
            " (queue only: no runs execute)"
        } else {
            ""
        }
    );
    let url = format!("http://{addr}/i/bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)?;
    let sent = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let results: Vec<(Vec<Duration>, usize)> = runtime.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(args.concurrency)
            .build()
            .map_err(anyhow::Error::from)?;
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency {
            let (http, url, sent, total) = (http.clone(), url.clone(), sent.clone(), args.requests);
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = 0usize;
                loop {
                    let n = sent.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        break;
                    }
                    let body = format!("{{\"patient_id\": \"P-{n:07}\", \"clinic\": \"bench\"}}");
                    let at = Instant::now();
                    let ok = match http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                    {
                        Ok(response) => {
                            response.status().as_u16() == 200 && response.bytes().await.is_ok()
                        }
                        Err(_) => false,
                    };
                    latencies.push(at.elapsed());
                    if !ok {
                        failures += 1;
                    }
                }
                (latencies, failures)
            }));
        }
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.map_err(anyhow::Error::from)?);
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    let acked_in = started.elapsed();
    let mut latencies: Vec<Duration> = results
        .iter()
        .flat_map(|(l, _)| l.iter().copied())
        .collect();
    let failures: usize = results.iter().map(|(_, f)| f).sum();
    latencies.sort();
    let acked = latencies.len() - failures;
    println!(
        "webhooks acknowledged (durable 200): {:.0} req/s  ({acked} ok, {failures} failed in {:.2} s); latency p50 {:.2} ms, p99 {:.2} ms",
        acked as f64 / acked_in.as_secs_f64(),
        acked_in.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99)
    );
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
            return Err(anyhow!("runs did not finish within 30 minutes").into());
        }
        std::thread::sleep(Duration::from_millis(20));
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
    Ok(())
}
