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
    /// Print logs as JSON lines.
    #[arg(long = "log-json", env = "OPENFN_LOG_JSON")]
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
            log_json: args.log_json,
            sanitize: args.sanitize,
            immutable: args.immutable,
            no_compile: args.no_compile,
        }
    }
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
    let code = execute(
        args.into_options(Some(data_dir)),
        Box::new(std::io::stdout()),
    );
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
