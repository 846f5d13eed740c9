//! Executing one claimed run: load its pinned version and input, run it through the
//! engine, and record every step, dataclip and log line (scrubbed) as it happens.

use crate::collections::{self, token::LiveToken};
use crate::daemon::Daemon;
use crate::engine::{self, CancelToken, EngineEvent, EventGate, Limits, RunOutcome};
use crate::log_caps::{Admit, Dropped, LogCaps, cut_line};
use crate::project::WorkflowSpec;
use crate::runs::{insert_run, refresh_work_order};
use crate::secrets::Scrubber;
use crate::store::dataclips::{self, NewDataclip};
use crate::store::{StoreError, StoreResult, new_id, now_micros};
use crate::unrecorded::{self, Expected, Requeued};
use crate::{credentials, plan, workflows};
use bolt_shared::model::*;
use bolt_shared::protocol::Event;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// (version, starting job, input dataclip, attempt, max attempts, backoff, retention policy, input body)
type LostRow = (
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    String,
    Option<String>,
);

/// Everything a run needs, read once before it starts.
struct RunContext {
    run_id: String,
    work_order_id: String,
    project_id: String,
    version_id: String,
    spec: WorkflowSpec,
    start: Option<String>,
    starting_job: Option<String>,
    input_dataclip_id: String,
    input: Option<Value>,
    input_wiped: Option<WipeReason>,
    erase_all: bool,
    attempt: i64,
    max_attempts: i64,
    backoff_secs: i64,
    run_timeout: Duration,
    memory_mb: u64,
}

