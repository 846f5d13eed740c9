//! `bolt execute`: run a job or workflow file locally, like `openfn execute`.

use crate::cli::Global;
use bolt_daemon::engine::cli::{ExecuteOptions, execute};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags follow `openfn execute` so existing commands keep working.
#[derive(Debug, Clone, clap::Args)]
pub struct ExecuteArgs {
    /// A job (`.js`) or a workflow (`.json`).
    pub path: PathBuf,
    /// Adaptor of a `.js` job, repeatable: `common`, `http@7.2.10`, `openmrs@5.5.0` (installed
    /// with `bolt adaptor add` into the data dir), `@openfn/language-openmrs=/path/to/package`.
    #[arg(short = 'a', long = "adaptor", visible_alias = "adaptors")]
    pub adaptors: Vec<String>,
    /// Input state file.
    #[arg(short = 's', long = "state-path")]
    pub state_path: Option<PathBuf>,
    /// Input state as a JSON string.
    #[arg(short = 'S', long = "state-stdin")]
    pub state_stdin: Option<String>,
    /// Where to write the final state (default: output.json next to the job).
    #[arg(short = 'o', long = "output-path")]
    pub output_path: Option<PathBuf>,
    /// Print the final state instead of writing a file.
    #[arg(short = 'O', long = "output-stdout")]
    pub output_stdout: bool,
    /// Logs on standard error, and on standard output one JSON object: `ok`, `exit_code`,
    /// the final `state` (null when the workflow failed) and `output_path` with -o.
    #[arg(long, conflicts_with = "output_stdout")]
    pub json: bool,
    /// Start at this step (id or a unique part of its id/name).
    #[arg(long)]
    pub start: Option<String>,
    /// Stop after this step.
    #[arg(long)]
    pub end: Option<String>,
    /// Run only this step.
    #[arg(long)]
    pub only: Option<String>,
    /// Per-step timeout in milliseconds (default 300000).
    #[arg(short = 't', long = "timeout")]
    pub timeout: Option<u64>,
    /// Log levels: none|default|info|debug, or per component: job=debug,r/t=none,cli=info.
    #[arg(short = 'l', long = "log")]
    pub log: Vec<String>,
    /// Print logs as JSON lines (env: OPENFN_LOG_JSON).
    #[arg(long = "log-json")]
    pub log_json: bool,
    /// How objects in job logs are printed: none, remove, obfuscate, summarize.
    #[arg(long)]
    pub sanitize: Option<String>,
    /// Give every operation a copy of the state.
    #[arg(long)]
    pub immutable: bool,
    /// Run the source as it is (it must `export default [...]`).
    #[arg(long = "no-compile")]
    pub no_compile: bool,
    /// Accepted for compatibility; bolt execute never installs (use `bolt adaptor add`).
    #[arg(short = 'i', long = "autoinstall", hide = true)]
    pub autoinstall: bool,
    /// Accepted for compatibility; bolt execute never installs (use `bolt adaptor add`).
    #[arg(long = "no-autoinstall", hide = true)]
    pub no_autoinstall: bool,
}

impl ExecuteArgs {
    fn into_options(self, data_dir: Option<PathBuf>) -> ExecuteOptions {
        let args = self;
        ExecuteOptions {
            data_dir,
            path: args.path,
            adaptors: args.adaptors,
            state_path: args.state_path,
            state_stdin: args.state_stdin,
            output_path: args.output_path,
            output_stdout: args.output_stdout,
            start: args.start,
            end: args.end,
            only: args.only,
            timeout_ms: args.timeout,
            log: args.log,
            log_json: args.log_json || env_flag("OPENFN_LOG_JSON"),
            sanitize: args.sanitize,
            immutable: args.immutable,
            no_compile: args.no_compile,
        }
    }
}

/// A yes/no environment variable as OpenFn's CLI reads it: set and not a "no" word.
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| {
        !matches!(
            value.trim().to_ascii_lowercase().as_str(),
            "" | "0" | "n" | "no" | "f" | "false" | "off"
        )
    })
}

/// Runs `bolt execute` with logs on stdout; the exit code follows OpenFn's CLI. Jobs may use
/// the adaptors installed in the data dir (`--data-dir`, BOLT_DATA_DIR, the config's).
pub fn run(global: &Global, args: ExecuteArgs) -> ExitCode {
    let data_dir = match global.resolve() {
        Ok(resolved) => resolved.data_dir,
        Err(e) => {
            eprintln!("bolt: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let code = if args.json {
        match execute_json(args, data_dir) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("bolt: {e:#}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        execute(
            args.into_options(Some(data_dir)),
            Box::new(std::io::stdout()),
        )
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// `bolt execute --json`: runs with the logs on stderr and the final state written to a
/// file (the one -o names, else a temporary one), then prints the result as JSON.
fn execute_json(args: ExecuteArgs, data_dir: PathBuf) -> anyhow::Result<i32> {
    let scratch = tempfile::tempdir()?;
    let given = args.output_path.clone();
    let path = given
        .clone()
        .unwrap_or_else(|| scratch.path().join("output.json"));
    let mut options = args.into_options(Some(data_dir));
    options.output_path = Some(path.clone());
    let code = execute(options, Box::new(std::io::stderr()));
    let state = if code == 0 {
        let text = std::fs::read_to_string(&path)?;
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    } else {
        serde_json::Value::Null
    };
    let mut result = serde_json::json!({ "ok": code == 0, "exit_code": code, "state": state });
    if let Some(given) = given {
        result["output_path"] = given.display().to_string().into();
    }
    crate::cli::output::print_json(&result)?;
    Ok(code)
}
