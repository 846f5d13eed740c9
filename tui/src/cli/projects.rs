//! `bolt deploy`, `bolt export`, `bolt workflows`.

use super::install_progress::ProgressPrinter;
use super::terminal::Paint;
use super::{CliError, Global, output};
use anyhow::{Context, anyhow};
use bolt_daemon::engine::adaptors::spec::AdaptorSpec;
use bolt_daemon::project::{BodyFileError, FileSource, ProjectDir, parse_project};
use bolt_shared::adaptors::{DeployAdaptorStatus, InstallProgress};
use bolt_shared::client::Client;
use bolt_shared::model::{TriggerType, WorkflowView};
use bolt_shared::protocol::{DeployReport, Request, Response};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct DeployArgs {
    /// The project file (Lightning's project.yaml format).
    pub file: PathBuf,
    /// Show what would change without applying it.
    #[arg(long)]
    pub dry_run: bool,
    /// Let `body: {path: …}` point outside the project file's directory (by default bolt
    /// refuses, so a project file can't make it read and store any file you can read).
    #[arg(long)]
    pub allow_outside_paths: bool,
    /// Delete the project's collections the file doesn't list, with all their items
    /// (without it they are kept, with a warning).
    #[arg(long)]
    pub prune_collections: bool,
    /// Don't install the adaptor versions the project needs that are missing; warn instead.
    #[arg(long)]
    pub no_install: bool,
    /// Print the report as JSON (install progress goes to stderr as JSON lines).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// Project name (needed only when there are several).
    pub project: Option<String>,
    /// Write to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print `{"project", "yaml"}` (and `"path"` with --output) as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct WorkflowsArgs {
    #[arg(long)]
    pub json: bool,
}

/// Reads `{path: …}` bodies from the project's directory and remembers them, to send
/// along with the deploy.
struct Collect {
    dir: ProjectDir,
    files: RefCell<BTreeMap<String, String>>,
}

impl FileSource for Collect {
    fn read(&self, relative: &str) -> Result<String, BodyFileError> {
        let text = self.dir.read(relative)?;
        self.files
            .borrow_mut()
            .insert(relative.to_string(), text.clone());
        Ok(text)
    }
}

/// Deploys a project file; the daemon validates it again, installs the adaptors it needs
/// (progress goes to `progress`), and applies it in one transaction.
pub fn deploy_file(
    client: &mut Client,
    file: &Path,
    dry_run: bool,
    allow_outside_paths: bool,
    prune_collections: bool,
    install: bool,
    progress: &mut dyn FnMut(InstallProgress),
) -> Result<DeployReport, CliError> {
    let yaml =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let collect = Collect {
        dir: ProjectDir::of(file, allow_outside_paths)
            .with_context(|| format!("cannot read the directory of {}", file.display()))?,
        files: RefCell::new(BTreeMap::new()),
    };
    let name = file.display().to_string();
    // Checked here first so errors point at the user's own files before anything is sent.
    parse_project(&yaml, &name, &collect).map_err(|errors| anyhow!("{errors}"))?;
    let request = Request::Deploy {
        yaml,
        file_name: name,
        files: collect.files.into_inner(),
        dry_run,
        prune_collections,
        install,
    };
    deploy_request(client, request, progress)
}

/// Deploys project text (adaptors it needs are installed, without progress shown).
pub fn deploy_text(
    client: &mut Client,
    yaml: String,
    file_name: String,
    files: BTreeMap<String, String>,
    dry_run: bool,
) -> Result<DeployReport, CliError> {
    let request = Request::Deploy {
        yaml,
        file_name,
        files,
        dry_run,
        prune_collections: false,
        install: true,
    };
    deploy_request(client, request, &mut |_| {})
}

fn deploy_request(
    client: &mut Client,
    request: Request,
    progress: &mut dyn FnMut(InstallProgress),
) -> Result<DeployReport, CliError> {
    match client.request_with_progress(request, progress)? {
        Response::Deployed(report) => Ok(report),
        other => Err(anyhow!("unexpected answer: {other:?}").into()),
    }
}