/// Reads everything a run needs in one statement. `+?1`, not `?1`: SQLite (3.50) re-prepares
/// a join whose WHERE compares a column with a bare bound parameter every time the value
/// changes (the same plan, ~100 µs each time); the unary plus keeps the plan and the
/// prepared statement.
fn load_context(
    conn: &Connection,
    run_id: &str,
    daemon_config: &bolt_shared::Config,
) -> StoreResult<RunContext> {
    let row = conn.prepare_cached("SELECT r.work_order_id, r.version_id, r.starting_job, r.dataclip_id, r.origin, r.attempt,
                w.project_id, p.retention_policy, w.max_attempts, w.retry_backoff_secs, w.run_timeout_secs, w.memory_limit_mb,
                d.type, d.body, d.request, d.wipe_reason, t.key
         FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id
         JOIN workflows w ON w.id = wo.workflow_id JOIN projects p ON p.id = w.project_id
         LEFT JOIN dataclips d ON d.id = r.dataclip_id
         LEFT JOIN triggers t ON t.id = wo.trigger_id
         WHERE r.id = +?1")?.query_row([run_id],
        |r| {
            Ok((
                (r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, Option<String>>(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get::<_, i64>(5)?),
                (r.get::<_, String>(6)?, r.get::<_, String>(7)?, r.get::<_, i64>(8)?, r.get::<_, i64>(9)?, r.get::<_, Option<i64>>(10)?, r.get::<_, Option<i64>>(11)?),
                (r.get::<_, Option<String>>(12)?, r.get::<_, Option<String>>(13)?, r.get::<_, Option<String>>(14)?, r.get::<_, Option<String>>(15)?, r.get::<_, Option<String>>(16)?),
            ))
        },
    )?;
    let (
        (work_order_id, version_id, starting_job, dataclip_id, _origin, attempt),
        (project_id, policy, max_attempts, backoff, timeout, memory),
        (kind, body, request, wipe_reason, trigger_key),
    ) = row;
    let (_, spec) = workflows::version(conn, &version_id)?;
    let input = match body {
        None => None,
        Some(body) => {
            let value: Value = serde_json::from_str(&body)
                .map_err(|e| StoreError::Invalid(format!("stored input is not JSON: {e}")))?;
            // Webhook inputs reach the job as {data, request}, as in Lightning.
            if kind.as_deref() == Some("http_request") {
                let request: Value = request
                    .and_then(|r| serde_json::from_str(&r).ok())
                    .unwrap_or(Value::Null);
                Some(serde_json::json!({ "data": value, "request": request }))
            } else {
                Some(value)
            }
        }
    };
    let start = plan::start_of(&spec, starting_job.as_deref(), trigger_key.as_deref());
    Ok(RunContext {
        starting_job,
        run_id: run_id.to_string(),
        work_order_id,
        project_id,
        version_id,
        start,
        input_dataclip_id: dataclip_id,
        input_wiped: if input.is_none() {
            Some(
                wipe_reason
                    .as_deref()
                    .and_then(WipeReason::parse)
                    .unwrap_or(WipeReason::Retention),
            )
        } else {
            None
        },
        input,
        erase_all: policy == "erase_all",
        attempt,
        max_attempts,
        backoff_secs: backoff,
        // Workflows deployed before a ceiling was lowered (or with a 0 that older boltds
        // accepted) still get the operator's limits.
        run_timeout: Duration::from_secs(
            timeout
                .filter(|t| *t > 0)
                .map(|t| (t as u64).min(daemon_config.engine.max_run_timeout_secs))
                .unwrap_or(daemon_config.engine.run_timeout_secs),
        ),
        memory_mb: memory
            .filter(|m| *m > 0)
            .map(|m| (m as u64).min(daemon_config.engine.max_memory_limit_mb))
            .unwrap_or(daemon_config.engine.memory_limit_mb),
        spec,
    })
}

/// A run's end, before it is written.
struct Ending {
    state: RunState,
    error_type: Option<String>,
    error_message: Option<String>,
    final_state: Option<Value>,
    /// The stored dataclip that already holds the final state.
    final_dataclip_id: Option<String>,
    /// Log lines the run's log caps dropped.
    logs_dropped: Dropped,
}

/// Runs a claimed run to completion. Never panics on user input; every failure is recorded.
pub async fn execute(daemon: Arc<Daemon>, run_id: String, cancel: CancelToken) {
    // A run whose records can't be kept doesn't start; it waits for the store (still
    // claimed: if boltd stops first, the next start finds it lost).
    tokio::select! {
        biased;
        _ = daemon.store.health.until_writable() => {}
        _ = daemon.until_stopping() => return,
    }
    let faults = daemon.store.health.faults();
    let Err(err) = execute_inner(&daemon, &run_id, cancel, faults).await else {
        return;
    };
    if matches!(err, StoreError::Refusing(_)) || daemon.store.health.faults() != faults {
        // boltd's fault, not the job's: once the disk takes writes again the run ends as
        // unrecorded and runs again.
        let why = match &err {
            StoreError::Refusing(refusal) => refusal.explain(),
            other => other.to_string(),
        };
        tracing::warn!(run = %run_id, "the store refused this run's records: it runs again once the store takes writes");
        crate::unrecorded::once_the_store_recovers(&daemon, &run_id, why).await;
        return;
    }
    tracing::error!(run = %run_id, %err, "run could not be recorded; marking it as an exception");
    let message = format!("boltd could not run this: {err}");
    // The store may be briefly unavailable (that may be why the run failed): keep trying,
    // so the run doesn't stay claimed or started until the next restart.
    let mut pause = Duration::from_millis(500);
    for attempt in 1..=MARK_EXCEPTION_ATTEMPTS {
        match mark_exception(&daemon, &run_id, &message).await {
            Ok(()) => return,
            Err(err)
                if attempt == MARK_EXCEPTION_ATTEMPTS || matches!(err, StoreError::WriterGone) =>
            {
                tracing::error!(run = %run_id, %err, "could not mark the run as an exception; it will be marked lost on the next start");
            }
            Err(_) => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
        }
    }
}

const MARK_EXCEPTION_ATTEMPTS: u32 = 6;

async fn mark_exception(daemon: &Arc<Daemon>, run_id: &str, message: &str) -> StoreResult<()> {
    let (id, message) = (run_id.to_string(), message.to_string());
    daemon
        .store
        .writer
        .write(move |tx| {
            let ended = tx.prepare_cached("UPDATE runs SET state = 'exception', error_type = 'ExecutionError', error_message = ?2, finished_at = ?3
                 WHERE id = ?1 AND state IN ('claimed', 'started')")?.execute(params![id, message, now_micros()],
            )?;
            if ended > 0 {
                crate::notify::events::run_ended(tx, &id)?;
            }
            let wo: Option<String> = tx.prepare_cached("SELECT work_order_id FROM runs WHERE id = ?1")?.query_row([&id], |r| r.get(0)).optional()?;
            if let Some(wo) = wo {
                refresh_work_order(tx, &wo)?;
            }
            Ok(())
        })
        .await
}

/// Puts a claimed run that never started back in the queue, for the next start to run.
async fn release_claim(daemon: &Arc<Daemon>, ctx: &RunContext) -> StoreResult<()> {
    let id = ctx.run_id.clone();
    let released = daemon
        .store
        .writer
        .write(move |tx| {
            Ok(tx
                .prepare_cached(
                    "UPDATE runs SET state = 'available', claimed_at = NULL WHERE id = ?1 AND state = 'claimed'",
                )?
                .execute([&id])?)
        })
        .await?;
    if released > 0 {
        daemon.events.publish(Event::RunChanged {
            id: ctx.run_id.clone(),
            work_order_id: ctx.work_order_id.clone(),
            state: RunState::Available,
            created: false,
        });
    }
    Ok(())
}

/// `faults`: the store's fault count when the run began; a fault since may have cost the
/// run some of its records.
async fn execute_inner(
    daemon: &Arc<Daemon>,
    run_id: &str,
    cancel: CancelToken,
    faults: u64,
) -> StoreResult<()> {
    let config = daemon.config.clone();
    let id = run_id.to_string();
    let ctx = daemon
        .store
        .readers
        .read(move |conn| load_context(conn, &id, &config))
        .await?;

    // Wait for an engine slot before the run counts as started. Released once the engine
    // is done, so waiting for the final commit doesn't hold a slot. A run still waiting
    // when boltd stops has not begun: it goes back to the queue rather than starting (or
    // being marked lost at the next start).
    let slot = tokio::select! {
        biased;
        _ = daemon.until_stopping() => return release_claim(daemon, &ctx).await,
        slot = daemon.engine_slots.acquire() => {
            slot.map_err(|_| StoreError::Invalid("the daemon is shutting down".into()))?
        }
    };

    // Started: not awaited — the writer applies writes in order, and the run's final write,
    // which is awaited, comes after it. Saves a commit round trip per run.
    {
        let id = ctx.run_id.clone();
        let wo = ctx.work_order_id.clone();
        daemon.store.writer.write_detached(move |tx| {
            tx.prepare_cached("UPDATE runs SET state = 'started', started_at = ?2 WHERE id = ?1")?
                .execute(params![id, now_micros()])?;
            refresh_work_order(tx, &wo).map(|_| ())
        });
        daemon.events.publish(Event::RunChanged {
            id: ctx.run_id.clone(),
            work_order_id: ctx.work_order_id.clone(),
            state: RunState::Started,
            created: false,
        });
        daemon.events.publish(Event::WorkOrderChanged {
            id: ctx.work_order_id.clone(),
            state: WorkOrderState::Running,
            created: false,
        });
    }

    let (ending, expected) = match prepare(daemon, &ctx).await? {
        Err(ending) => (ending, Expected::default()),
        Ok(prepared) => {
            let Prepared {
                plan,
                input,
                scrubber,
                notes,
                collections_token,
            } = prepared;
            let ended = run_engine(daemon, &ctx, plan, input, scrubber, notes, cancel).await;
            // The run's collections token dies with the run, before its end is recorded.
            drop(collections_token);
            ended?
        }
    };
    drop(slot);
    finish(daemon, &ctx, ending, expected, faults).await
}

/// What a run needs from [`prepare`] to start.
struct Prepared {
    plan: engine::Plan,
    input: Value,
    scrubber: Scrubber,
    /// Lines for the run's log before its first step (what boltd noticed about the run).
    notes: Vec<String>,
    /// Held while the run lasts: its collections API token works only until dropped.
    collections_token: Option<LiveToken>,
}

/// Checks the input and credentials; loads credentials (and collections access) into the plan.
async fn prepare(daemon: &Arc<Daemon>, ctx: &RunContext) -> StoreResult<Result<Prepared, Ending>> {
    let Some(input) = ctx.input.clone() else {
        let reason = ctx.input_wiped.unwrap_or(WipeReason::Retention);
        return Ok(Err(Ending {
            state: RunState::Exception,
            error_type: Some("InputError".into()),
            error_message: Some(format!(
                "the input of this work order was wiped ({reason}), so it cannot run"
            )),
            final_state: None,
            final_dataclip_id: None,
            logs_dropped: Dropped::default(),
        }));
    };
    let Some(start) = ctx.start.clone() else {
        return Ok(Err(Ending {
            state: RunState::Exception,
            error_type: Some("ValidationError".into()),
            error_message: Some("the workflow has no job to start at".into()),
            final_state: None,
            final_dataclip_id: None,
            logs_dropped: Dropped::default(),
        }));
    };
    let reachable = plan::reachable_jobs(&ctx.spec, &start);
    let wanted: Vec<String> = reachable
        .iter()
        .filter_map(|job| ctx.spec.job(job).and_then(|j| j.credential.clone()))
        .collect();
    let uses_collections = reachable.iter().any(|job| {
        ctx.spec
            .job(job)
            .is_some_and(|j| collections::step_uses_collections(&j.adaptor, &j.body))
    });
    let vault = daemon.vault.clone();
    let loaded = if wanted.is_empty() {
        Ok((BTreeMap::new(), Vec::new()))
    } else {
        daemon
            .store
            .readers
            .read(move |conn| {
                let mut out = BTreeMap::new();
                let mut missing = Vec::new();
                for name in wanted {
                    match credentials::load(conn, &vault, &name)? {
                        Some(body) => {
                            out.insert(name, body);
                        }
                        None => missing.push(name),
                    }
                }
                Ok((out, missing))
            })
            .await
    };
    let (loaded, missing) = match loaded {
        Ok(found) => found,
        Err(err) => {
            return Ok(Err(Ending {
                state: RunState::Exception,
                error_type: Some("CredentialLoadError".into()),
                error_message: Some(err.to_string()),
                final_state: None,
                final_dataclip_id: None,
                logs_dropped: Dropped::default(),
            }));
        }
    };
    if let Some(name) = missing.first() {
        return Ok(Err(Ending {
            state: RunState::Exception,
            error_type: Some("CredentialLoadError".into()),
            error_message: Some(format!(
                "credential `{name}` is not set in bolt: set it with `bolt credential set '{name}' --from-file credential.json`, then rerun"
            )),
            final_state: None,
            final_dataclip_id: None,
            logs_dropped: Dropped::default(),
        }));
    }
    if !loaded.is_empty() {
        let names: Vec<String> = loaded.keys().cloned().collect();
        let run = ctx.run_id.clone();
        daemon.store.writer.write_detached(move |tx| {
            for name in &names {
                crate::project::audit(
                    tx,
                    "used",
                    "credential",
                    name,
                    Some(serde_json::json!({ "run": run })),
                )?;
            }
            Ok(())
        });
    }
    let mut notes = Vec::new();
    let collections_token = uses_collections.then(|| {
        // Past the run's own limit the token is refused anyway; the margin covers the wait
        // for the engine and the end of the last step.
        let ttl = ctx.run_timeout + Duration::from_secs(60);
        daemon.run_tokens.issue(&ctx.run_id, &ctx.project_id, ttl)
    });
    let access = collections_token
        .as_ref()
        .map(|token| collections::RunAccess {
            endpoint: collections::endpoint_for(daemon.http_listen().as_deref()),
            token: token.as_str().to_string(),
        });
    if access.as_ref().is_some_and(|a| a.endpoint.is_none()) {
        notes.push("this run uses collections, but boltd serves no HTTP ([http] listen is empty in bolt.toml), so its jobs get no collections_endpoint".to_string());
    }
    // The token is scrubbed from logs and outputs like a credential's secrets.
    let token_body = access
        .as_ref()
        .map(|a| serde_json::json!({ "collections_token": a.token }));
    let bodies: Vec<&Value> = loaded.values().chain(token_body.as_ref()).collect();
    let scrubber = Scrubber::new(&bodies);
    if ctx.erase_all {
        // Zero persistence: the input is gone as soon as the run has read it.
        let clip = ctx.input_dataclip_id.clone();
        daemon
            .store
            .writer
            .write(move |tx| dataclips::wipe(tx, &clip, WipeReason::ZeroPersistence))
            .await?;
        // The wiped body is zeroed in the database's pages (secure_delete) but still in
        // the write-ahead log's frames until the log is emptied.
        daemon.store.scrub_wal();
    }
    Ok(Ok(Prepared {
        plan: plan::build(&ctx.spec, Some(start), &loaded, access.as_ref()),
        input,
        scrubber,
        notes,
        collections_token,
    }))
}

/// Engine events a run may have sent that its recorder has not taken yet; past it the job
/// waits. With [`LINES_PER_CONFIRMATION`] this bounds what a chatty run holds in memory.
const EVENTS_IN_FLIGHT: usize = 1024;
/// Log lines handed to the store's writer before the recorder waits for them to commit.
const LINES_PER_CONFIRMATION: usize = 4096;
/// The longest the recorder waits for that commit.
const CONFIRMATION_WAIT: Duration = Duration::from_secs(5);

/// Where bolt's own notes in a run's log come from.
const NOTICE_SOURCE: &str = "BOLT";

/// A log line before it has an id (held back by the log caps, or about to be stored).
struct PendingLine {
    step: Option<String>,
    source: String,
    level: LogLevel,
    message: String,
    time: chrono::DateTime<chrono::Utc>,
}

/// Records engine events as they arrive.
struct Recorder<'a> {
    daemon: &'a Arc<Daemon>,
    ctx: &'a RunContext,
    scrubber: Scrubber,
    log_caps: LogCaps<PendingLine>,
    /// Log lines handed to the writer since it last confirmed a commit.
    unconfirmed_lines: usize,
    /// engine step id → stored step id
    steps: HashMap<String, String>,
    /// Engine step ids of jobs whose console output is not kept (`enable_job_logs: false`).
    silent_steps: HashSet<String>,
    /// Recent outputs, their dataclip ids and whether the body is stored, so a step's
    /// input and the run's final state reuse the dataclip of the output they equal.
    outputs: Vec<(Value, String, bool)>,
    first_step: bool,
    /// What it queued for the store, to check before the run is recorded as finished.
    expected: Expected,
}

