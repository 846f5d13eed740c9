//! `bolt adaptor add | list | rm | bundle`: npm adaptors installed in the data dir.
//!
//! With boltd running, add/list/rm go through its socket and boltd does the work (in its
//! data dir, with its registry setting, reading `--from-file` files itself). Without it,
//! bolt does the same directly in the data dir (`--data-dir`, BOLT_DATA_DIR, bolt.toml),
//! under the same lock. `bundle` never needs boltd: it only writes a file.

use super::install_progress::{ProgressPrinter, human_bytes};
use super::{CliError, Global, output};
use anyhow::anyhow;
use bolt_daemon::engine::adaptors::installed::InstalledAdaptors;
use bolt_daemon::engine::adaptors::spec::AdaptorSpec;
use bolt_daemon::installer::{self, AddRequest, Installer, pins};
use bolt_shared::adaptors::{AdaptorAddReport, AdaptorInfo, CommonKind, InstallProgress};
use bolt_shared::client::ClientError;
use bolt_shared::paths::Resolved;
use bolt_shared::protocol::{Request, Response};
use std::path::PathBuf;

#[derive(clap::Subcommand, Debug)]
pub enum AdaptorCommand {
    /// Install adaptor versions (and their dependencies) from the npm registry, or from
    /// `npm pack` tarballs and bundles with --from-file.
    Add(AddArgs),
    /// List installed adaptor versions and the language-common each one gets.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an installed adaptor version (refused while a deployed job pins it).
    Rm(RmArgs),
    /// Write one file holding adaptors and their whole dependency trees, to install on a
    /// machine without a connection (`bolt adaptor add --from-file FILE`).
    Bundle(BundleArgs),
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// `openmrs@5.5.0`, `@openfn/language-openmrs@5.5.0`, or `openmrs` for the latest.
    pub adaptors: Vec<String>,
    /// Install from files: `npm pack` tarballs (several give the dependencies too) or a
    /// bundle from `bolt adaptor bundle`. The registry is asked only for what they lack.
    #[arg(long = "from-file", value_name = "FILE", num_args = 1..)]
    pub from_file: Vec<PathBuf>,
    /// The npm registry to use (default: npm_config_registry, else `[adaptors] registry`
    /// in bolt.toml, else https://registry.npmjs.org/).
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    /// Reinstall versions that are already installed.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON (progress goes to stderr as JSON lines).
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// The version to remove: `openmrs@5.5.0`.
    pub adaptor: String,
    /// Remove it even though deployed jobs pin it (their runs fail until it is back).
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct BundleArgs {
    /// Adaptors to bundle: `openmrs@5.5.0`, `fhir@5.0.15`, `dhis2` (the latest).
    #[arg(required = true)]
    pub adaptors: Vec<String>,
    /// The file to write.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: PathBuf,
    /// The npm registry to use (default as for `bolt adaptor add`).
    #[arg(long, value_name = "URL")]
    pub registry: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(global: &Global, command: &AdaptorCommand) -> Result<(), CliError> {
    match command {
        AdaptorCommand::Add(args) => add(global, args),
        AdaptorCommand::List { json } => list(global, *json),
        AdaptorCommand::Rm(args) => remove(global, args),
        AdaptorCommand::Bundle(args) => bundle(global, args),
    }
}

fn parse_specs(texts: &[String]) -> Result<Vec<AdaptorSpec>, CliError> {
    texts
        .iter()
        .map(|t| AdaptorSpec::parse(t).map_err(|e| CliError::Other(anyhow!("{e}"))))
        .collect()
}

/// The daemon's client, or `None` when boltd is not running (then bolt works directly).
fn daemon(global: &Global) -> Result<Option<bolt_shared::client::Client>, CliError> {
    match global.connect() {
        Ok(client) => Ok(Some(client)),
        Err(CliError::Client(ClientError::NotRunning { .. })) => Ok(None),
        Err(other) => Err(other),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(anyhow!("cannot start the async runtime: {e}")))
}

fn direct_installer(resolved: &Resolved, registry: Option<&str>) -> Result<Installer, CliError> {
    let registry = registry
        .map(String::from)
        .unwrap_or_else(|| resolved.config.adaptor_registry());
    Installer::new(
        InstalledAdaptors::in_data_dir(&resolved.data_dir),
        &registry,
    )
    .map_err(|e| CliError::Other(anyhow!("{e}")))
}

fn add(global: &Global, args: &AddArgs) -> Result<(), CliError> {
    let specs = parse_specs(&args.adaptors)?;
    if specs.is_empty() && args.from_file.is_empty() {
        return Err(anyhow!(
            "name an adaptor to install (`bolt adaptor add openmrs@5.5.0`) or give files with --from-file"
        )
        .into());
    }
    let files = args
        .from_file
        .iter()
        .map(|f| std::path::absolute(f).map_err(|e| anyhow!("{}: {e}", f.display()).into()))
        .collect::<Result<Vec<PathBuf>, CliError>>()?;
    let printer = ProgressPrinter::new(args.json);
    let report = match daemon(global)? {
        Some(mut client) => {
            let response = client.request_with_progress(
                Request::AdaptorAdd {
                    specs: args.adaptors.clone(),
                    files: files.iter().map(|f| f.display().to_string()).collect(),
                    registry: args.registry.clone(),
                    force: args.force,
                },
                &mut |event| printer.event(event),
            );
            printer.finish();
            match response? {
                Response::AdaptorsAdded(report) => report,
                other => return Err(anyhow!("unexpected answer: {other:?}").into()),
            }
        }
        None => {
            let resolved = global.resolve().map_err(CliError::Other)?;
            let installer = direct_installer(&resolved, args.registry.as_deref())?;
            if !args.json {
                eprintln!(
                    "boltd is not running: installing into {}",
                    installer.adaptors().root().display()
                );
            }
            let report = |event: InstallProgress| printer.event(event);
            let result = runtime()?.block_on(installer.add(
                AddRequest {
                    specs,
                    files,
                    force: args.force,
                },
                &report,
            ));
            printer.finish();
            result.map_err(|e| CliError::Other(anyhow!("{e}")))?
        }
    };
    if args.json {
        output::print_json(&report)?;
    } else {
        print_add_report(&report);
    }
    Ok(())
}

fn print_add_report(report: &AdaptorAddReport) {
    for adaptor in &report.installed {
        println!(
            "installed {} ({} package{}); language-common: {}",
            adaptor.spec(),
            adaptor.packages,
            if adaptor.packages == 1 { "" } else { "s" },
            common_text(adaptor)
        );
        print_unsupported(adaptor);
    }
    for adaptor in &report.already_installed {
        println!(
            "already installed: {} (reinstall with --force)",
            adaptor.spec()
        );
    }
}

fn print_unsupported(adaptor: &AdaptorInfo) {
    if !adaptor.unsupported_builtins.is_empty() {
        println!(
            "  ! it needs {}, which bolt's sandbox cannot provide: deploys of jobs using it are refused",
            adaptor.unsupported_builtins.join(", ")
        );
    }
}

/// `3.2.3 (its own)` or `bolt's built-in 3.3.4 (…why…)`.
fn common_text(adaptor: &AdaptorInfo) -> String {
    match adaptor.common.source {
        CommonKind::Installed => format!("{} (installed with it)", adaptor.common.version),
        CommonKind::BuiltIn => match &adaptor.common.note {
            Some(note) => format!("bolt's built-in {} ({note})", adaptor.common.version),
            None => format!("bolt's built-in {}", adaptor.common.version),
        },
    }
}

fn list(global: &Global, json: bool) -> Result<(), CliError> {
    let adaptors = match daemon(global)? {
        Some(mut client) => match client.request(Request::AdaptorList)? {
            Response::Adaptors { adaptors } => adaptors,
            other => return Err(anyhow!("unexpected answer: {other:?}").into()),
        },
        None => {
            let resolved = global.resolve().map_err(CliError::Other)?;
            InstalledAdaptors::in_data_dir(&resolved.data_dir)
                .list()
                .iter()
                .map(installer::info)
                .collect()
        }
    };
    if json {
        output::print_json(&adaptors)?;
        return Ok(());
    }
    if adaptors.is_empty() {
        println!(
            "no adaptors installed (language-common 3.x and language-http 7.x are built in): install one with `bolt adaptor add openmrs@5.5.0`"
        );
        return Ok(());
    }
    let rows: Vec<Vec<String>> = adaptors
        .iter()
        .map(|a| {
            let common = match a.common.source {
                CommonKind::Installed => a.common.version.clone(),
                CommonKind::BuiltIn => format!("built-in {}", a.common.version),
            };
            vec![
                a.name.clone(),
                a.version.clone(),
                common,
                a.packages.to_string(),
                a.source.clone(),
            ]
        })
        .collect();
    println!(
        "{}",
        output::table(
            &["ADAPTOR", "VERSION", "COMMON", "PACKAGES", "SOURCE"],
            &rows
        )
    );
    for adaptor in &adaptors {
        if let (CommonKind::BuiltIn, Some(note)) = (adaptor.common.source, &adaptor.common.note) {
            println!("{}: {note}", adaptor.spec());
        }
        if !adaptor.unsupported_builtins.is_empty() {
            println!(
                "{}: needs {}, which bolt's sandbox cannot provide: jobs using it are refused",
                adaptor.spec(),
                adaptor.unsupported_builtins.join(", ")
            );
        }
    }
    Ok(())
}

fn remove(global: &Global, args: &RmArgs) -> Result<(), CliError> {
    let removed = match daemon(global)? {
        Some(mut client) => match client.request(Request::AdaptorRemove {
            spec: args.adaptor.clone(),
            force: args.force,
        })? {
            Response::AdaptorRemoved(info) => info,
            other => return Err(anyhow!("unexpected answer: {other:?}").into()),
        },
        None => {
            let resolved = global.resolve().map_err(CliError::Other)?;
            let installer = direct_installer(&resolved, None)?;
            let (name, version) = pins::exact_installed(installer.adaptors(), &args.adaptor)
                .map_err(|e| CliError::Other(anyhow!("{e}")))?;
            if !args.force {
                let pinned = pins::pinning_jobs_in(&resolved.data_dir, &name, &version)
                    .map_err(|e| anyhow!("cannot read the deployed workflows: {e}"))?;
                if !pinned.is_empty() {
                    return Err(
                        anyhow!("{}", pins::pinned_message(&name, &version, &pinned)).into(),
                    );
                }
            }
            let quiet = |_| {};
            let removed = runtime()?
                .block_on(installer.remove(&name, &version, &quiet))
                .map_err(|e| CliError::Other(anyhow!("{e}")))?;
            let removed = removed.ok_or_else(|| anyhow!("{name}@{version} is not installed"))?;
            installer::info(&removed)
        }
    };
    if args.json {
        output::print_json(&removed)?;
    } else {
        println!("removed {}", removed.spec());
    }
    Ok(())
}

fn bundle(global: &Global, args: &BundleArgs) -> Result<(), CliError> {
    let specs = parse_specs(&args.adaptors)?;
    let resolved = global.resolve().map_err(CliError::Other)?;
    let installer = direct_installer(&resolved, args.registry.as_deref())?;
    let printer = ProgressPrinter::new(args.json);
    let report = |event: InstallProgress| printer.event(event);
    let result = runtime()?.block_on(installer.bundle(&specs, &args.output, &report));
    printer.finish();
    let summary = result.map_err(|e| CliError::Other(anyhow!("{e}")))?;
    if args.json {
        output::print_json(&summary)?;
    } else {
        println!(
            "wrote {}: {} ({} package{}, {}); install it offline with `bolt adaptor add --from-file {}`",
            summary.path,
            summary.adaptors.join(", "),
            summary.packages,
            if summary.packages == 1 { "" } else { "s" },
            human_bytes(summary.bytes),
            summary.path
        );
    }
    Ok(())
}
