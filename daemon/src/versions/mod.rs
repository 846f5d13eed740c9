//! Workflow version history: listing versions, comparing two, and rolling back.
//!
//! Every change to a workflow writes an immutable snapshot (`workflow_versions`); runs pin
//! the snapshot they were created with. A rollback never edits history: it writes a new
//! version equal to the old one (or with one job as it was), so runs in flight keep theirs
//! and the rollback itself shows in `bolt versions`.

pub mod compare;

use crate::credentials;
use crate::project::{self, WorkflowSpec};
use crate::store::{self, StoreError, StoreResult, from_micros, now_micros};
use crate::workflows::{self, Deployed};
use bolt_shared::versions::*;
use bolt_sql::Db;

pub fn workflow_ref(deployed: &Deployed) -> WorkflowRef {
    WorkflowRef {
        id: deployed.id.clone(),
        project: deployed.project.clone(),
        key: deployed.spec.key.clone(),
        name: deployed.spec.name.clone(),
    }
}

fn parse_snapshot(key: &str, version: i64, snapshot: &str) -> StoreResult<WorkflowSpec> {
    serde_json::from_str(snapshot).map_err(|e| {
        StoreError::Invalid(format!(
            "version {version} of workflow {key} is unreadable: {e}"
        ))
    })
}

fn parse_origin(origin: Option<&str>) -> VersionOrigin {
    origin
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(VersionOrigin::Unknown)
}

/// Every version of a workflow, newest first, each with what changed since the one before.
pub fn list(db: &dyn Db, reference: &str) -> StoreResult<VersionList> {
    let deployed = workflows::find(db, reference)?;
    let rows = store::versions::all(db, &deployed.id)?;
    let mut versions = Vec::with_capacity(rows.len());
    let mut previous: Option<(i64, WorkflowSpec)> = None;
    for row in rows {
        let spec = parse_snapshot(&deployed.spec.key, row.version, &row.snapshot)?;
        let summary = match &previous {
            Some((before, old)) => {
                compare::summary(&compare::compare(old, &spec, *before, row.version))
            }
            None => compare::created_summary(&spec),
        };
        versions.push(VersionInfo {
            version: row.version,
            hash: row.hash,
            created_at: from_micros(row.created_at),
            actor: row.actor,
            origin: parse_origin(row.origin.as_deref()),
            summary,
        });
        previous = Some((row.version, spec));
    }
    versions.reverse();
    Ok(VersionList {
        workflow: workflow_ref(&deployed),
        current: deployed.version,
        versions,
    })
}

/// One version's snapshot, with an error that says which versions there are.
pub fn load(db: &dyn Db, deployed: &Deployed, version: i64) -> StoreResult<WorkflowSpec> {
    match store::versions::snapshot(db, &deployed.id, version)? {
        Some(snapshot) => parse_snapshot(&deployed.spec.key, version, &snapshot),
        None => {
            let range = store::versions::range(db, &deployed.id)?;
            let known = match (range.first, range.last) {
                (Some(first), Some(last)) if first == last => format!("its only version is {last}"),
                (Some(first), Some(last)) => format!("its versions are {first} to {last}"),
                _ => "it has no versions".to_string(),
            };
            Err(StoreError::Invalid(format!(
                "workflow {} has no version {version}; {known} (see `bolt versions {}`)",
                deployed.spec.key, deployed.spec.key
            )))
        }
    }
}