pub fn print_report(report: &DeployReport) {
    for warning in &report.warnings {
        crate::say_err!("warning: {warning}");
    }
    for adaptor in &report.adaptors {
        let status = match adaptor.status {
            DeployAdaptorStatus::BuiltIn => continue,
            DeployAdaptorStatus::Installed => "installed",
            DeployAdaptorStatus::InstalledNow => "installed now",
            DeployAdaptorStatus::Missing => "NOT installed (see the warnings)",
        };
        match &adaptor.resolved {
            Some(resolved)
                if AdaptorSpec::parse(&adaptor.adaptor)
                    .is_ok_and(|spec| spec.exact_version().is_none()) =>
            {
                println!("adaptor {} → {resolved}: {status}", adaptor.adaptor)
            }
            Some(resolved) => println!("adaptor {resolved}: {status}"),
            None => println!("adaptor {}: {status}", adaptor.adaptor),
        }
    }
    if report.changes.is_empty() {
        crate::say!("project {}: no changes", report.project);
        return;
    }
    for change in &report.changes {
        let mark = match change.action.as_str() {
            "created" => '+',
            "deleted" => '-',
            _ => '~',
        };
        crate::say!("{mark} {} {} {}", change.action, change.what, change.name);
    }
    let verb = if report.applied {
        "applied"
    } else {
        "would apply (dry run; nothing changed)"
    };
    crate::say!(
        "project {}: {verb} {} change{}",
        report.project,
        report.changes.len(),
        if report.changes.len() == 1 { "" } else { "s" }
    );
}

pub fn deploy(global: &Global, args: &DeployArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let printer = ProgressPrinter::new(args.json);
    let report = deploy_file(
        &mut client,
        &args.file,
        args.dry_run,
        args.allow_outside_paths,
        args.prune_collections,
        !args.no_install,
        &mut |event| printer.event(event),
    );
    printer.finish();
    let report = report?;
    if args.json {
        output::print_json(&report)?;
    } else {
        print_report(&report);
    }
    Ok(())
}

pub fn export(global: &Global, args: &ExportArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let yaml = match client.request(Request::Export {
        project: args.project.clone(),
    })? {
        Response::Exported { yaml } => yaml,
        other => return Err(anyhow!("unexpected answer: {other:?}").into()),
    };
    if let Some(path) = &args.output {
        std::fs::write(path, &yaml).with_context(|| format!("cannot write {}", path.display()))?;
        if !args.json {
            crate::say_err!("wrote {}", path.display());
        }
    }
    if args.json {
        let mut object = serde_json::Map::new();
        object.insert("project".into(), args.project.clone().into());
        if let Some(path) = &args.output {
            object.insert("path".into(), path.display().to_string().into());
        }
        object.insert("yaml".into(), yaml.into());
        output::print_json(&object)?;
    } else if args.output.is_none() {
        print!("{yaml}");
    }
    Ok(())
}

pub fn fetch_workflows(client: &mut Client) -> Result<Vec<WorkflowView>, CliError> {
    match client.request(Request::ListWorkflows)? {
        Response::Workflows { workflows } => Ok(workflows),
        other => Err(anyhow!("unexpected answer: {other:?}").into()),
    }
}

pub fn workflows(global: &Global, args: &WorkflowsArgs) -> Result<(), CliError> {
    let mut client = global.connect()?;
    let workflows = fetch_workflows(&mut client)?;
    if args.json {
        output::print_json(&workflows)?;
        return Ok(());
    }
    if workflows.is_empty() {
        crate::say!("no workflows yet: deploy a project with `bolt deploy project.yaml`");
        return Ok(());
    }
    let mut rows = Vec::new();
    for wf in &workflows {
        let triggers: Vec<String> = wf.triggers.iter().map(trigger_summary).collect();
        rows.push(vec![
            wf.key.clone(),
            wf.name.clone(),
            if wf.enabled {
                "on".into()
            } else {
                "off".into()
            },
            format!("v{}", wf.version),
            format!("{} / {}", wf.success_24h, wf.failed_24h),
            triggers.join("; "),
        ]);
    }
    output::print_table(
        &["KEY", "NAME", "ON", "VERSION", "24h ✔/✘", "TRIGGERS"],
        &rows,
        &|column, cell| match (column, cell) {
            (2, "on") => Some(Paint::Green),
            (2, _) => Some(Paint::Dim),
            _ => None,
        },
    );
    Ok(())
}

pub fn trigger_summary(trigger: &bolt_shared::model::TriggerView) -> String {
    let off = if trigger.enabled { "" } else { " (disabled)" };
    match trigger.kind {
        TriggerType::Webhook => format!(
            "webhook POST {}{off}",
            trigger.webhook_url.as_deref().unwrap_or("?")
        ),
        TriggerType::Cron => {
            let next = trigger
                .next_fire
                .map(|t| {
                    let times = bolt_shared::time::rule();
                    format!(
                        ", next {} {} ({})",
                        times.when_short(t, chrono::Utc::now()),
                        times.zone_label_at(t),
                        bolt_shared::time::ago(t, chrono::Utc::now())
                    )
                })
                .unwrap_or_default();
            format!(
                "cron '{}' — {}{next}{off}",
                trigger.cron_expression.as_deref().unwrap_or("?"),
                trigger.cron_description.as_deref().unwrap_or("")
            )
        }
    }
}
