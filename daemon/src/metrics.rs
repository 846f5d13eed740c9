//! `GET /metrics`: what an operator graphs and alerts on, in the Prometheus text format.
//!
//! Durations are recorded as they happen (runs, steps, webhook requests, the store's writes
//! and WAL syncs, adaptor installs); the queue and the counts by state are read from the
//! store when scraped, from the same cheap queries `bolt status` uses.

use crate::daemon::Daemon;
use crate::store::StoreError;
use crate::store::metrics::RunCounts;
use crate::store::timings::Timings;
use bolt_shared::model::{ExitReason, RunState, WorkOrderFilter, WorkOrderState};
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use std::sync::Arc;
use std::time::Duration;

/// Seconds, from a quick job to an hour-long one.
const RUN_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// Seconds, for requests and disk writes: a millisecond matters here.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

pub struct Metrics {
    registry: Registry,
    runs_finished: IntCounterVec,
    run_seconds: HistogramVec,
    step_seconds: HistogramVec,
    webhook_seconds: HistogramVec,
    adaptor_installs: IntCounterVec,
    queue_depth: IntGauge,
    runs_active: IntGaugeVec,
    work_orders: IntGaugeVec,
    workers: IntGauge,
    executing: IntGauge,
}

/// The store's histograms, made where the store is opened (it is opened before the daemon).
pub fn store_histograms() -> (prometheus::Histogram, prometheus::Histogram) {
    let histogram = |name: &str, help: &str| {
        prometheus::Histogram::with_opts(
            HistogramOpts::new(name, help).buckets(REQUEST_BUCKETS.to_vec()),
        )
        .expect("valid histogram options")
    };
    (
        histogram(
            "bolt_store_write_seconds",
            "Each durable write of the store, from being queued to being answered",
        ),
        histogram(
            "bolt_store_fsync_seconds",
            "Each fdatasync of the store's write-ahead log",
        ),
    )
}