/// What differs between versions `from` and `to` (default: the latest, and the one before
/// `to`).
pub fn diff(
    db: &dyn Db,
    reference: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> StoreResult<WorkflowDiff> {
    let deployed = workflows::find(db, reference)?;
    let to = to.unwrap_or(deployed.version);
    let from = match from {
        Some(from) => from,
        None if to <= 1 => {
            return Err(StoreError::Invalid(format!(
                "version {to} of workflow {} is its first: there is nothing before it to compare with (name two versions: `bolt diff {} V1 V2`)",
                deployed.spec.key, deployed.spec.key
            )));
        }
        None => to - 1,
    };
    let new = load(db, &deployed, to)?;
    let old = load(db, &deployed, from)?;
    let differences = compare::compare(&old, &new, from, to);
    Ok(WorkflowDiff {
        workflow: workflow_ref(&deployed),
        from,
        to,
        settings: differences.settings,
        globals: differences.globals,
        jobs: differences.jobs,
        triggers: differences.triggers,
        edges: differences.edges,
    })
}

/// Writes a new version equal to version `to` (or the current one with `job` as it was in
/// `to`), inside the caller's transaction. Audited; runs keep the versions they pinned.
pub fn rollback(
    db: &dyn Db,
    reference: &str,
    to: i64,
    job: Option<&str>,
) -> StoreResult<RollbackReport> {
    let deployed = workflows::find(db, reference)?;
    let target = load(db, &deployed, to)?;
    let current = &deployed.spec;
    let (wanted, job_key) = match job {
        None => (target, None),
        Some(job) => {
            let (spec, key) = with_job_from(current, &target, job, to)?;
            (spec, Some(key))
        }
    };
    let mut report = RollbackReport {
        workflow: workflow_ref(&deployed),
        from: deployed.version,
        to,
        job: job_key.clone(),
        new_version: None,
        changes: Vec::new(),
        warnings: Vec::new(),
    };
    let differences = compare::compare(current, &wanted, deployed.version, to);
    if &wanted == current {
        return Ok(report);
    }
    check_paths(db, &deployed, &wanted)?;
    report.warnings = warnings(db, &wanted, job_key.as_deref())?;
    let origin = VersionOrigin::Rollback {
        to,
        job: job_key.clone(),
    };
    project::write_workflow(db, &deployed.project_id, &wanted, now_micros(), &origin)?;
    let new_version = deployed.version + 1;
    report.new_version = Some(new_version);
    report.changes = compare::parts(&differences);
    project::audit(
        db,
        "rolled_back",
        "workflow",
        &deployed.spec.key,
        Some(serde_json::json!({
            "project": deployed.project,
            "from": deployed.version,
            "to": to,
            "job": job_key,
            "new_version": new_version,
        })),
    )?;
    Ok(report)
}

/// The current workflow with one job (by key or name) as it was in version `to`.
fn with_job_from(
    current: &WorkflowSpec,
    target: &WorkflowSpec,
    job: &str,
    to: i64,
) -> StoreResult<(WorkflowSpec, String)> {
    let matches = |j: &&project::JobSpec| j.key == job || j.name.eq_ignore_ascii_case(job);
    let Some(old) = target.jobs.iter().find(matches) else {
        let keys: Vec<&str> = target.jobs.iter().map(|j| j.key.as_str()).collect();
        return Err(StoreError::Invalid(format!(
            "version {to} of workflow {} has no job `{job}`; its jobs were: {}",
            current.key,
            keys.join(", ")
        )));
    };
    let mut spec = current.clone();
    let Some(slot) = spec.jobs.iter_mut().find(|j| j.key == old.key) else {
        return Err(StoreError::Invalid(format!(
            "job `{}` is no longer in workflow {}: roll back the whole workflow to bring it back (`bolt rollback {} --to {to}`)",
            old.key, current.key, current.key
        )));
    };
    *slot = old.clone();
    Ok((spec, old.key.clone()))
}

/// A webhook path the restored version uses may belong to another workflow by now.
fn check_paths(db: &dyn Db, deployed: &Deployed, wanted: &WorkflowSpec) -> StoreResult<()> {
    for trigger in &wanted.triggers {
        let Some(path) = &trigger.custom_path else {
            continue;
        };
        if let Some(owner) = store::workflows::custom_path_owner(db, path, &deployed.id)? {
            return Err(StoreError::Invalid(format!(
                "trigger `{}` of that version answers on /i/{path}, which workflow {owner} uses now; nothing was changed (give one of them another custom_path first)",
                trigger.key
            )));
        }
    }
    Ok(())
}

/// Credentials the restored version names that are not set now.
fn warnings(
    db: &dyn Db,
    wanted: &WorkflowSpec,
    only_job: Option<&str>,
) -> StoreResult<Vec<String>> {
    let mut out = Vec::new();
    for job in &wanted.jobs {
        if only_job.is_some_and(|k| k != job.key) {
            continue;
        }
        if let Some(name) = &job.credential
            && !credentials::exists(db, name)?
        {
            out.push(format!(
                "job `{}` uses credential `{name}`, which no longer exists: its runs will fail until you run `bolt credential set '{name}' --from-file credential.json`",
                job.name
            ));
        }
    }
    if only_job.is_none() {
        for trigger in &wanted.triggers {
            for name in &trigger.webhook_auth {
                if !credentials::exists(db, name)? {
                    out.push(format!(
                        "trigger `{}` checks webhooks against credential `{name}`, which no longer exists: its requests will be refused until you set it again",
                        trigger.key
                    ));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
