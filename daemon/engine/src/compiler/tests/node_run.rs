//! Semantics check: runs OpenFn's `compiled.js` and our module for each fixture under Node
//! with the real `@openfn/runtime` and adaptors, and compares the final states. Ignored by
//! default; needs `node` and `OPENFN_NODE_MODULES` pointing at a `node_modules` holding
//! `@openfn/runtime`, `@openfn/logger`, `@openfn/language-common@3.3.4` and
//! `@openfn/language-http@7.2.10`. HTTP cases run only if the fixtures' echo server is up.

use std::fs;
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::super::compile;
use super::fixtures::{options_for, single_job_cases};

/// Runs one module like the CLI: input from `-s`, `--immutable`, `-t`; writes the output
/// state (configuration removed) or `CRASH <message>` to a file.
const RUNNER: &str = r#"
import run from 'MODULES/@openfn/runtime/dist/index.js';
import { createMockLogger } from 'MODULES/@openfn/logger/dist/index.js';
import fs from 'node:fs';
import path from 'node:path';
const [caseDir, moduleFile, outFile] = process.argv.slice(2);
const args = fs.readFileSync(path.join(caseDir, 'args.txt'), 'utf8').split('\n')
  .find(l => l.trim() && !l.startsWith('#')).trim().split(' ');
const modules = {
  '@openfn/language-common': { path: 'MODULES/@openfn/language-common' },
  '@openfn/language-http': { path: 'MODULES/@openfn/language-http' },
};
let input = { data: {}, configuration: {} };
const s = args.indexOf('-s');
if (s >= 0) input = JSON.parse(fs.readFileSync(path.join(caseDir, args[s + 1]), 'utf8'));
const opts = { linker: { modules }, logger: createMockLogger(), jobLogger: createMockLogger() };
if (args.includes('--immutable')) opts.immutableState = true;
const t = args.indexOf('-t');
if (t >= 0) opts.defaultRunTimeoutMs = Number(args[t + 1]);
try {
  const result = await run(fs.readFileSync(moduleFile, 'utf8'), input, opts);
  if (result && typeof result === 'object') delete result.configuration;
  fs.writeFileSync(outFile, result === undefined ? '' : JSON.stringify(result));
} catch (e) {
  fs.writeFileSync(outFile, 'CRASH ' + (e && (e.message || e.type || e.name)));
}
process.exit(0);
"#;

/// Durations, stacks and code positions legitimately differ between two layouts.
fn normalise(text: &str) -> Value {
    fn strip(value: Value) -> Value {
        match value {
            Value::Object(map) => Value::Object(
                map.into_iter()
                    .filter(|(k, _)| k != "stack" && k != "pos")
                    .map(|(k, v)| {
                        if k == "duration" {
                            (k, Value::from(0))
                        } else {
                            (k, strip(v))
                        }
                    })
                    .collect(),
            ),
            Value::Array(items) => Value::Array(items.into_iter().map(strip).collect()),
            other => other,
        }
    }
    serde_json::from_str(text)
        .map(strip)
        .unwrap_or_else(|_| Value::String(text.to_string()))
}

fn run_module(runner: &Path, case_dir: &Path, module: &Path, out: &Path) -> Value {
    let status = Command::new("node")
        .args(["--experimental-vm-modules", "--no-warnings"])
        .arg(runner)
        .arg(case_dir)
        .arg(module)
        .arg(out)
        .output()
        .expect("node runs");
    assert!(
        status.status.success(),
        "runner failed: {}",
        String::from_utf8_lossy(&status.stderr)
    );
    normalise(&fs::read_to_string(out).unwrap_or_default())
}

#[test]
#[ignore = "needs node and OPENFN_NODE_MODULES"]
fn compiled_fixtures_run_like_openfns_under_node() {
    let Ok(modules) = std::env::var("OPENFN_NODE_MODULES") else {
        return;
    };
    if !Path::new(&modules).join("@openfn/runtime").is_dir() {
        return;
    }
    let echo_server = TcpStream::connect("127.0.0.1:18089").is_ok();
    let work = tempfile::tempdir().expect("temp dir");
    let runner = work.path().join("runner.mjs");
    fs::write(&runner, RUNNER.replace("MODULES", &modules)).expect("runner");
    let (mut same, mut differences) = (0, Vec::new());
    for case in single_job_cases() {
        let args = fs::read_to_string(case.dir.join("args.txt")).expect("args");
        let theirs = case.dir.join("compiled.js");
        if !theirs.is_file() || (args.contains("http@") && !echo_server) {
            continue;
        }
        let job = fs::read_to_string(case.dir.join("job.js")).expect("job");
        let ours = work.path().join(format!("{}.js", case.name));
        fs::write(
            &ours,
            compile(&job, &options_for(&args)).expect("compiles").code,
        )
        .expect("write");
        let expected = run_module(&runner, &case.dir, &theirs, &work.path().join("theirs.out"));
        let actual = run_module(&runner, &case.dir, &ours, &work.path().join("ours.out"));
        if expected == actual {
            same += 1;
        } else {
            differences.push(format!(
                "{}:\n openfn: {expected}\n ours:   {actual}",
                case.name
            ));
        }
    }
    println!("{same} cases ran identically");
    assert!(differences.is_empty(), "{}", differences.join("\n"));
}
