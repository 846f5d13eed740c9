//! `bolt-bench engine`: figures for the engine (printed, never asserted).
//!
//! - in-process overhead of a trivial one-step job (compile + fresh QuickJS context + run), on
//!   the calling thread (`run_plan_blocking`, as `bolt execute` runs) and the way boltd runs
//!   it (`engine::execute` awaited from a tokio runtime, run after run, on pooled workers),
//! - the engine's ceiling: as many runs per second as `engine::execute` completes with every
//!   core busy and nothing else to do (no HTTP, no store), and the CPU each run takes,
//! - cold `bolt execute` of a trivial job (wall time; max RSS from getrusage of the children),
//! - a 10,000-record map/filter/reduce job, and the same job under Node's `@openfn/runtime`
//!   when `--node-dir <dir>` (or `BOLT_BENCH_NODE_DIR`) points at a directory whose
//!   `node_modules` holds it,
//! - with `--adaptors-data-dir <dir>` (a data dir where `@openfn/language-openmrs@5.5.0`, or
//!   the adaptor `--npm-adaptor` names, is installed): a one-step job on that npm adaptor
//!   against the same job on the built-in common, per step in boltd's path, and cold
//!   `bolt execute` with it (the first run with no compiled bytecode on disk yet, then with
//!   it).

use anyhow::{Context, Result, bail};
use bolt_daemon::engine::adaptors::choice::AdaptorSources;
use bolt_daemon::engine::adaptors::installed::InstalledAdaptors;
use bolt_daemon::engine::adaptors::spec::AdaptorSpec;
use bolt_daemon::engine::runtime::logs::LogRecord;
use bolt_daemon::engine::runtime::prepare::CompileMode;
use bolt_daemon::engine::runtime::{EventSink, RunOptions, run_plan_blocking};
use bolt_daemon::engine::{CancelToken, Limits, Plan, PlanStep};
use bolt_shared::model::ExitReason;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const BIG_JOB: &str = "export default [state => {\n  const rows = state.data.records\n    .map(r => ({ ...r, total: r.price * r.qty }))\n    .filter(r => r.total % 3 !== 0);\n  const sum = rows.reduce((acc, r) => acc + r.total, 0);\n  return { data: { count: rows.length, sum } };\n}];\n";

pub fn bench_engine_with(
    node_dir: Option<&Path>,
    adaptors_data_dir: Option<&Path>,
    npm_adaptor_only: bool,
    npm_adaptor: &str,
) -> Result<()> {
    println!("bolt engine benchmark ({} build)", crate::build_kind());
    if !npm_adaptor_only {
        trivial_in_process()?;
        engine_ceiling()?;
        cold_execute()?;
        big_job(node_dir)?;
    }
    match adaptors_data_dir {
        Some(dir) => npm_adaptor_figures(dir, npm_adaptor)?,
        None => println!(
            "npm adaptor figures: skipped (pass --adaptors-data-dir <data dir with {npm_adaptor} installed>)"
        ),
    }
    Ok(())
}

