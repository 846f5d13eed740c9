//! What a project's jobs need installed, and getting it there at deploy time, as Lightning's
//! worker and the OpenFn CLI's autoinstall do.
//!
//! - Jobs naming language-common 3.x or language-http 7.x (or those adaptors unpinned) run
//!   on bolt's built-in adaptors: nothing to install.
//! - Any other adaptor version is installed when missing. `@latest` (or no version) is
//!   resolved against the registry at deploy time; the resolved version is shown and
//!   recorded with the job, while the project keeps what the user wrote.
//! - With `--no-install`, in a dry run, or with the registry unreachable, deploy goes on and
//!   warns, naming the commands that install what is missing (jobs naming another major of
//!   common/http run on the built-in major meanwhile; others fail until it is installed).
//! - An adaptor that needs a Node built-in bolt cannot provide refuses the deploy, naming
//!   the adaptor and the modules. So does an adaptor the registry says does not exist.

use super::{AddRequest, InstallError, Installer, Report};
use crate::engine::adaptors;
use crate::engine::adaptors::installed::{InstalledAdaptor, InstalledAdaptors};
use crate::engine::adaptors::spec::{AdaptorSpec, VersionWanted};
use crate::engine::node::{self, Builtin};
use crate::project::{ProjectSpec, WorkflowSpec};
use bolt_shared::adaptors::{DeployAdaptor, DeployAdaptorStatus};
use std::collections::BTreeMap;

/// What one adaptor spelling needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Need {
    /// bolt's built-in language-common 3.x / language-http 7.x serves it.
    BuiltIn,
    /// A real npm package version.
    Package(AdaptorSpec),
    /// Not an adaptor bolt can find (the message says why); left to the runs.
    Unreadable(String),
}

pub fn need(adaptor: &str) -> Need {
    let spec = match AdaptorSpec::parse(adaptor) {
        Ok(spec) => spec,
        Err(error) => {
            // The built-in resolver has always accepted any version text after a known name.
            return if adaptors::resolve(adaptor).is_ok() {
                Need::BuiltIn
            } else {
                Need::Unreadable(error.to_string())
            };
        }
    };
    if spec.local_path.is_some() {
        return Need::Unreadable(format!(
            "{adaptor} names a local package directory, which only `bolt execute` uses"
        ));
    }
    let built_in = adaptors::all().iter().find(|a| a.specifier == spec.name);
    match (built_in, &spec.version) {
        (Some(_), VersionWanted::Latest) => Need::BuiltIn,
        (Some(module), VersionWanted::Exact(version))
            if super::versions::same_major(version, module.version) =>
        {
            Need::BuiltIn
        }
        _ => Need::Package(spec),
    }
}

/// The result of preparing a deploy's adaptors.
#[derive(Debug, Default)]
pub struct Prepared {
    pub adaptors: Vec<DeployAdaptor>,
    pub warnings: Vec<String>,
    /// Adaptor spellings whose `@latest` was resolved → `name@version`.
    pub resolved: BTreeMap<String, String>,
    /// Some `@latest` could not be resolved now ([`record_resolutions`] then keeps the
    /// last deploy's version).
    pub unresolved_latest: bool,
}

/// Writes each job's `resolved_adaptor`: what `@latest` resolved to now, else (when it
/// could not be resolved now) what the last deploy of the same job recorded, while that
/// version is still installed.
pub fn record_resolutions(
    spec: &mut ProjectSpec,
    prepared: &Prepared,
    previous: &BTreeMap<String, WorkflowSpec>,
    installed: &InstalledAdaptors,
) {
    let still_installed = |resolved: &String| {
        AdaptorSpec::parse(resolved).is_ok_and(|spec| {
            spec.exact_version()
                .is_some_and(|version| installed.find(&spec.name, version).is_some())
        })
    };
    for workflow in &mut spec.workflows {
        for job in &mut workflow.jobs {
            job.resolved_adaptor = prepared.resolved.get(&job.adaptor).cloned().or_else(|| {
                previous
                    .get(&workflow.key)
                    .and_then(|old| old.job(&job.key))
                    .filter(|old| old.adaptor == job.adaptor)
                    .and_then(|old| old.resolved_adaptor.clone())
                    .filter(still_installed)
            });
        }
    }
}

/// What deploy may do about adaptors.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub install: bool,
    pub dry_run: bool,
}