impl Recorder<'_> {
    fn stored_output(&self, id: &str) -> bool {
        self.outputs
            .iter()
            .any(|(_, known, stored)| known == id && *stored)
    }

    /// The stored dataclip of a step output equal to `state`, if there is one.
    fn dataclip_of(&self, state: &Value) -> Option<String> {
        self.outputs
            .iter()
            .rev()
            .find(|(value, _, stored)| *stored && value == state)
            .map(|(_, id, _)| id.clone())
    }

    fn store_line(&mut self, line: PendingLine) {
        let id = self.daemon.next_log_id();
        let line = LogLine {
            id,
            run_id: self.ctx.run_id.clone(),
            step_id: line.step,
            source: line.source,
            level: line.level,
            message: line.message,
            timestamp: line.time,
        };
        let stored = line.clone();
        let wo = self.ctx.work_order_id.clone();
        self.unconfirmed_lines += 1;
        self.expected.log_lines += 1;
        self.daemon.store.writer.write_detached(move |tx| {
            tx.prepare_cached("INSERT INTO log_lines (id, run_id, step_id, source, level, message, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")?.execute(params![stored.id, stored.run_id, stored.step_id, stored.source, stored.level.as_str(), stored.message, stored.timestamp.timestamp_micros()],
            )?;
            dataclips::index(tx, &wo, "log", &stored.id.to_string(), &stored.message)
        });
        self.daemon.events.publish(Event::Log(line));
    }

    /// Stores the lines held back by the log caps, after a notice of what was dropped.
    fn flush_held_lines(&mut self) -> Dropped {
        let (dropped, held) = self.log_caps.finish();
        if dropped.lines > 0 {
            let time = held
                .first()
                .map(|l| l.time)
                .unwrap_or_else(chrono::Utc::now);
            let message = self.log_caps.notice(dropped);
            self.store_line(PendingLine {
                step: None,
                source: NOTICE_SOURCE.into(),
                level: LogLevel::Warn,
                message,
                time,
            });
        }
        for line in held {
            self.store_line(line);
        }
        dropped
    }

    fn is_job(&self, job_id: &str) -> bool {
        self.ctx.spec.job(job_id).is_some()
    }

    fn store_clip(&mut self, value: &Value, kind: DataclipType) -> (String, Option<NewClip>) {
        if let Some((_, id, _)) = self.outputs.iter().find(|(v, _, _)| v == value) {
            return (id.clone(), None);
        }
        let mut clean = value.clone();
        if let Value::Object(map) = &mut clean {
            map.remove("configuration");
        }
        self.scrubber.scrub_json(&mut clean);
        let text = clean.to_string();
        let too_large = text.len() > self.daemon.config.engine.max_dataclip_bytes;
        let id = new_id();
        let clip = NewClip {
            id: id.clone(),
            kind,
            size: text.len(),
            wipe: if self.ctx.erase_all {
                Some(WipeReason::ZeroPersistence)
            } else if too_large {
                Some(WipeReason::TooLarge)
            } else {
                None
            },
            index: if self.ctx.erase_all || too_large {
                None
            } else {
                Some(dataclips::index_text(&clean))
            },
            body: text,
        };
        (id, Some(clip))
    }

    fn handle(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::StepStarted {
                step_id,
                job_id,
                input,
            } => {
                if !self.is_job(&job_id) {
                    return;
                }
                let (clip_id, clip) = if self.first_step && Some(&input) == self.ctx.input.as_ref()
                {
                    (self.ctx.input_dataclip_id.clone(), None)
                } else {
                    self.store_clip(&input, DataclipType::StepResult)
                };
                self.first_step = false;
                let db_step = new_id();
                if self
                    .ctx
                    .spec
                    .job(&job_id)
                    .is_some_and(|j| !j.keeps_logs(&self.ctx.spec.settings))
                {
                    self.silent_steps.insert(step_id.clone());
                }
                self.steps.insert(step_id, db_step.clone());
                let job_name = self
                    .ctx
                    .spec
                    .job(&job_id)
                    .map(|j| j.name.clone())
                    .unwrap_or_else(|| job_id.clone());
                let (run, wo, project) = (
                    self.ctx.run_id.clone(),
                    self.ctx.work_order_id.clone(),
                    self.ctx.project_id.clone(),
                );
                let (step, job, name) = (db_step.clone(), job_id.clone(), job_name);
                // Times are taken as the engine reports them, not when the writer gets to them.
                let started_at = now_micros();
                self.daemon.store.writer.write_detached(move |tx| {
                    if let Some(clip) = &clip {
                        clip.insert(tx, &project, &wo, "input")?;
                    }
                    tx.prepare_cached("INSERT INTO steps (id, run_id, job_key, job_name, input_dataclip_id, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?.execute(params![step, run, job, name, clip_id, started_at],
                    )?;
                    tx.prepare_cached("INSERT INTO run_steps (run_id, step_id, attached) VALUES (?1, ?2, 0)")?.execute(params![run, step])?;
                    crate::refs::index_new(tx, "steps", &step)?;
                    Ok(())
                });
                self.expected.steps += 1;
                self.daemon.events.publish(Event::StepChanged {
                    id: db_step,
                    run_id: self.ctx.run_id.clone(),
                    job: job_id,
                    exit_reason: None,
                });
            }
            EngineEvent::Log {
                step_id,
                source,
                level,
                message,
                time,
            } => {
                // `enable_job_logs: false`, as Lightning's worker runs it (job log level
                // "none"): the job's console output — its code's and its adaptor's — is
                // neither stored nor streamed; the runtime's own lines stay.
                if is_console(&source)
                    && step_id
                        .as_deref()
                        .is_some_and(|s| self.silent_steps.contains(s))
                {
                    return;
                }
                // Triggers are steps to the engine but not to people: drop their chatter.
                if step_id.as_deref().is_some_and(|s| {
                    !self.steps.contains_key(s) && self.ctx.spec.triggers.iter().any(|t| t.key == s)
                }) {
                    return;
                }
                // Scrubbed whole before it is cut, so a cut can't leave half a secret.
                let message = cut_line(
                    self.scrubber.scrub(&message),
                    self.daemon.config.logs.max_line_bytes,
                );
                let line = PendingLine {
                    step: step_id.and_then(|s| self.steps.get(&s).cloned()),
                    source,
                    level,
                    message,
                    time,
                };
                let was_holding = self.log_caps.holding();
                if let (Admit::Store, Some(line)) =
                    self.log_caps.admit(line.message.len() as u64, line)
                {
                    self.store_line(line);
                } else if !was_holding {
                    self.store_line(PendingLine {
                        step: None,
                        source: NOTICE_SOURCE.into(),
                        level: LogLevel::Warn,
                        message: "bolt holds this run's log lines back from here on: it is near its log limits ([logs] in bolt.toml); the last lines are stored when the run ends, after a note of how many were dropped, if any".into(),
                        time,
                    });
                }
            }
            EngineEvent::StepFinished {
                step_id,
                job_id,
                exit_reason,
                error_type,
                error_message,
                output,
                ..
            } => {
                if !self.is_job(&job_id) {
                    return;
                }
                let Some(db_step) = self.steps.get(&step_id).cloned() else {
                    return;
                };
                let (clip_id, clip) = match &output {
                    Some(value) => {
                        let (id, clip) = self.store_clip(value, DataclipType::StepResult);
                        let stored = match &clip {
                            Some(clip) => clip.wipe.is_none(),
                            None => self.stored_output(&id),
                        };
                        self.outputs.push((value.clone(), id.clone(), stored));
                        if self.outputs.len() > 8 {
                            self.outputs.remove(0);
                        }
                        (Some(id), clip)
                    }
                    None => (None, None),
                };
                let message = error_message.map(|m| self.scrubber.scrub(&m));
                let (wo, project, step) = (
                    self.ctx.work_order_id.clone(),
                    self.ctx.project_id.clone(),
                    db_step.clone(),
                );
                let finished_at = now_micros();
                self.daemon.store.writer.write_detached(move |tx| {
                    if let Some(clip) = &clip {
                        clip.insert(tx, &project, &wo, "output")?;
                    }
                    tx.prepare_cached("UPDATE steps SET output_dataclip_id = ?2, exit_reason = ?3, error_type = ?4, error_message = ?5, finished_at = ?6 WHERE id = ?1")?.execute(params![step, clip_id, exit_reason.as_str(), error_type, message, finished_at],
                    )?;
                    Ok(())
                });
                self.expected.finished_steps += 1;
                self.daemon.events.publish(Event::StepChanged {
                    id: db_step,
                    run_id: self.ctx.run_id.clone(),
                    job: job_id,
                    exit_reason: Some(exit_reason),
                });
            }
        }
    }
}