/// Per-step cost of a one-step job on an installed npm adaptor (by default openmrs 5.5.0:
/// its ES module on the built-in common) against the same job on the built-in common, in
/// boltd's path; and cold `bolt execute` with it.
fn npm_adaptor_figures(data_dir: &Path, adaptor: &str) -> Result<()> {
    let data_dir = &std::fs::canonicalize(data_dir)
        .with_context(|| format!("no data dir at {}", data_dir.display()))?;
    let spec = AdaptorSpec::parse(adaptor)?;
    let version = spec
        .exact_version()
        .context("name the npm adaptor with its exact version (NAME@VERSION)")?
        .to_string();
    let installed = InstalledAdaptors::in_data_dir(data_dir);
    if installed.find(&spec.name, &version).is_none() {
        bail!(
            "{adaptor} is not installed in {}: install it with `bolt --data-dir {0} adaptor add {adaptor}`",
            data_dir.display()
        );
    }
    let sources = AdaptorSources::installed(installed);
    let event_loop = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let input = json!({"data": {}, "configuration": {}});
    let mut medians = Vec::new();
    // The third case loads what openmrs 5.5.0 imports from the built-in common, without
    // openmrs: compared with it, the npm package's own cost.
    let same_modules = "fn(s => s);\nconst used = [alterState, arrayToString, as, combine, cursor, dataPath, dataValue, dateFns, each, field, fields, fnIf, lastReferenceValue, log, map, merge, sourceValue, util, composeNextState];\n";
    let npm_label = format!("npm {}@{version}", spec.name);
    for (label, adaptor, job) in [
        ("built-in common", "common", "fn(s => s);"),
        (npm_label.as_str(), adaptor, "fn(s => s);"),
        (
            "built-in common, importing what openmrs 5.5.0 imports from it",
            "common",
            same_modules,
        ),
    ] {
        let plan = one_step(job, Some(adaptor));
        let samples = event_loop.block_on(async {
            let mut samples = Vec::new();
            for i in 0..520 {
                let started = Instant::now();
                tokio::spawn({
                    let (plan, input, sources) = (plan.clone(), input.clone(), sources.clone());
                    async move { execute_with(&plan, &input, sources).await }
                })
                .await??;
                if i >= 20 {
                    samples.push(started.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Ok::<_, anyhow::Error>(samples)
        })?;
        medians.push(median(&samples));
        println!(
            "daemon path, one-step `fn(s => s)` on {label}, runs 2 ms apart: {}",
            summary(samples)
        );
    }
    let (common, npm) = (medians[0].as_secs_f64(), medians[1].as_secs_f64());
    println!(
        "npm adaptor per step: median {:.3} ms, {:.2}x the built-in common's, {:+.3} ms (targets: within 2x, <= 1 ms)",
        npm * 1000.0,
        npm / common,
        (npm - common) * 1000.0
    );
    cold_execute_npm(data_dir, &spec.name, &version)
}

/// Cold `bolt execute` of a job on the npm adaptor: once with no compiled bytecode on disk,
/// then as usual (the install's `.bolt-bytecode` filled by the first run).
fn cold_execute_npm(data_dir: &Path, name: &str, version: &str) -> Result<()> {
    let exe = crate::sibling_binary("bolt")?;
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("job.js"),
        "fn(s => ({ ...s, ok: true }));\n",
    )?;
    let adaptor = format!("{name}@{version}");
    let run = || -> Result<Duration> {
        let started = Instant::now();
        let output = Command::new(&exe)
            .args(["execute", "job.js", "-a", &adaptor, "-o", "out.json"])
            .arg("--data-dir")
            .arg(data_dir)
            .current_dir(dir.path())
            .output()
            .context("running bolt execute")?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            bail!(
                "bolt execute failed: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
        Ok(elapsed)
    };
    let root = InstalledAdaptors::in_data_dir(data_dir).install_root(name, version);
    let _ = std::fs::remove_dir_all(root.join(".bolt-bytecode"));
    let first = run()?;
    let samples = (0..20).map(|_| run()).collect::<Result<Vec<_>>>()?;
    println!(
        "cold `bolt execute job.js -a {adaptor}`: first (no bytecode on disk yet) {:.1} ms, then wall {} (target <= 30 ms)",
        first.as_secs_f64() * 1000.0,
        summary(samples)
    );
    Ok(())
}

/// One run the way boltd makes it, with npm adaptors from `sources`.
async fn execute_with(plan: &Plan, input: &Value, sources: AdaptorSources) -> Result<()> {
    let (events, mut incoming) = tokio::sync::mpsc::unbounded_channel();
    let outcome = bolt_daemon::engine::execute(
        plan.clone(),
        input.clone(),
        Limits::default(),
        sources,
        events,
        CancelToken::new(),
    )
    .await;
    while incoming.try_recv().is_ok() {}
    if outcome.exit_reason != ExitReason::Success {
        bail!("benchmark job failed: {outcome:?}");
    }
    Ok(())
}

fn quiet_sink() -> EventSink {
    EventSink::new(Arc::new(|_: LogRecord| {}), Arc::new(|_| {}))
}

fn one_step(expression: &str, adaptor: Option<&str>) -> Plan {
    Plan {
        steps: vec![PlanStep {
            id: "job-1".into(),
            expression: Some(expression.into()),
            adaptor: adaptor.map(str::to_string),
            ..PlanStep::default()
        }],
        start: None,
        globals: None,
    }
}

fn run_once(plan: &Plan, input: &Value, mode: CompileMode) -> Result<Duration> {
    let options = RunOptions {
        compile: mode,
        ..RunOptions::default()
    };
    let started = Instant::now();
    let result = run_plan_blocking(plan, input.clone(), &options, &quiet_sink());
    let elapsed = started.elapsed();
    if result.outcome.exit_reason != ExitReason::Success {
        bail!("benchmark job failed: {:?}", result.outcome);
    }
    Ok(elapsed)
}

fn median(samples: &[Duration]) -> Duration {
    Duration::from_secs_f64(crate::percentile::Samples::of(samples).percentile_ms(50.0) / 1000.0)
}

fn summary(samples: Vec<Duration>) -> String {
    let samples = crate::percentile::Samples::of(&samples);
    format!(
        "mean {:.3} ms, median {:.3} ms, p95 {:.3} ms (n={})",
        samples.mean_ms(),
        samples.percentile_ms(50.0),
        samples.percentile_ms(95.0),
        samples.len()
    )
}

fn trivial_in_process() -> Result<()> {
    let input = json!({"data": {}, "configuration": {}});
    for (label, plan, mode) in [
        (
            "plain module, no adaptor",
            one_step("export default [s => s];", None),
            CompileMode::AsIs,
        ),
        (
            "fn(s => s) with language-common, compiled",
            one_step("fn(s => s);", Some("common")),
            CompileMode::Compile,
        ),
    ] {
        run_once(&plan, &input, mode)?;
        let samples = (0..200)
            .map(|_| run_once(&plan, &input, mode))
            .collect::<Result<Vec<_>>>()?;
        println!("in-process trivial job ({label}): {}", summary(samples));
    }
    daemon_path(&input)
}

/// boltd's path: `engine::execute` awaited from a multi-threaded tokio runtime, run after
/// run, with the event channel drained as the runner does.
fn daemon_path(input: &Value) -> Result<()> {
    let event_loop = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cases = [
        ("plain module, no adaptor", None),
        ("fn(s => s) with language-common", Some("common")),
    ];
    // Back to back, and with 2 ms between runs (boltd records each run before the next
    // starts, which gives an idle worker time to prepare the next context).
    for gap in [Duration::ZERO, Duration::from_millis(2)] {
        for (label, adaptor) in cases {
            let samples = daemon_runs(&event_loop, input, adaptor, gap)?;
            let pace = if gap.is_zero() {
                "back to back".to_string()
            } else {
                format!("{} ms apart", gap.as_millis())
            };
            println!(
                "daemon path, engine::execute, runs {pace} ({label}): {}",
                summary(samples)
            );
        }
    }
    Ok(())
}

fn daemon_runs(
    event_loop: &tokio::runtime::Runtime,
    input: &Value,
    adaptor: Option<&str>,
    gap: Duration,
) -> Result<Vec<Duration>> {
    let plan = match adaptor {
        Some(adaptor) => one_step("fn(s => s);", Some(adaptor)),
        // `execute` always compiles; this module compiles to itself.
        None => one_step("export default [s => s];", None),
    };
    event_loop.block_on(async {
        let mut samples = Vec::new();
        for i in 0..220 {
            let started = Instant::now();
            tokio::spawn({
                let (plan, input) = (plan.clone(), input.clone());
                async move { execute_as_boltd(&plan, &input).await }
            })
            .await??;
            let elapsed = started.elapsed();
            if i >= 20 {
                samples.push(elapsed);
            }
            if !gap.is_zero() {
                tokio::time::sleep(gap).await;
            }
        }
        Ok::<_, anyhow::Error>(samples)
    })
}

/// Runs in flight per core while the ceiling is measured: enough to keep every engine
/// worker busy while finished runs hand their results back (but never more than the
/// engine keeps workers for, or cold workers would start and end all the time).
const CEILING_RUNS_PER_CORE: usize = 4;

/// How many runs per second the engine alone completes with all cores busy, and its CPU per
/// run (preparing the next context and dropping the last one included). No end-to-end
/// figure can beat this: boltd adds intake, storage and scheduling on the same cores.
fn engine_ceiling() -> Result<()> {
    let cores = crate::cpus();
    let event_loop = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores)
        .enable_all()
        .build()?;
    let plan = one_step(crate::webhooks::BENCH_JOB, Some("common"));
    let input = json!({"data": {"patient_id": "P-0000001", "clinic": "bench"}});
    let run_for = |runs: usize| -> Result<(Duration, Option<Duration>)> {
        let cpu_before = crate::proc_cpu::process(std::process::id());
        let started = Instant::now();
        event_loop.block_on(async {
            let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let mut lanes = Vec::new();
            let in_flight = (cores * CEILING_RUNS_PER_CORE)
                .min(bolt_daemon::engine::runtime::pool::MAX_IDLE_WORKERS);
            for _ in 0..in_flight {
                let (plan, input, next) = (plan.clone(), input.clone(), next.clone());
                lanes.push(tokio::spawn(async move {
                    while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < runs {
                        execute_as_boltd(&plan, &input).await?;
                    }
                    Ok::<_, anyhow::Error>(())
                }));
            }
            for lane in lanes {
                lane.await??;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        let elapsed = started.elapsed();
        let cpu = crate::proc_cpu::process(std::process::id())
            .zip(cpu_before)
            .map(|(after, before)| after.saturating_sub(before));
        Ok((elapsed, cpu))
    };
    run_for(500)?; // warm the workers and the compile cache
    let runs = 10_000;
    let (elapsed, cpu) = run_for(runs)?;
    println!(
        "engine ceiling ({cores} cores busy, one-step job of `bench webhooks`, no HTTP or store): {:.0} runs/s, CPU per run {}",
        runs as f64 / elapsed.as_secs_f64(),
        cpu.map_or("n/a".into(), |cpu| format!(
            "{:.2} ms",
            cpu.as_secs_f64() * 1000.0 / runs as f64
        ))
    );
    Ok(())
}

/// One run the way boltd makes it: `engine::execute` with its events drained.
async fn execute_as_boltd(plan: &Plan, input: &Value) -> Result<()> {
    let (events, mut incoming) = tokio::sync::mpsc::unbounded_channel();
    let outcome = bolt_daemon::engine::execute(
        plan.clone(),
        input.clone(),
        Limits::default(),
        Default::default(),
        events,
        CancelToken::new(),
    )
    .await;
    while incoming.try_recv().is_ok() {}
    if outcome.exit_reason != ExitReason::Success {
        bail!("benchmark job failed: {outcome:?}");
    }
    Ok(())
}

fn cold_execute() -> Result<()> {
    let exe = crate::sibling_binary("bolt")?;
    let dir = tempfile::tempdir()?;
    let job = dir.path().join("job.js");
    std::fs::write(&job, "fn(s => ({ ...s, ok: true }));\n")?;
    let mut samples = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let output = Command::new(&exe)
            .args(["execute", "job.js", "-a", "common", "-o", "out.json"])
            .current_dir(dir.path())
            .output()
            .context("running bolt execute")?;
        samples.push(started.elapsed());
        if !output.status.success() {
            bail!(
                "bolt execute failed: {}",
                String::from_utf8_lossy(&output.stdout)
            );
        }
    }
    println!(
        "cold `bolt execute job.js -a common`: wall {}",
        summary(samples)
    );
    // Measured from outside: the kernel's peak of the children this process waited for
    // (only `bolt execute` runs so far).
    println!(
        "cold `bolt execute` max RSS: {:.1} MiB",
        children_max_rss_kb() as f64 / 1024.0
    );
    Ok(())
}

/// The largest resident set (KiB) of any child process waited for so far.
fn children_max_rss_kb() -> u64 {
    use nix::sys::resource::{UsageWho, getrusage};
    getrusage(UsageWho::RUSAGE_CHILDREN)
        .map(|usage| u64::try_from(usage.max_rss()).unwrap_or(0))
        .unwrap_or(0)
}

fn big_input() -> Value {
    let records: Vec<Value> = (0..10_000)
        .map(|i| json!({"id": i, "name": format!("item {i}"), "price": (i % 97) + 1, "qty": (i % 7) + 1}))
        .collect();
    json!({"data": {"records": records}, "configuration": {}})
}

fn big_job(node_dir: Option<&Path>) -> Result<()> {
    let input = big_input();
    let plan = one_step(BIG_JOB, None);
    run_once(&plan, &input, CompileMode::AsIs)?;
    let samples = (0..10)
        .map(|_| run_once(&plan, &input, CompileMode::AsIs))
        .collect::<Result<Vec<_>>>()?;
    let bolt_median = median(&samples);
    println!(
        "10,000-record map/filter/reduce, bolt: {}",
        summary(samples)
    );
    let Some(dir) = node_dir else {
        println!(
            "10,000-record job under Node: skipped (pass --node-dir <dir with node_modules/@openfn/runtime>)"
        );
        return Ok(());
    };
    let node_ms = node_big_job(dir, &input)?;
    let bolt_ms = bolt_median.as_secs_f64() * 1000.0;
    println!(
        "10,000-record map/filter/reduce, Node @openfn/runtime: median {node_ms:.3} ms (n=10)"
    );
    println!("ratio bolt/node: {:.2}", bolt_ms / node_ms);
    Ok(())
}

/// Runs the same job with Node's `@openfn/runtime` (same state, same module) and returns
/// the median in-process time in ms (JSON parse of the input included, as in bolt's figure).
fn node_big_job(dir: &Path, input: &Value) -> Result<f64> {
    // The script sits in `dir` so that `@openfn/runtime` resolves from its node_modules.
    let stem = format!(".bolt-bench-{}", std::process::id());
    let files = [
        dir.join(format!("{stem}.mjs")),
        dir.join(format!("{stem}.state.json")),
        dir.join(format!("{stem}.job.js")),
    ];
    std::fs::write(&files[1], input.to_string())?;
    std::fs::write(&files[2], BIG_JOB)?;
    let script = format!(
        "import {{ readFileSync }} from 'node:fs';\n\
         import run from '@openfn/runtime';\n\
         const src = readFileSync({job:?}, 'utf8');\n\
         const text = readFileSync({state:?}, 'utf8');\n\
         const noop = () => {{}};\n\
         const logger = {{ log: noop, info: noop, debug: noop, warn: noop, error: noop, success: noop, always: noop, break: noop, print: noop, proxy: noop, timer: () => noop, options: {{}} }};\n\
         const times = [];\n\
         for (let i = 0; i < 11; i++) {{\n\
           const t = performance.now();\n\
           await run(src, JSON.parse(text), {{ logger, jobLogger: logger }});\n\
           if (i > 0) times.push(performance.now() - t);\n\
         }}\n\
         times.sort((a, b) => a - b);\n\
         console.log('median-ms', times[Math.floor(times.length / 2)]);\n",
        job = files[2].display().to_string(),
        state = files[1].display().to_string(),
    );
    std::fs::write(&files[0], script)?;
    let output = Command::new("node")
        .args(["--experimental-vm-modules", "--no-warnings"])
        .arg(&files[0])
        .current_dir(dir)
        .output();
    for file in &files {
        let _ = std::fs::remove_file(file);
    }
    let output = output.context("running node")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("median-ms "))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .with_context(|| {
            format!(
                "node benchmark failed: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}