/// Finds, resolves and (unless told not to) installs the adaptors `spec` needs. `Err` is
/// a refusal: nothing may be deployed.
pub async fn prepare(
    installer: &Installer,
    spec: &ProjectSpec,
    mode: Mode,
    report: Report<'_>,
) -> Result<Prepared, String> {
    let mut by_adaptor: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for workflow in &spec.workflows {
        for job in &workflow.jobs {
            // A job that uses `collections.` gets the collections adaptor too.
            for adaptor in crate::collections::adaptors_for_job(&job.adaptor, &job.body) {
                by_adaptor
                    .entry(adaptor)
                    .or_default()
                    .push(format!("{} / {}", workflow.name, job.name));
            }
        }
    }
    let mut prepared = Prepared::default();
    let mut refusals = Vec::new();
    let mut registry_down: Option<String> = None;
    for (text, jobs) in by_adaptor {
        let spec =
            match need(&text) {
                Need::BuiltIn => {
                    prepared.adaptors.push(DeployAdaptor {
                        adaptor: text,
                        resolved: None,
                        status: DeployAdaptorStatus::BuiltIn,
                        jobs,
                    });
                    continue;
                }
                Need::Unreadable(why) => {
                    prepared.warnings.push(format!(
                    "{} adaptor `{text}`, which bolt cannot use ({why}): {} fail until it is fixed",
                    names(&jobs),
                    if jobs.len() == 1 { "its runs" } else { "their runs" },
                ));
                    continue;
                }
                Need::Package(spec) => spec,
            };
        let (version, recorded) = match &spec.version {
            VersionWanted::Exact(version) => (Some(version.clone()), false),
            VersionWanted::Latest if mode.install && registry_down.is_none() => {
                match installer.latest(&spec.name).await {
                    Ok(version) => (Some(version), true),
                    Err(error) if error.is_unreachable() => {
                        registry_down = Some(error.to_string());
                        (None, false)
                    }
                    Err(error) => {
                        refusals.push(format!("{} {text}: {error}", names(&jobs)));
                        continue;
                    }
                }
            }
            VersionWanted::Latest => (None, false),
        };
        let Some(version) = version else {
            // `@latest` unresolved: runs use the newest installed version, if any.
            prepared.unresolved_latest = true;
            let newest = installer.adaptors().versions(&spec.name).into_iter().next();
            let status = if newest.is_some() {
                DeployAdaptorStatus::Installed
            } else {
                DeployAdaptorStatus::Missing
            };
            match (&newest, &registry_down) {
                (Some(installed), Some(why)) => prepared.warnings.push(format!(
                    "{why}\n  {text} could not be resolved: {} run the newest installed version, {}",
                    jobs_label(&jobs),
                    installed.manifest.version
                )),
                (None, why) => prepared.warnings.push(missing_warning(
                    &spec.name,
                    &text,
                    &format!("{}@latest", spec.name),
                    &jobs,
                    why.as_deref(),
                )),
                _ => {}
            }
            if let Some(installed) = newest {
                check_builtins(installer, installed, &jobs, &mut refusals, report).await;
            }
            prepared.adaptors.push(DeployAdaptor {
                adaptor: text,
                resolved: None,
                status,
                jobs,
            });
            continue;
        };
        let exact = format!("{}@{version}", spec.name);
        if recorded {
            prepared.resolved.insert(text.clone(), exact.clone());
        }
        let mut status = DeployAdaptorStatus::Installed;
        let installed = match installer.adaptors().find(&spec.name, &version) {
            Some(installed) => Some(installed),
            None if mode.dry_run => {
                status = DeployAdaptorStatus::Missing;
                prepared.warnings.push(format!(
                    "dry run: deploy would install {exact} for {}",
                    jobs_label(&jobs)
                ));
                None
            }
            None if !mode.install || registry_down.is_some() => {
                status = DeployAdaptorStatus::Missing;
                prepared.warnings.push(missing_warning(
                    &spec.name,
                    &text,
                    &exact,
                    &jobs,
                    registry_down.as_deref(),
                ));
                None
            }
            None => match install(installer, &spec.name, &version, report).await {
                Ok(installed) => {
                    status = DeployAdaptorStatus::InstalledNow;
                    Some(installed)
                }
                Err(error) if error.is_unreachable() => {
                    let why = error.to_string();
                    status = DeployAdaptorStatus::Missing;
                    prepared.warnings.push(missing_warning(
                        &spec.name,
                        &text,
                        &exact,
                        &jobs,
                        Some(&why),
                    ));
                    registry_down = Some(why);
                    None
                }
                Err(error) => {
                    refusals.push(format!(
                        "{} {text}, which cannot be installed: {error}",
                        uses(&jobs)
                    ));
                    continue;
                }
            },
        };
        if let Some(installed) = installed {
            check_builtins(installer, installed, &jobs, &mut refusals, report).await;
        }
        prepared.adaptors.push(DeployAdaptor {
            adaptor: text,
            resolved: Some(exact),
            status,
            jobs,
        });
    }
    if refusals.is_empty() {
        Ok(prepared)
    } else {
        Err(format!("{}\nnothing was deployed", refusals.join("\n")))
    }
}