/// Whether a log line is a job's console output (its code's or its adaptor's), not the
/// runtime's or bolt's.
fn is_console(source: &str) -> bool {
    matches!(source, "JOB" | "ADA")
}

/// A dataclip prepared outside the writer, inserted inside it.
struct NewClip {
    id: String,
    kind: DataclipType,
    body: String,
    size: usize,
    wipe: Option<WipeReason>,
    index: Option<String>,
}

impl NewClip {
    fn insert(
        &self,
        conn: &Connection,
        project: &str,
        work_order: &str,
        source: &str,
    ) -> StoreResult<()> {
        let now = now_micros();
        let body = if self.wipe.is_some() {
            None
        } else {
            Some(self.body.as_str())
        };
        conn.prepare_cached("INSERT INTO dataclips (id, project_id, type, body, size_bytes, wiped_at, wipe_reason, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(params![self.id, project, self.kind.as_str(), body, self.size as i64, self.wipe.map(|_| now), self.wipe.map(|w| w.as_str()), now],
        )?;
        if let Some(text) = &self.index {
            dataclips::index(conn, work_order, source, &self.id, text)?;
        }
        Ok(())
    }
}

async fn run_engine(
    daemon: &Arc<Daemon>,
    ctx: &RunContext,
    plan: engine::Plan,
    input: Value,
    scrubber: Scrubber,
    notes: Vec<String>,
    cancel: CancelToken,
) -> StoreResult<(Ending, Expected)> {
    let limits = Limits {
        step_timeout: ctx.run_timeout,
        memory_bytes: (ctx.memory_mb as usize).saturating_mul(1024 * 1024),
        max_state_bytes: daemon
            .config
            .engine
            .max_dataclip_bytes
            .max(1024 * 1024)
            .saturating_mul(10),
    };
    let (events, mut incoming) = tokio::sync::mpsc::unbounded_channel();
    let engine_cancel = cancel.clone();
    let gate = Arc::new(EventGate::new(EVENTS_IN_FLIGHT));
    let adaptors = engine::adaptors::choice::AdaptorSources::installed(
        engine::adaptors::installed::InstalledAdaptors::in_data_dir(&daemon.data_dir),
    );
    let mut engine = tokio::spawn(engine::execute_gated(
        plan,
        input,
        limits,
        adaptors,
        events,
        engine_cancel,
        gate.clone(),
    ));
    let mut recorder = Recorder {
        daemon,
        ctx,
        scrubber,
        log_caps: LogCaps::new(&daemon.config.logs),
        unconfirmed_lines: 0,
        steps: HashMap::new(),
        silent_steps: HashSet::new(),
        outputs: Vec::new(),
        first_step: true,
        expected: Expected::default(),
    };
    for message in notes {
        recorder.handle(EngineEvent::Log {
            step_id: None,
            source: "R/T".into(),
            level: LogLevel::Warn,
            message,
            time: chrono::Utc::now(),
        });
    }
    let deadline = tokio::time::sleep(ctx.run_timeout + Duration::from_secs(5));
    tokio::pin!(deadline);
    let mut timed_out = false;
    let outcome: Option<RunOutcome> = loop {
        if recorder.unconfirmed_lines >= LINES_PER_CONFIRMATION {
            // Wait for the log lines written so far to be committed before taking more:
            // a job logging faster than the disk then waits (see EVENTS_IN_FLIGHT) instead
            // of queueing its lines in memory. A refused write fails the line, not the run,
            // and a stuck disk holds the run up for a while, not for good.
            recorder.unconfirmed_lines = 0;
            let confirmed = daemon.store.writer.write_repeatable(|_| Ok(()));
            let _ = tokio::time::timeout(CONFIRMATION_WAIT, confirmed).await;
        }
        tokio::select! {
            Some(event) = incoming.recv() => {
                gate.taken();
                recorder.handle(event);
            }
            done = &mut engine => {
                while let Ok(event) = incoming.try_recv() {
                    gate.taken();
                    recorder.handle(event);
                }
                break done.ok();
            }
            _ = &mut deadline, if !timed_out => {
                // The engine bounds each step; this bounds the whole run.
                timed_out = true;
                cancel.cancel();
            }
        }
    };
    gate.close();
    let logs_dropped = recorder.flush_held_lines();
    let expected = recorder.expected;
    let Some(outcome) = outcome else {
        return Ok((
            Ending {
                state: RunState::Exception,
                error_type: Some("ExecutionError".into()),
                error_message: Some("the engine stopped unexpectedly".into()),
                final_state: None,
                final_dataclip_id: None,
                logs_dropped,
            },
            expected,
        ));
    };
    if timed_out {
        return Ok((
            Ending {
                state: RunState::Killed,
                error_type: Some("TimeoutError".into()),
                error_message: Some(format!(
                    "the run took longer than its {} s limit",
                    ctx.run_timeout.as_secs()
                )),
                final_state: None,
                final_dataclip_id: None,
                logs_dropped,
            },
            expected,
        ));
    }
    let mut final_state = outcome.final_state;
    // Usually the final state is the last step's output: point at that dataclip rather
    // than store the same body twice.
    let final_dataclip_id = final_state.as_ref().and_then(|s| recorder.dataclip_of(s));
    if let Some(state) = &mut final_state {
        recorder.scrubber.scrub_json(state);
    }
    Ok((
        Ending {
            state: outcome.exit_reason.run_state(),
            error_type: outcome.error_type,
            error_message: outcome.error_message.map(|m| recorder.scrubber.scrub(&m)),
            final_state,
            final_dataclip_id,
            logs_dropped,
        },
        expected,
    ))
}

