//! `bolt-bench adaptors`: how long a cold install of an npm adaptor takes, from the
//! registry: each run is a new `bolt adaptor add` process on a fresh data dir (no metadata,
//! tarballs or connections kept from an earlier run), timed from start to exit.

use anyhow::{Context, anyhow};
use bolt_client::cli::install_progress::human_bytes;
use std::process::Command;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct AdaptorBenchArgs {
    /// Adaptors to install (default: openmrs@5.5.0 and fhir@5.0.15).
    pub adaptors: Vec<String>,
    /// Cold installs of each.
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    /// The registry (default as for `bolt adaptor add`).
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
}

struct Run {
    seconds: f64,
    packages: u64,
    bytes: u64,
}

pub fn run(args: &AdaptorBenchArgs) -> anyhow::Result<()> {
    let adaptors = if args.adaptors.is_empty() {
        vec!["openmrs@5.5.0".to_string(), "fhir@5.0.15".to_string()]
    } else {
        args.adaptors.clone()
    };
    let runs = args.runs.max(1);
    let registry = args
        .registry
        .clone()
        .unwrap_or_else(|| bolt_shared::Config::default().adaptor_registry());
    println!(
        "bolt adaptor install benchmark ({} build, {} CPUs): {runs} cold install{} of each from {registry} (new process, fresh data dir)",
        crate::build_kind(),
        crate::cpus(),
        if runs == 1 { "" } else { "s" },
    );
    for adaptor in &adaptors {
        let mut results = Vec::new();
        for _ in 0..runs {
            results.push(install_once(adaptor, &registry)?);
        }
        let mut times: Vec<f64> = results.iter().map(|r| r.seconds).collect();
        times.sort_by(f64::total_cmp);
        let last = results.last().ok_or_else(|| anyhow!("no run"))?;
        println!(
            "  {adaptor:<22} {:>3} package{}  {:>8} downloaded   median {:.2} s   (min {:.2} s, max {:.2} s)",
            last.packages,
            if last.packages == 1 { " " } else { "s" },
            human_bytes(last.bytes),
            times[times.len() / 2],
            times[0],
            times[times.len() - 1],
        );
    }
    Ok(())
}

fn install_once(adaptor: &str, registry: &str) -> anyhow::Result<Run> {
    let data = tempfile::tempdir().context("creating a temp data dir")?;
    let exe = crate::sibling_binary("bolt")?;
    let started = Instant::now();
    let out = Command::new(exe)
        .arg("--data-dir")
        .arg(data.path())
        .arg("--socket")
        .arg(data.path().join("run/none.sock"))
        .args(["adaptor", "add", adaptor, "--json", "--registry", registry])
        .env_remove("BOLT_CONFIG")
        .output()
        .context("running bolt adaptor add")?;
    let seconds = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(anyhow!(
            "installing {adaptor} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // The JSON progress lines on stderr end with the `installed` event.
    let (mut packages, mut bytes) = (0, 0);
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(line)
            && event["event"] == "installed"
        {
            packages = event["packages"].as_u64().unwrap_or(0);
            bytes = event["bytes"].as_u64().unwrap_or(0);
        }
    }
    Ok(Run {
        seconds,
        packages,
        bytes,
    })
}