async fn install(
    installer: &Installer,
    name: &str,
    version: &str,
    report: Report<'_>,
) -> Result<InstalledAdaptor, InstallError> {
    let spec = AdaptorSpec {
        name: name.to_string(),
        version: VersionWanted::Exact(version.to_string()),
        local_path: None,
    };
    installer
        .add(
            AddRequest {
                specs: vec![spec],
                ..AddRequest::default()
            },
            report,
        )
        .await?;
    installer
        .adaptors()
        .find(name, version)
        .ok_or_else(|| InstallError::Other(format!("{name}@{version} did not install")))
}

/// Refuses adaptors whose code needs a Node built-in bolt cannot provide.
async fn check_builtins(
    installer: &Installer,
    installed: InstalledAdaptor,
    jobs: &[String],
    refusals: &mut Vec<String>,
    report: Report<'_>,
) {
    let installed = match installer.rescan(installed.clone(), report).await {
        Ok(rescanned) => rescanned,
        Err(_) => installed,
    };
    let manifest = &installed.manifest;
    if manifest.unsupported_builtins.is_empty() {
        return;
    }
    let modules: Vec<String> = manifest
        .unsupported_builtins
        .iter()
        .map(|module| {
            let prefixed = format!("node:{module}");
            let (what, why) = match node::refused_package(module) {
                Some(why) => ("the package", why.to_string()),
                None => match node::builtin(module).or_else(|| node::builtin(&prefixed)) {
                    Some(Builtin::Unsupported { why }) => ("Node's", why.to_string()),
                    _ => ("Node's", "is not available in bolt".to_string()),
                },
            };
            match manifest.unsupported_importers.get(module) {
                Some(file) => format!("{what} `{module}` (imported by {file}; it {why})"),
                None => format!("{what} `{module}` (it {why})"),
            }
        })
        .collect();
    refusals.push(format!(
        "{} {}@{}, which needs {}: bolt cannot run this adaptor",
        uses(jobs),
        manifest.name,
        manifest.version,
        modules.join(", ")
    ));
}

fn jobs_label(jobs: &[String]) -> String {
    let quoted: Vec<String> = jobs.iter().map(|j| format!("`{j}`")).collect();
    format!(
        "job{} {}",
        if jobs.len() == 1 { "" } else { "s" },
        quoted.join(", ")
    )
}

fn names(jobs: &[String]) -> String {
    format!(
        "{} {}",
        jobs_label(jobs),
        if jobs.len() == 1 { "names" } else { "name" }
    )
}

fn uses(jobs: &[String]) -> String {
    format!(
        "{} {}",
        jobs_label(jobs),
        if jobs.len() == 1 { "uses" } else { "use" }
    )
}