/// How a run's final write went.
enum Finished {
    /// Recorded as it ended: the work order's state and the retry its policy queued.
    Recorded(WorkOrderState, Option<String>),
    /// Some of its records were lost to a disk fault: ended as unrecorded and queued again.
    Requeued(Requeued),
}

/// Records how the run ended. If the store had a disk fault since the run began and some
/// of its records did not make it, it is ended as unrecorded and queued again instead.
async fn finish(
    daemon: &Arc<Daemon>,
    ctx: &RunContext,
    ending: Ending,
    expected: Expected,
    faults: u64,
) -> StoreResult<()> {
    let run_id = ctx.run_id.clone();
    let wo = ctx.work_order_id.clone();
    let project = ctx.project_id.clone();
    let state = ending.state;
    let retry = retry_of(ctx, state);
    let reused_clip = ending.final_dataclip_id.clone();
    let final_body = if ctx.erase_all || reused_clip.is_some() {
        None
    } else {
        ending.final_state.as_ref().map(Value::to_string)
    };
    let (error_type, error_message) = (ending.error_type.clone(), ending.error_message.clone());
    let logs_dropped = ending.logs_dropped;
    let version_id = ctx.version_id.clone();
    let start = ctx.starting_job.clone();
    let input_clip = ctx.input_dataclip_id.clone();
    let health = daemon.store.health.clone();
    let finished = daemon
        .store
        .writer
        .write_repeatable(move |tx| {
            // On the writer thread, in order after the run's own records: a fault counted
            // here happened before this write.
            if health.faults() != faults
                && !unrecorded::records_complete(tx, &run_id, &expected)?
                && let Some(requeued) = unrecorded::end_and_requeue(
                    tx,
                    &run_id,
                    "the disk refused some of its records while it ran",
                )?
            {
                return Ok(Finished::Requeued(requeued));
            }
            let final_clip = match &final_body {
                Some(body) => Some(dataclips::insert(
                    tx,
                    &NewDataclip { project_id: Some(&project), kind: DataclipType::StepResult, body: Some(body), request: None, name: None, wipe_reason: None, size_bytes: None },
                )?),
                None => reused_clip.clone(),
            };
            tx.prepare_cached("UPDATE runs SET state = ?2, error_type = ?3, error_message = ?4, finished_at = ?5, final_dataclip_id = ?6 WHERE id = ?1")?.execute(params![run_id, state.as_str(), error_type, error_message, now_micros(), final_clip],
            )?;
            if crate::notify::events::FAILED_STATES.contains(&state.as_str()) {
                crate::notify::events::run_ended(tx, &run_id)?;
            }
            if logs_dropped.lines > 0 {
                tx.prepare_cached("UPDATE runs SET log_lines_dropped = ?2, log_bytes_dropped = ?3 WHERE id = ?1")?
                    .execute(params![run_id, logs_dropped.lines as i64, logs_dropped.bytes as i64])?;
            }
            let retry_run = match retry {
                Some((attempt, not_before)) => Some(insert_run(tx, &wo, &version_id, start.as_deref(), &input_clip, Origin::Retry, 1, attempt, not_before)?),
                None => None,
            };
            Ok(Finished::Recorded(refresh_work_order(tx, &wo)?, retry_run))
        })
        .await?;
    let (wo_state, retry_run) = match finished {
        Finished::Recorded(wo_state, retry_run) => (wo_state, retry_run),
        Finished::Requeued(requeued) => {
            tracing::warn!(run = %ctx.run_id, retry = ?requeued.retry, "a run lost records to a disk fault: queued again");
            unrecorded::announce(daemon, &requeued);
            return Ok(());
        }
    };
    daemon.events.publish(Event::RunChanged {
        id: ctx.run_id.clone(),
        work_order_id: ctx.work_order_id.clone(),
        state,
        created: false,
    });
    if let Some(run) = retry_run {
        daemon.events.publish(Event::RunChanged {
            id: run,
            work_order_id: ctx.work_order_id.clone(),
            state: RunState::Available,
            created: true,
        });
        daemon.queue.notify_one();
    }
    daemon.events.publish(Event::WorkOrderChanged {
        id: ctx.work_order_id.clone(),
        state: wo_state,
        created: false,
    });
    Ok(())
}

