//! OpenFn's conformance fixtures: every single-job case is compiled with the adaptor its
//! `args.txt` names. Where OpenFn's compile failed ("Failed to compile job" in its log) ours
//! must fail too; otherwise our module must have the shape of OpenFn's `compiled.js`.

use std::fs;
use std::path::{Path, PathBuf};

use super::super::{CompileOptions, compile};
use super::structure::shape;
use super::{common, http};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/openfn-conformance")
}

/// The adaptor named by `-a` in a case's CLI arguments.
pub(crate) fn options_for(args: &str) -> CompileOptions {
    let line = args
        .lines()
        .find(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .unwrap_or("");
    let words: Vec<&str> = line.split(' ').collect();
    let adaptor = words
        .windows(2)
        .find(|w| w[0] == "-a")
        .map(|w| w[1].split('@').next().unwrap_or(""));
    match adaptor {
        Some("common") => common(),
        Some("http") => http(),
        Some(other) => panic!("unexpected adaptor {other}"),
        None => CompileOptions::default(),
    }
}

pub(crate) struct Case {
    pub name: String,
    pub dir: PathBuf,
}

pub(crate) fn single_job_cases() -> Vec<Case> {
    let mut cases: Vec<Case> = fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|dir| dir.join("job.js").is_file() && dir.join("args.txt").is_file())
        .map(|dir| Case {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir,
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
}

#[test]
fn every_single_job_fixture_compiles_like_openfn() {
    let cases = single_job_cases();
    assert!(cases.len() >= 120, "found only {} cases", cases.len());
    let mut failures = Vec::new();
    let (mut compared, mut refused) = (0, 0);
    for case in &cases {
        let job = fs::read_to_string(case.dir.join("job.js")).expect("job.js");
        let args = fs::read_to_string(case.dir.join("args.txt")).expect("args.txt");
        let log = fs::read_to_string(case.dir.join("log.txt")).unwrap_or_default();
        let result = compile(&job, &options_for(&args));
        if log.contains("Failed to compile job") {
            refused += 1;
            if let Ok(compiled) = result {
                failures.push(format!(
                    "{}: OpenFn refused, we compiled:\n{}",
                    case.name, compiled.code
                ));
            }
            continue;
        }
        let Ok(expected) = fs::read_to_string(case.dir.join("compiled.js")) else {
            continue;
        };
        compared += 1;
        match result {
            Err(error) => failures.push(format!("{}: {error}", case.name)),
            Ok(compiled) => {
                let ours = shape(&compiled.code);
                let theirs = shape(&expected);
                if ours != theirs {
                    failures.push(format!(
                        "{}: shapes differ\n--- ours\n{}\n--- openfn\n{}\nimports {:?} vs {:?}\nfirst difference: {:?}",
                        case.name,
                        compiled.code,
                        expected,
                        ours.imports,
                        theirs.imports,
                        ours.nodes
                            .iter()
                            .zip(&theirs.nodes)
                            .find(|(a, b)| a != b)
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    assert_eq!(refused, 4, "compile failures recorded by OpenFn");
    assert!(compared >= 120);
}

#[test]
fn compiler_failures_report_openfns_reason() {
    let dir = fixtures_dir();
    let expect = [
        (
            "023-compiler-optional-catch-binding-multiline",
            "null does not match type Pattern",
        ),
        ("024-compiler-bigint-rejected", "Unexpected token ILLEGAL"),
        (
            "025-compiler-lazy-state-outside-operation",
            "Lazy State Error: Must be inside an operation",
        ),
        ("073-error-compile-syntax-error", "SyntaxError"),
    ];
    for (case, message) in expect {
        let job = fs::read_to_string(dir.join(case).join("job.js")).expect("job.js");
        let error = compile(&job, &common()).expect_err(case);
        assert!(error.message.contains(message), "{case}: {error}");
    }
}

/// Writes our compiled module for every single-job fixture to `$BOLT_COMPILED_DUMP/<case>.js`,
/// for running under Node with the real `@openfn/runtime` (see the report of this module).
#[test]
#[ignore = "tooling: set BOLT_COMPILED_DUMP to a directory"]
fn dump_compiled_fixtures() {
    let Ok(target) = std::env::var("BOLT_COMPILED_DUMP") else {
        return;
    };
    fs::create_dir_all(&target).expect("dump directory");
    for case in single_job_cases() {
        let job = fs::read_to_string(case.dir.join("job.js")).expect("job.js");
        let args = fs::read_to_string(case.dir.join("args.txt")).expect("args.txt");
        if let Ok(compiled) = compile(&job, &options_for(&args)) {
            fs::write(
                Path::new(&target).join(format!("{}.js", case.name)),
                compiled.code,
            )
            .expect("write");
        }
    }
}

/// Differential check against OpenFn's compiler: for every `<job>.js` in
/// `$BOLT_COMPILE_JOBS`, compares our result with `<job>.oracle.js` (OpenFn's output; absent
/// when OpenFn refused the job), compiling with language-common's exports.
#[test]
#[ignore = "tooling: set BOLT_COMPILE_JOBS to a directory of jobs and OpenFn outputs"]
fn compare_with_openfn_outputs() {
    let Ok(dir) = std::env::var("BOLT_COMPILE_JOBS") else {
        return;
    };
    let mut jobs: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("jobs directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.to_string_lossy();
            name.ends_with(".js") && !name.ends_with(".oracle.js") && !name.ends_with(".out.js")
        })
        .collect();
    jobs.sort();
    let mut differences = Vec::new();
    for job_path in &jobs {
        let job = fs::read_to_string(job_path).expect("job");
        let oracle = fs::read_to_string(job_path.with_extension("oracle.js")).ok();
        let ours = compile(&job, &common());
        let name = job_path.display();
        match (ours, oracle) {
            (Ok(c), Some(theirs)) => {
                if shape(&c.code) != shape(&theirs) {
                    differences.push(format!(
                        "{name}: differs\n{job}--- ours\n{}--- openfn\n{theirs}",
                        c.code
                    ));
                }
            }
            (Ok(c), None) => differences.push(format!(
                "{name}: OpenFn refused, ours:\n{job}---\n{}",
                c.code
            )),
            (Err(e), Some(theirs)) => differences.push(format!(
                "{name}: we refused ({e}), OpenFn:\n{job}---\n{theirs}"
            )),
            (Err(_), None) => {}
        }
    }
    println!(
        "{} jobs, {} differ\n\n{}",
        jobs.len(),
        differences.len(),
        differences.join("\n\n")
    );
}