impl Metrics {
    pub fn new(timings: &Timings) -> Metrics {
        let registry = Registry::new();
        let histograms = |name: &str, help: &str, label: &str, buckets: &[f64]| {
            let vec = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets.to_vec()),
                &[label],
            )
            .expect("valid histogram options");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric names are unique");
            vec
        };
        let run_seconds = histograms(
            "bolt_run_duration_seconds",
            "How long runs took, from taking an engine slot to their end, by final state",
            "state",
            RUN_BUCKETS,
        );
        let step_seconds = histograms(
            "bolt_step_duration_seconds",
            "How long steps took, by exit reason",
            "exit_reason",
            RUN_BUCKETS,
        );
        let webhook_seconds = histograms(
            "bolt_webhook_request_duration_seconds",
            "Webhook requests, from arrival to the answer, by HTTP status",
            "status",
            REQUEST_BUCKETS,
        );
        let counters = |name: &str, help: &str, label: &str| {
            let vec =
                IntCounterVec::new(Opts::new(name, help), &[label]).expect("valid counter options");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric names are unique");
            vec
        };
        let runs_finished = counters(
            "bolt_runs_finished_total",
            "Runs that ended since boltd started, by final state",
            "state",
        );
        let adaptor_installs = counters(
            "bolt_adaptor_installs_total",
            "Adaptor installs since boltd started (bolt adaptor add, deploys): installed, one per adaptor version; failed, one per refused bolt adaptor add",
            "result",
        );
        let gauge = |name: &str, help: &str| {
            let gauge = IntGauge::new(name, help).expect("valid gauge options");
            registry
                .register(Box::new(gauge.clone()))
                .expect("metric names are unique");
            gauge
        };
        let queue_depth = gauge(
            "bolt_queue_depth",
            "Runs waiting for a worker (state available)",
        );
        let workers = gauge("bolt_workers", "Runs that may execute job code at once");
        let executing = gauge("bolt_runs_executing", "Runs executing job code now");
        let gauges = |name: &str, help: &str| {
            let vec =
                IntGaugeVec::new(Opts::new(name, help), &["state"]).expect("valid gauge options");
            registry
                .register(Box::new(vec.clone()))
                .expect("metric names are unique");
            vec
        };
        let runs_active = gauges(
            "bolt_runs",
            "Runs not yet ended, by state (available, claimed, started)",
        );
        let work_orders = gauges("bolt_work_orders", "Work orders in the store, by state");
        // Every series a dashboard expects exists from the start, at 0.
        for state in RunState::ALL.iter().filter(|s| s.is_final()) {
            runs_finished.with_label_values(&[state.as_str()]);
        }
        for result in ["installed", "failed"] {
            adaptor_installs.with_label_values(&[result]);
        }
        for state in ["available", "claimed", "started"] {
            runs_active.with_label_values(&[state]);
        }
        for state in WorkOrderState::ALL {
            work_orders.with_label_values(&[state.as_str()]);
        }
        for histogram in [&timings.prometheus_writes, &timings.prometheus_syncs] {
            registry
                .register(Box::new(histogram.clone()))
                .expect("metric names are unique");
        }
        Metrics {
            registry,
            runs_finished,
            run_seconds,
            step_seconds,
            webhook_seconds,
            adaptor_installs,
            queue_depth,
            runs_active,
            work_orders,
            workers,
            executing,
        }
    }

    pub fn run_finished(&self, state: RunState, took: Duration) {
        self.runs_finished
            .with_label_values(&[state.as_str()])
            .inc();
        self.run_seconds
            .with_label_values(&[state.as_str()])
            .observe(took.as_secs_f64());
    }

    pub fn step_finished(&self, exit_reason: ExitReason, took: Duration) {
        self.step_seconds
            .with_label_values(&[exit_reason.as_str()])
            .observe(took.as_secs_f64());
    }

    pub fn webhook_answered(&self, status: u16, took: Duration) {
        self.webhook_seconds
            .with_label_values(&[status.to_string().as_str()])
            .observe(took.as_secs_f64());
    }

    pub fn adaptors_installed(&self, count: usize) {
        self.adaptor_installs
            .with_label_values(&["installed"])
            .inc_by(count as u64);
    }

    pub fn adaptor_install_failed(&self) {
        self.adaptor_installs.with_label_values(&["failed"]).inc();
    }
}

/// The metrics as Prometheus text, with the queue and counts read now. A store that can't
/// be read leaves those gauges at their last values and the rest is still served.
pub async fn render(daemon: &Arc<Daemon>) -> String {
    let metrics = &daemon.metrics;
    match read_counts(daemon).await {
        Ok(counts) => {
            let RunCounts {
                available,
                claimed,
                started,
            } = counts.runs;
            metrics.queue_depth.set(available);
            for (state, count) in [
                ("available", available),
                ("claimed", claimed),
                ("started", started),
            ] {
                metrics.runs_active.with_label_values(&[state]).set(count);
            }
            for (state, count) in counts.work_orders {
                metrics.work_orders.with_label_values(&[state]).set(count);
            }
        }
        Err(err) => tracing::warn!(%err, "metrics: the store could not be read"),
    }
    metrics.workers.set(daemon.config.workers() as i64);
    metrics.executing.set(daemon.executing_count() as i64);
    let mut text = Vec::new();
    if let Err(err) = TextEncoder::new().encode(&metrics.registry.gather(), &mut text) {
        tracing::warn!(%err, "metrics could not be encoded");
    }
    String::from_utf8_lossy(&text).into_owned()
}

struct Counts {
    runs: RunCounts,
    work_orders: Vec<(&'static str, i64)>,
}

async fn read_counts(daemon: &Arc<Daemon>) -> Result<Counts, StoreError> {
    daemon
        .store
        .readers
        .read(|conn| {
            // The hourly buckets kept by triggers and the partial indexes of the queue: no
            // scan of every run or work order.
            let (counts, _) = crate::history::counts(conn, &WorkOrderFilter::default())?;
            Ok(Counts {
                runs: crate::store::metrics::run_counts(conn)?,
                work_orders: counts
                    .iter()
                    .map(|c| (c.state.as_str(), c.count as i64))
                    .collect(),
            })
        })
        .await
}