/// (attempt, not_before) of the retry the workflow's policy asks for, if any.
fn retry_of(ctx: &RunContext, state: RunState) -> Option<(i64, i64)> {
    let failed = matches!(
        state,
        RunState::Failed
            | RunState::Crashed
            | RunState::Killed
            | RunState::Exception
            | RunState::Lost
    );
    if !failed || ctx.attempt >= ctx.max_attempts || ctx.erase_all || ctx.input.is_none() {
        return None;
    }
    let delay = ctx
        .backoff_secs
        .max(0)
        .saturating_mul(1 << (ctx.attempt - 1).clamp(0, 16));
    Some((ctx.attempt + 1, now_micros() + delay * 1_000_000))
}

/// Retries for runs found lost at start-up, per their workflow's policy.
pub fn retry_lost(conn: &Connection, lost: &[(String, String)]) -> StoreResult<Vec<String>> {
    let mut queued = Vec::new();
    for (run_id, work_order_id) in lost {
        let row: Option<LostRow> = conn
            .prepare_cached("SELECT r.version_id, r.starting_job, r.dataclip_id, r.attempt, w.max_attempts, w.retry_backoff_secs, p.retention_policy, d.body
                 FROM runs r JOIN work_orders wo ON wo.id = r.work_order_id JOIN workflows w ON w.id = wo.workflow_id
                 JOIN projects p ON p.id = w.project_id LEFT JOIN dataclips d ON d.id = r.dataclip_id WHERE r.id = +?1")?
            .query_row([run_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?)),
            )
            .optional()?;
        let Some((version, start, clip, attempt, max, backoff, policy, body)) = row else {
            continue;
        };
        if attempt >= max || policy == "erase_all" || body.is_none() {
            continue;
        }
        let delay = backoff
            .max(0)
            .saturating_mul(1 << (attempt - 1).clamp(0, 16));
        let run = insert_run(
            conn,
            work_order_id,
            &version,
            start.as_deref(),
            &clip,
            Origin::Retry,
            1,
            attempt + 1,
            now_micros() + delay * 1_000_000,
        )?;
        refresh_work_order(conn, work_order_id)?;
        queued.push(run);
    }
    Ok(queued)
}
