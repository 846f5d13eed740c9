//! Recording a run as it happens: engine events become steps, dataclips and log lines
//! (scrubbed, within the run's log caps), committed in batches.

use super::load::RunContext;
use crate::daemon::Daemon;
use crate::engine::EngineEvent;
use crate::log_caps::{Admit, Dropped, LogCaps, cut_line};
use crate::queue::unrecorded::Expected;
use crate::secrets::Scrubber;
use crate::store::dataclips::{self, PreparedClip};
use crate::store::steps::{NewStep, StepEnd};
use crate::store::{logs, new_id, now_micros, steps};
use bolt_shared::model::*;
use bolt_shared::protocol::Event;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Engine events a run may have sent that its recorder has not taken yet; past it the job
/// waits. With [`LINES_PER_CONFIRMATION`] this bounds what a chatty run holds in memory.
pub(super) const EVENTS_IN_FLIGHT: usize = 1024;
/// Log lines handed to the store's writer before the recorder waits for them to commit.
pub(super) const LINES_PER_CONFIRMATION: usize = 4096;
/// The longest the recorder waits for that commit.
pub(super) const CONFIRMATION_WAIT: Duration = Duration::from_secs(5);

/// Where bolt's own notes in a run's log come from.
pub(super) const NOTICE_SOURCE: &str = "BOLT";

/// A log line before it has an id (held back by the log caps, or about to be stored).
pub(super) struct PendingLine {
    pub(super) step: Option<String>,
    pub(super) source: String,
    pub(super) level: LogLevel,
    pub(super) message: String,
    pub(super) time: chrono::DateTime<chrono::Utc>,
}

/// Records engine events as they arrive.
pub(super) struct Recorder<'a> {
    pub(super) daemon: &'a Arc<Daemon>,
    pub(super) ctx: &'a RunContext,
    pub(super) scrubber: Scrubber,
    pub(super) log_caps: LogCaps<PendingLine>,
    /// Log lines handed to the writer since it last confirmed a commit.
    pub(super) unconfirmed_lines: usize,
    /// engine step id → stored step id
    pub(super) steps: HashMap<String, String>,
    /// Engine step ids of jobs whose console output is not kept (`enable_job_logs: false`).
    pub(super) silent_steps: HashSet<String>,
    /// Recent outputs, their dataclip ids and whether the body is stored, so a step's
    /// input and the run's final state reuse the dataclip of the output they equal.
    pub(super) outputs: Vec<(Value, String, bool)>,
    pub(super) first_step: bool,
    /// What it queued for the store, to check before the run is recorded as finished.
    pub(super) expected: Expected,
}

impl Recorder<'_> {
    pub(super) fn stored_output(&self, id: &str) -> bool {
        self.outputs
            .iter()
            .any(|(_, known, stored)| known == id && *stored)
    }

    /// The stored dataclip of a step output equal to `state`, if there is one.
    pub(super) fn dataclip_of(&self, state: &Value) -> Option<String> {
        self.outputs
            .iter()
            .rev()
            .find(|(value, _, stored)| *stored && value == state)
            .map(|(_, id, _)| id.clone())
    }

    pub(super) fn store_line(&mut self, line: PendingLine) {
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
            logs::insert(tx, &stored)?;
            dataclips::index(tx, &wo, "log", &stored.id.to_string(), &stored.message)
        });
        self.daemon.events.publish(Event::Log(line));
    }

    /// Stores the lines held back by the log caps, after a notice of what was dropped.
    pub(super) fn flush_held_lines(&mut self) -> Dropped {
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

    pub(super) fn is_job(&self, job_id: &str) -> bool {
        self.ctx.spec.job(job_id).is_some()
    }

    pub(super) fn store_clip(
        &mut self,
        value: &Value,
        kind: DataclipType,
    ) -> (String, Option<PreparedClip>) {
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
        let clip = PreparedClip {
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

    pub(super) fn handle(&mut self, event: EngineEvent) {
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
                        dataclips::insert_prepared(tx, clip, &project, &wo, "input")?;
                    }
                    steps::insert(
                        tx,
                        &NewStep {
                            id: &step,
                            run_id: &run,
                            job_key: &job,
                            job_name: &name,
                            input_dataclip_id: &clip_id,
                            started_at,
                        },
                    )
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
                duration,
            } => {
                if !self.is_job(&job_id) {
                    return;
                }
                self.daemon.metrics.step_finished(exit_reason, duration);
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
                        dataclips::insert_prepared(tx, clip, &project, &wo, "output")?;
                    }
                    steps::finish(
                        tx,
                        &StepEnd {
                            id: &step,
                            output_dataclip_id: clip_id.as_deref(),
                            exit_reason,
                            error_type: error_type.as_deref(),
                            error_message: message.as_deref(),
                            finished_at,
                        },
                    )
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
pub(super) fn is_console(source: &str) -> bool {
    matches!(source, "JOB" | "ADA")
}