/// The warning for an adaptor version deploy did not install, with the commands that do.
fn missing_warning(
    name: &str,
    text: &str,
    exact: &str,
    jobs: &[String],
    registry_down: Option<&str>,
) -> String {
    let file = AdaptorSpec::parse(exact)
        .map(|s| {
            format!(
                "{}-{}.bundle",
                s.short_name().trim_start_matches('@').replace('/', "-"),
                s.exact_version().unwrap_or("latest")
            )
        })
        .unwrap_or_else(|_| "adaptor.bundle".into());
    let meanwhile = match adaptors::all().iter().find(|a| a.specifier == name) {
        Some(module) => format!(
            "until it is, {} on bolt's built-in {} {}",
            if jobs.len() == 1 {
                "the job runs"
            } else {
                "the jobs run"
            },
            module.short_name,
            module.version
        ),
        None => format!(
            "{} until it is",
            if jobs.len() == 1 {
                "the job's runs fail"
            } else {
                "the jobs' runs fail"
            }
        ),
    };
    let prefix = registry_down
        .map(|why| format!("{why}\n  "))
        .unwrap_or_default();
    format!(
        "{prefix}{} {text}, which is not installed: {meanwhile}. Install it with `bolt adaptor add {exact}`, or offline: `bolt adaptor bundle {exact} -o {file}` on a connected machine, then `bolt adaptor add --from-file {file}` here",
        uses(jobs)
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn built_in_majors_need_nothing_other_majors_need_the_package() {
        for adaptor in [
            "@openfn/language-common@3.3.4",
            "common@3.0.0",
            "@openfn/language-common@latest",
            "common",
            "http@7.2.10",
            "@openfn/language-http@7.0.1",
            "http",
        ] {
            assert_eq!(need(adaptor), Need::BuiltIn, "{adaptor}");
        }
        for adaptor in [
            "common@2.1.1",
            "http@6.5.1",
            "openmrs@5.5.0",
            "dhis2",
            "@myorg/x@1.0.0",
        ] {
            assert!(matches!(need(adaptor), Need::Package(_)), "{adaptor}");
        }
        assert!(matches!(need("openmrs@^5"), Need::Unreadable(_)));
        assert!(matches!(need("openmrs=/tmp/x"), Need::Unreadable(_)));
    }

    fn workflow(jobs: &[(&str, &str, Option<&str>)]) -> WorkflowSpec {
        WorkflowSpec {
            key: "wf".into(),
            name: "WF".into(),
            settings: Default::default(),
            globals: None,
            constants: Default::default(),
            jobs: jobs
                .iter()
                .map(|(key, adaptor, resolved)| crate::project::JobSpec {
                    key: key.to_string(),
                    name: key.to_string(),
                    adaptor: adaptor.to_string(),
                    credential: None,
                    body: "fn(s => s)".into(),
                    body_path: None,
                    resolved_adaptor: resolved.map(String::from),
                    enable_job_logs: None,
                })
                .collect(),
            triggers: vec![],
            edges: vec![],
        }
    }

    #[test]
    fn an_unresolved_latest_keeps_the_last_deploys_version_while_installed() {
        let temp = tempfile::tempdir().unwrap();
        let installed = InstalledAdaptors::new(temp.path());
        let root = installed.install_root("@openfn/language-x", "1.1.0");
        std::fs::create_dir_all(&root).unwrap();
        let manifest = serde_json::json!({
            "name": "@openfn/language-x", "version": "1.1.0", "integrity": "sha512-x",
            "source": "r", "installed_at": "t", "packages": [],
            "common": {"kind": "built_in"}
        });
        std::fs::write(root.join("bolt-adaptor.json"), manifest.to_string()).unwrap();
        let previous = BTreeMap::from([(
            "wf".to_string(),
            workflow(&[
                ("a", "x@latest", Some("@openfn/language-x@1.1.0")),
                ("b", "y@latest", Some("@openfn/language-y@2.0.0")),
                ("c", "x@latest", Some("@openfn/language-x@1.1.0")),
            ]),
        )]);
        let mut spec = ProjectSpec {
            name: "p".into(),
            description: None,
            settings: Default::default(),
            workflows: vec![workflow(&[
                ("a", "x@latest", None),
                ("b", "y@latest", None),
                ("c", "x", None),
                ("d", "z@latest", None),
            ])],
            credentials: vec![],
            collections: vec![],
            channels: None,
        };
        let prepared = Prepared {
            resolved: BTreeMap::from([(
                "z@latest".to_string(),
                "@openfn/language-z@3.0.0".to_string(),
            )]),
            unresolved_latest: true,
            ..Prepared::default()
        };
        record_resolutions(&mut spec, &prepared, &previous, &installed);
        let resolved: Vec<Option<&str>> = spec.workflows[0]
            .jobs
            .iter()
            .map(|j| j.resolved_adaptor.as_deref())
            .collect();
        assert_eq!(
            resolved,
            [
                // Kept: same job, same spelling, still installed.
                Some("@openfn/language-x@1.1.0"),
                // Not installed any more: runs fall back to the newest installed.
                None,
                // The spelling changed: not the same choice.
                None,
                // Resolved now.
                Some("@openfn/language-z@3.0.0"),
            ]
        );
    }

    #[test]
    fn the_missing_warning_names_the_exact_commands() {
        let text = missing_warning(
            "@openfn/language-common",
            "common@2.1.1",
            "@openfn/language-common@2.1.1",
            &["W / J".into()],
            None,
        );
        assert!(
            text.contains("the job runs on bolt's built-in common 3.3.4"),
            "{text}"
        );
        assert!(
            text.contains("`bolt adaptor add @openfn/language-common@2.1.1`"),
            "{text}"
        );
        assert!(
            text.contains(
                "`bolt adaptor bundle @openfn/language-common@2.1.1 -o common-2.1.1.bundle`"
            ),
            "{text}"
        );
        assert!(
            text.contains("`bolt adaptor add --from-file common-2.1.1.bundle`"),
            "{text}"
        );
        let text = missing_warning(
            "@openfn/language-openmrs",
            "openmrs@5.5.0",
            "@openfn/language-openmrs@5.5.0",
            &["A / B".into(), "A / C".into()],
            Some("cannot reach the npm registry at X"),
        );
        assert!(
            text.starts_with("cannot reach the npm registry at X\n"),
            "{text}"
        );
        assert!(
            text.contains("jobs `A / B`, `A / C` use openmrs@5.5.0"),
            "{text}"
        );
        assert!(text.contains("the jobs' runs fail until it is"), "{text}");
    }
}
