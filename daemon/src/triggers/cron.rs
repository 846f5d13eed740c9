//! Cron triggers: each enabled schedule fires once per matching minute. A row in
//! `cron_fires` per (trigger, minute) makes that true across restarts too.

use crate::daemon::Daemon;
use crate::project::parse_cron;
use crate::store::work_orders::{Input, NewWorkOrder};
use crate::store::{self, StoreResult};
use crate::triggers::intake;
use crate::workflows;
use bolt_shared::model::{DataclipType, Origin};
use chrono::{DateTime, Timelike, Utc};
use std::sync::Arc;
use std::time::Duration;

/// Test hook: check the schedule this often instead of once a minute.
pub const ENV_CHECK_MS: &str = "BOLT_CRON_CHECK_MS";

/// Test hook: cron's clock runs fast. `<T0>x<speed>`, T0 in seconds since the epoch: cron's
/// now is `T0 + (real now − T0) × speed` (read once at start), so with `x60` a minute goes
/// by every real second; nodes given the same value agree on the minute. Only cron's
/// notion of now and its wait for the next minute use it (with [`ENV_CHECK_MS`], only the
/// former): work orders, runs and logs keep real times.
pub const ENV_TEST_CLOCK: &str = "BOLT_TEST_CLOCK";

pub async fn run(daemon: Arc<Daemon>) {
    let mut shutdown = daemon.shutdown_signal();
    let check = std::env::var(ENV_CHECK_MS)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_millis);
    let clock = Clock::from_env();
    loop {
        let now = clock.now();
        match tick(&daemon, now).await {
            Ok(_) => {}
            Err(crate::store::StoreError::Refusing(_)) => {
                tracing::warn!(
                    "cron triggers due this minute did not fire: the store refuses writes (see `bolt status`)"
                );
            }
            Err(err) => tracing::error!(%err, "cron check failed"),
        }
        let wait = check.unwrap_or_else(|| clock.real_wait(until_next_minute(now)));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => break,
        }
    }
}

/// A little past the start of the minute after `now`.
fn until_next_minute(now: DateTime<Utc>) -> Duration {
    let into_minute = Duration::from_millis(
        u64::from(now.second()) * 1000 + u64::from(now.timestamp_subsec_millis()),
    );
    Duration::from_secs(60).saturating_sub(into_minute) + Duration::from_millis(50)
}

/// Cron's notion of now: the real clock, or the test clock of [`ENV_TEST_CLOCK`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Clock {
    Real,
    Fast { origin_micros: i64, speed: u32 },
}

impl Clock {
    fn from_env() -> Clock {
        let Ok(text) = std::env::var(ENV_TEST_CLOCK) else {
            return Clock::Real;
        };
        Clock::parse(&text).unwrap_or_else(|| {
            tracing::warn!(
                value = %text,
                "{ENV_TEST_CLOCK} is not <unix seconds>x<speed> (e.g. 1700000000x60): cron keeps the real clock"
            );
            Clock::Real
        })
    }

    fn parse(text: &str) -> Option<Clock> {
        let (origin, speed) = text.trim().split_once('x')?;
        let origin: i64 = origin.parse().ok()?;
        let speed: u32 = speed.parse().ok().filter(|s| *s > 0)?;
        Some(Clock::Fast {
            origin_micros: origin.checked_mul(1_000_000)?,
            speed,
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.at(Utc::now())
    }

    /// The clock's time when the real one says `real`.
    fn at(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        match *self {
            Clock::Real => real,
            Clock::Fast {
                origin_micros,
                speed,
            } => {
                let gone = real.timestamp_micros().saturating_sub(origin_micros);
                let micros = origin_micros.saturating_add(gone.saturating_mul(i64::from(speed)));
                DateTime::from_timestamp_micros(micros).unwrap_or(real)
            }
        }
    }

    /// How long to sleep, in real time, for `wait` to go by on this clock.
    fn real_wait(&self, wait: Duration) -> Duration {
        match *self {
            Clock::Real => wait,
            Clock::Fast { speed, .. } => wait / speed,
        }
    }
}

fn minute_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_second(0)
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(at)
}

/// Fires every cron trigger whose schedule matches the minute of `now`, once.
pub async fn tick(daemon: &Arc<Daemon>, now: DateTime<Utc>) -> StoreResult<usize> {
    let minute = minute_of(now);
    let due = daemon
        .store
        .readers
        .read(move |conn| {
            let mut due = Vec::new();
            for trigger in store::cron::armed(conn)? {
                let scheduled = trigger
                    .expression
                    .as_deref()
                    .and_then(|e| parse_cron(e).ok());
                if scheduled.is_some_and(|s| s.matches(minute)) {
                    due.push((trigger.id, trigger.workflow_id, trigger.key));
                }
            }
            Ok(due)
        })
        .await?;
    let mut fired = 0;
    for (trigger, workflow, trigger_key) in due {
        let stamp = minute.timestamp();
        let claim_trigger = trigger.clone();
        let first = daemon
            .store
            .writer
            .write(move |tx| store::cron::claim_fire(tx, &claim_trigger, stamp))
            .await?;
        if !first {
            continue;
        }
        let (deployed, input) = daemon
            .store
            .readers
            .read(move |conn| {
                let deployed = workflows::find(conn, &workflow)?;
                let cursor_job = deployed
                    .spec
                    .triggers
                    .iter()
                    .find(|t| t.key == trigger_key)
                    .and_then(|t| t.cron_cursor_job.clone());
                let input = match cursor_job {
                    Some(job) => store::cron::last_job_output(conn, &workflow, &job)?,
                    None => store::cron::last_success_state(conn, &workflow)?,
                };
                Ok((deployed, input))
            })
            .await?;
        let new = NewWorkOrder {
            workflow_id: deployed.id,
            project_id: deployed.project_id,
            version_id: deployed.version_id,
            trigger_id: Some(trigger),
            origin: Origin::Cron,
            input: match input {
                Some(id) => Input::Existing(id),
                None => Input::json(DataclipType::Global, &serde_json::json!({}), None),
            },
            starting_job: None,
            priority: 1,
            source_address: None,
        };
        intake::submit(daemon, new).await?;
        fired += 1;
    }
    Ok(fired)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_clock_runs_fast_from_its_origin() {
        let clock = Clock::parse("1700000000x60").expect("a clock");
        let origin = DateTime::from_timestamp(1_700_000_000, 0).expect("a time");
        assert_eq!(clock.at(origin), origin);
        let later = clock.at(origin + chrono::Duration::milliseconds(1500));
        assert_eq!(later, origin + chrono::Duration::seconds(90));
        assert_eq!(
            clock.real_wait(Duration::from_secs(60)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn a_malformed_test_clock_is_not_a_clock() {
        for text in [
            "",
            "1700000000",
            "x60",
            "1700000000x0",
            "1700000000x-1",
            "soonx60",
        ] {
            assert_eq!(Clock::parse(text), None, "{text}");
        }
        assert_eq!(
            Clock::Real.real_wait(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
    }

    #[test]
    fn the_next_minute_is_waited_for_from_within_this_one() {
        let at = DateTime::from_timestamp(1_700_000_000 + 45, 0).expect("a time");
        let at = minute_of(at) + chrono::Duration::seconds(45);
        assert_eq!(until_next_minute(at), Duration::from_millis(15_050));
    }
}
