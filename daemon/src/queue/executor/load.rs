//! What a run needs before it starts: its context, read in one statement, and its input,
//! credentials and collections access.

use super::Ending;
use crate::collections::{self, token::LiveToken};
use crate::daemon::Daemon;
use crate::engine::{self};
use crate::log_caps::Dropped;
use crate::project::WorkflowSpec;
use crate::queue::plan;
use crate::secrets::Scrubber;
use crate::store::dataclips::{self};
use crate::store::{StoreError, StoreResult};
use crate::{credentials, workflows};
use bolt_shared::model::*;
use bolt_sql::Db;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Everything a run needs, read once before it starts.
pub(super) struct RunContext {
    pub(super) run_id: String,
    pub(super) work_order_id: String,
    pub(super) project_id: String,
    pub(super) version_id: String,
    pub(super) spec: WorkflowSpec,
    pub(super) start: Option<String>,
    pub(super) starting_job: Option<String>,
    pub(super) input_dataclip_id: String,
    pub(super) input: Option<Value>,
    pub(super) input_wiped: Option<WipeReason>,
    pub(super) erase_all: bool,
    pub(super) attempt: i64,
    pub(super) max_attempts: i64,
    pub(super) backoff_secs: i64,
    pub(super) run_timeout: Duration,
    pub(super) memory_mb: u64,
}

/// Reads everything a run needs (one statement) and its pinned workflow version.
pub(super) fn load_context(
    db: &dyn Db,
    run_id: &str,
    daemon_config: &bolt_shared::Config,
) -> StoreResult<RunContext> {
    let row = crate::store::runs::to_execute(db, run_id)?;
    let crate::store::runs::RunToExecute {
        work_order_id,
        version_id,
        starting_job,
        dataclip_id,
        attempt,
        project_id,
        retention_policy: policy,
        max_attempts,
        retry_backoff_secs: backoff,
        run_timeout_secs: timeout,
        memory_limit_mb: memory,
        input_type: kind,
        input_body: body,
        input_request: request,
        input_wipe_reason: wipe_reason,
        trigger_key,
    } = row;
    let (_, spec) = workflows::version(db, &version_id)?;
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

/// What a run needs from [`prepare`] to start.
pub(super) struct Prepared {
    pub(super) plan: engine::Plan,
    pub(super) input: Value,
    pub(super) scrubber: Scrubber,
    /// Lines for the run's log before its first step (what boltd noticed about the run).
    pub(super) notes: Vec<String>,
    /// Held while the run lasts: its collections API token works only until dropped.
    pub(super) collections_token: Option<LiveToken>,
}

/// Checks the input and credentials; loads credentials (and collections access) into the plan.
pub(super) async fn prepare(
    daemon: &Arc<Daemon>,
    ctx: &RunContext,
) -> StoreResult<Result<Prepared, Ending>> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::suite;
    use crate::store::work_orders::fixture;

    const SNAPSHOT: &str = r#"{"key":"w","name":"W","jobs":[{"key":"a","name":"A","adaptor":"@openfn/language-common@3.3.4","body":"fn(s => s)"}],"triggers":[],"edges":[]}"#;

    #[test]
    fn a_run_context_holds_its_spec_input_and_limits() {
        suite::on_each_backend(|db| {
            fixture::one_run(db, "claimed");
            suite::seed(
                db,
                &format!(
                    "UPDATE workflow_versions SET snapshot = '{SNAPSHOT}' WHERE id = 'v-w';
                     UPDATE workflows SET run_timeout_secs = 999999 WHERE id = 'w';
                     UPDATE dataclips SET type = 'http_request', request = '{{\"method\":\"POST\"}}' WHERE id = 'in-wo'"
                ),
            );
            let config = bolt_shared::Config::default();
            let ctx = load_context(db, "r1", &config).unwrap();
            assert_eq!(
                (ctx.work_order_id.as_str(), ctx.project_id.as_str()),
                ("wo", "p")
            );
            assert_eq!(ctx.spec.jobs[0].key, "a");
            assert_eq!(ctx.start.as_deref(), Some("a"));
            assert_eq!(
                ctx.input,
                Some(serde_json::json!({"data": {"n": 1}, "request": {"method": "POST"}}))
            );
            assert_eq!(ctx.input_wiped, None);
            assert!(!ctx.erase_all);
            assert_eq!(
                (ctx.attempt, ctx.max_attempts, ctx.backoff_secs),
                (1, 3, 10)
            );
            // Past the operator's ceiling, the ceiling holds.
            assert_eq!(
                ctx.run_timeout,
                Duration::from_secs(config.engine.max_run_timeout_secs)
            );

            suite::seed(
                db,
                "UPDATE dataclips SET body = NULL, wipe_reason = 'zero_persistence' WHERE id = 'in-wo'",
            );
            let wiped = load_context(db, "r1", &config).unwrap();
            assert_eq!(wiped.input, None);
            assert_eq!(wiped.input_wiped, Some(WipeReason::ZeroPersistence));
            assert!(matches!(
                load_context(db, "none", &config),
                Err(StoreError::NotFound(_))
            ));
        });
    }
}
