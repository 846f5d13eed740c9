//! npm adaptor packages run unchanged: small packages written here in every shape the loader
//! must handle (ESM and CommonJS, `exports` maps, JSON, extensionless subpaths, directory
//! indexes, nested `node_modules`, `#imports`, require() of ES modules), laid out as the
//! installer lays them out, run with `bolt execute`'s engine entry point.

#![allow(clippy::unwrap_used)]

use bolt_engine::adaptors::installed::{CommonSource, InstalledAdaptors, MANIFEST_FILE, Manifest};
use bolt_engine::cli::{ExecuteOptions, execute};
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A data dir with adaptors installed in it.
struct DataDir {
    dir: tempfile::TempDir,
}

impl DataDir {
    fn new() -> Self {
        DataDir {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Installs `name@version`: `files` relative to its install root, then the manifest.
    fn install(&self, name: &str, version: &str, files: &[(&str, &str)]) -> PathBuf {
        let root = InstalledAdaptors::in_data_dir(self.path()).install_root(name, version);
        for (relative, text) in files {
            let path = root.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let manifest = Manifest {
            name: name.into(),
            version: version.into(),
            integrity: "sha512-test".into(),
            source: "test".into(),
            installed_at: "2026-12-04T00:00:00Z".into(),
            packages: vec![],
            common: CommonSource::BuiltIn {
                wanted: None,
                note: None,
            },
            unsupported_builtins: vec![],
            unsupported_importers: Default::default(),
            scanned_specifiers: Default::default(),
        };
        std::fs::write(
            root.join(MANIFEST_FILE),
            serde_json::to_string(&manifest).unwrap(),
        )
        .unwrap();
        root
    }

    /// Runs `job` with `-a adaptors…`; the exit code, the log and the final state.
    fn run(&self, job: &str, adaptors: &[&str]) -> (i32, String, Option<Value>) {
        let work = tempfile::tempdir().unwrap();
        let path = work.path().join("job.js");
        std::fs::write(&path, job).unwrap();
        let output = work.path().join("out.json");
        let out = Captured::default();
        let code = execute(
            ExecuteOptions {
                path,
                adaptors: adaptors.iter().map(|a| a.to_string()).collect(),
                output_path: Some(output.clone()),
                state_stdin: Some(r#"{"data": {"n": 2}, "configuration": {"secret": "x"}}"#.into()),
                data_dir: Some(self.path().to_path_buf()),
                log: vec!["info".into()],
                ..Default::default()
            },
            Box::new(out.clone()),
        );
        let log = String::from_utf8_lossy(&out.0.lock().unwrap()).to_string();
        let state = std::fs::read_to_string(&output)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        (code, log, state)
    }
}

const DEMO: &str = "@openfn/language-demo";

/// An ESM adaptor (no language-common of its own: it gets bolt's built-in) and its
/// dependencies in every shape the loader must handle.
fn install_demo(data: &DataDir) -> PathBuf {
    data.install(DEMO, "1.0.0", &[
        (
            "node_modules/@openfn/language-demo/package.json",
            r##"{"name":"@openfn/language-demo","version":"1.0.0","type":"module","types":"types/index.d.ts",
                "main":"dist/index.cjs",
                "exports":{".":{"import":"./dist/index.js","types":"./types/index.d.ts","require":"./dist/index.cjs"},"./package.json":"./package.json"},
                "imports":{"#helpers":"./dist/helpers.js"}}"##,
        ),
        (
            "node_modules/@openfn/language-demo/types/index.d.ts",
            "export default Adaptor;\nexport * from './Adaptor';\nexport * as tools from './tools';\nimport * as Adaptor from './Adaptor';\n",
        ),
        (
            "node_modules/@openfn/language-demo/types/Adaptor.d.ts",
            "export function execute(...operations: any[]): any;\nexport function summary(): any;\nexport function fails(): any;\nexport function chatty(): any;\nexport function request(path: string): any;\nexport type Options = {};\nexport { fn, each } from '@openfn/language-common';\n",
        ),
        (
            "node_modules/@openfn/language-demo/dist/index.js",
            r#"import { execute as commonExecute, fn, each } from '@openfn/language-common';
import { expandReferences, makeBasicAuthHeader } from '@openfn/language-common/util';
import set from 'lodash-mini/set';
import strict, { double, shape } from 'strict-cjs';
import data from './data.json';
import dual from 'dual';
import { helper } from '#helpers';
import indexed from 'dir-index';

export const tools = { helper };
export { fn, each };

export function execute(...operations) {
  return (state) => commonExecute(...operations)({ marker: 'demo', ...state });
}

export function summary() {
  return (state) => {
    const [n] = expandReferences(state, (s) => s.data.n);
    return {
      ...state,
      summary: {
        n,
        set: set({}, 'k', 'v'),
        sloppy: set.sloppy,
        strict,
        double: double(n),
        shape,
        json: data.value,
        dual,
        helper: helper(),
        indexed,
        auth: makeBasicAuthHeader('u', 'p'),
      },
    };
  };
}

export function fails() {
  return () => {
    throw new Error('the demo server said no');
  };
}

export function chatty() {
  return (state) => {
    console.log('adaptor says', { ok: true });
    return state;
  };
}
"#,
        ),
        (
            "node_modules/@openfn/language-demo/dist/index.cjs",
            "module.exports = { unused: true };\n",
        ),
        (
            "node_modules/@openfn/language-demo/dist/helpers.js",
            "export const helper = () => 'from #helpers';\n",
        ),
        (
            "node_modules/@openfn/language-demo/dist/data.json",
            "{\"value\": \"from json\"}",
        ),
        // lodash's shape: no `exports`, extensionless subpaths, sloppy-mode CommonJS.
        (
            "node_modules/lodash-mini/package.json",
            r#"{"name":"lodash-mini","version":"4.0.0","main":"index.js"}"#,
        ),
        (
            "node_modules/lodash-mini/set.js",
            "var assign = require('./_assign');\nfunction set(object, key, value) { return assign(object, key, value); }\nvar root = (function () { return this; })();\nset.sloppy = typeof root === 'object' && root !== null;\nmodule.exports = set;\n",
        ),
        (
            "node_modules/lodash-mini/_assign.js",
            "module.exports = function (o, k, v) { o[k] = v; return o; };\n",
        ),
        (
            "node_modules/lodash-mini/version.js",
            "module.exports = '4';\n",
        ),
        // A transpiled ("use strict") CommonJS package with its own nested dependency.
        (
            "node_modules/strict-cjs/package.json",
            r#"{"name":"strict-cjs","version":"1.0.0","main":"lib/index.js"}"#,
        ),
        (
            "node_modules/strict-cjs/lib/index.js",
            r#""use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.shape = exports.double = void 0;
const version = require("lodash-mini/version");
const dual = require("dual");
const { answer } = require("esm-only");
const config = require("../config.json");
const double = (x) => x * 2;
exports.double = double;
exports.shape = { nestedLodash: version, dual, answer, config: config.name, self: typeof require.resolve('./other') };
exports.default = "strict default";
"#,
        ),
        ("node_modules/strict-cjs/lib/other.js", "\"use strict\";\nexports.x = 1;\n"),
        ("node_modules/strict-cjs/config.json", "{\"name\": \"cfg\"}"),
        (
            "node_modules/strict-cjs/node_modules/lodash-mini/package.json",
            r#"{"name":"lodash-mini","version":"3.0.0"}"#,
        ),
        (
            "node_modules/strict-cjs/node_modules/lodash-mini/version.js",
            "module.exports = '3';\n",
        ),
        // A dual package: ESM for import, CommonJS for require.
        (
            "node_modules/dual/package.json",
            r#"{"name":"dual","version":"1.0.0","exports":{".":{"import":"./esm.mjs","require":"./cjs.cjs"},"./feature":"./feature.js"}}"#,
        ),
        ("node_modules/dual/esm.mjs", "export default 'dual as ESM';\n"),
        ("node_modules/dual/cjs.cjs", "module.exports = 'dual as CommonJS';\n"),
        ("node_modules/dual/feature.js", "module.exports = 1;\n"),
        // An ES-module-only package, required from CommonJS (Node 22's require(esm)).
        (
            "node_modules/esm-only/package.json",
            r#"{"name":"esm-only","version":"1.0.0","type":"module","main":"index.js"}"#,
        ),
        ("node_modules/esm-only/index.js", "export const answer = 42;\n"),
        // `main` naming a directory.
        (
            "node_modules/dir-index/package.json",
            r#"{"name":"dir-index","version":"1.0.0","main":"./lib"}"#,
        ),
        (
            "node_modules/dir-index/lib/index.js",
            "module.exports = 'from lib/index.js';\n",
        ),
    ])
}

#[test]
fn an_esm_adaptor_and_its_dependencies_load_in_every_shape() {
    let data = DataDir::new();
    let root = install_demo(&data);
    let (code, log, state) = data.run("summary();\nfn(s => s);\n", &["demo@1.0.0"]);
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("Resolved adaptor @openfn/language-demo to version 1.0.0"),
        "{log}"
    );
    let state = state.unwrap();
    // The adaptor's own `execute` ran (it adds `marker` first).
    assert_eq!(state["marker"], "demo");
    assert_eq!(
        state["summary"],
        json!({
            "n": 2,
            "set": {"k": "v"},
            "sloppy": true,
            "strict": {"shape": {"nestedLodash": "3", "dual": "dual as CommonJS", "answer": 42, "config": "cfg", "self": "string"}, "default": "strict default"},
            "double": 4,
            "shape": {"nestedLodash": "3", "dual": "dual as CommonJS", "answer": 42, "config": "cfg", "self": "string"},
            "json": "from json",
            "dual": "dual as ESM",
            "helper": "from #helpers",
            "indexed": "from lib/index.js",
            "auth": {"Authorization": "Basic dTpw"}
        }),
        "{log}"
    );
    // Compiled modules are kept on disk under the install root.
    let cached = std::fs::read_dir(root.join(".bolt-bytecode"))
        .unwrap()
        .count();
    assert!(cached >= 3, "{cached} cached modules");
    // And a second run (bytecode from memory) gives the same state.
    let (code, log, again) = data.run("summary();\nfn(s => s);\n", &["demo@1.0.0"]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(again.unwrap()["summary"]["shape"]["answer"], 42);
}

#[test]
fn a_commonjs_adaptor_gives_named_exports_and_requires_the_built_in_common() {
    let data = DataDir::new();
    data.install(
        "@openfn/language-cjsdemo",
        "0.1.0",
        &[
            (
                "node_modules/@openfn/language-cjsdemo/package.json",
                r#"{"name":"@openfn/language-cjsdemo","version":"0.1.0","main":"index.js","types":"types/index.d.ts"}"#,
            ),
            (
                "node_modules/@openfn/language-cjsdemo/types/index.d.ts",
                "export function greet(name: string): any;\nexport function fn(f: any): any;\nexport function execute(...ops: any[]): any;\n",
            ),
            (
                "node_modules/@openfn/language-cjsdemo/index.js",
                "'use strict';\nconst common = require('@openfn/language-common');\nconst { expandReferences } = require('@openfn/language-common/util');\nexports.execute = common.execute;\nexports.fn = common.fn;\nexports.greet = (name) => (state) => ({ ...state, greeting: 'hello ' + expandReferences(state, name)[0] });\n",
            ),
        ],
    );
    let (code, log, state) = data.run(
        "greet($.data.who);\nfn(s => ({ ...s, done: true }));\n",
        &["cjsdemo@0.1.0"],
    );
    assert_eq!(code, 0, "{log}");
    let state = state.unwrap();
    assert_eq!(state["greeting"], "hello undefined");
    assert_eq!(state["done"], true);
}

#[test]
fn errors_in_adaptor_code_are_adaptor_errors_and_its_console_is_adaptor_output() {
    let data = DataDir::new();
    install_demo(&data);
    let (code, log, state) = data.run("chatty();\nfails();\n", &["demo@1.0.0"]);
    assert_eq!(
        code, 0,
        "a fail-severity error still writes the state: {log}"
    );
    let error = &state.unwrap()["errors"]["job-1"];
    assert_eq!(error["name"], "AdaptorError", "{log}");
    assert_eq!(error["message"], "the demo server said no");
    assert_eq!(error["operationName"], "fails");
    assert_eq!(error["line"], 2);
    // Printed raw, formatted like Node's console, as OpenFn's CLI prints adaptor output.
    assert!(
        log.lines().any(|l| l == "adaptor says { ok: true }"),
        "{log}"
    );
}

#[test]
fn several_adaptors_on_one_step() {
    let data = DataDir::new();
    install_demo(&data);
    let (code, log, state) = data.run(
        "summary();\nfn(s => ({ ...s, n: s.summary.double }));\n",
        &["common", "demo@1.0.0"],
    );
    assert_eq!(code, 0, "{log}");
    let state = state.unwrap();
    assert_eq!(state["n"], 4);
    // Both adaptors define `execute`: OpenFn's star re-exports make it ambiguous, so the
    // runtime's own reducer runs (no `marker`).
    assert!(state.get("marker").is_none(), "{state}");
    assert!(log.contains("Resolved adaptor @openfn/language-common to version 3.3.4"));
    assert!(log.contains("Resolved adaptor @openfn/language-demo to version 1.0.0"));
}

fn failing_adaptor(data: &DataDir, name: &str, files: &[(&str, &str)]) -> (i32, String) {
    let mut all = vec![(
        format!("node_modules/@openfn/language-{name}/package.json"),
        format!(
            r#"{{"name":"@openfn/language-{name}","version":"1.0.0","type":"module","exports":{{".":{{"import":"./dist/index.js"}}}}}}"#
        ),
    )];
    all.extend(files.iter().map(|(p, t)| {
        (
            format!("node_modules/@openfn/language-{name}/{p}"),
            t.to_string(),
        )
    }));
    let borrowed: Vec<(&str, &str)> = all.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    data.install(&format!("@openfn/language-{name}"), "1.0.0", &borrowed);
    let (code, log, state) = data.run("fn(s => s);\n", &[&format!("{name}@1.0.0")]);
    assert!(state.is_none(), "a crash writes no state: {log}");
    (code, log)
}

#[test]
fn an_adaptor_that_throws_while_loading_names_the_package_and_the_error() {
    let data = DataDir::new();
    let (code, log) = failing_adaptor(
        &data,
        "throws",
        &[(
            "dist/index.js",
            "export const fn = (f) => f;\nthrow new TypeError('no configuration schema here');\n",
        )],
    );
    assert_eq!(code, 1);
    assert!(
        log.contains(
            "ImportError: Failed to load adaptor @openfn/language-throws@1.0.0: TypeError: no configuration schema here"
        ),
        "{log}"
    );
}

#[test]
fn a_missing_package_file_says_the_install_is_incomplete() {
    let data = DataDir::new();
    let (code, log) = failing_adaptor(&data, "missing", &[]);
    assert_eq!(code, 1);
    assert!(
        log.contains("Failed to load adaptor @openfn/language-missing@1.0.0"),
        "{log}"
    );
    assert!(log.contains("dist/index.js"), "{log}");
    assert!(log.contains("the install is incomplete"), "{log}");
    assert!(
        log.contains("bolt adaptor add @openfn/language-missing@1.0.0"),
        "{log}"
    );
}

#[test]
fn a_socket_driver_package_names_the_adaptor_and_the_package() {
    let data = DataDir::new();
    let (code, log) = failing_adaptor(
        &data,
        "pgsql",
        &[(
            "dist/index.js",
            "import pg from 'pg';\nexport const fn = (f) => f;\n",
        )],
    );
    assert_eq!(code, 1);
    assert!(
        log.contains(
            "@openfn/language-pgsql@1.0.0 needs the package `pg`, which talks to PostgreSQL over raw TCP sockets"
        ),
        "{log}"
    );
}

#[test]
fn an_unsupported_built_in_names_the_adaptor_and_the_module() {
    let data = DataDir::new();
    let (code, log) = failing_adaptor(
        &data,
        "sockets",
        &[(
            "dist/index.js",
            "import dgram from 'node:dgram';\nexport const fn = (f) => f;\n",
        )],
    );
    assert_eq!(code, 1);
    assert!(
        log.contains(
            "@openfn/language-sockets@1.0.0 needs Node's `dgram`, which opens UDP sockets, which bolt's sandbox does not allow"
        ),
        "{log}"
    );
}

#[test]
fn a_subpath_the_exports_map_does_not_export_is_refused() {
    let data = DataDir::new();
    let (code, log) = failing_adaptor(
        &data,
        "subpath",
        &[
            (
                "dist/index.js",
                "import x from 'dual/private';\nexport const fn = (f) => f;\n",
            ),
            (
                "node_modules/dual/package.json",
                r#"{"name":"dual","exports":{".":"./index.js"}}"#,
            ),
            ("node_modules/dual/index.js", "module.exports = 1;\n"),
        ],
    );
    assert_eq!(code, 1);
    assert!(
        log.contains("Package subpath './private' is not defined by \"exports\""),
        "{log}"
    );
}

#[test]
fn package_code_cannot_read_outside_its_install() {
    let data = DataDir::new();
    std::fs::write(data.path().join("secret.json"), "{\"token\": \"s3cret\"}").unwrap();
    let secret = data.path().join("secret.json");
    let (code, log) = failing_adaptor(
        &data,
        "escape",
        &[(
            "dist/index.js",
            "import secret from '../../../../../../../secret.json';\nexport const fn = (f) => f;\n",
        )],
    );
    assert_eq!(code, 1);
    assert!(
        log.contains("lies outside the install of @openfn/language-escape@1.0.0"),
        "{log}"
    );
    assert!(!log.contains("s3cret"), "{log}");

    // require() of an absolute path outside, caught by the adaptor, is still refused.
    data.install(
        "@openfn/language-escape2",
        "1.0.0",
        &[
            (
                "node_modules/@openfn/language-escape2/package.json",
                r#"{"name":"@openfn/language-escape2","version":"1.0.0","main":"index.js","types":"index.d.ts"}"#,
            ),
            (
                "node_modules/@openfn/language-escape2/index.d.ts",
                "export function peek(): any;\n",
            ),
            (
                "node_modules/@openfn/language-escape2/index.js",
                &format!(
                    "exports.peek = () => (state) => {{ try {{ return {{ leaked: require({:?}) }}; }} catch (e) {{ return {{ refused: e.code, message: e.message }}; }} }};\n",
                    secret.display().to_string()
                ),
            ),
        ],
    );
    let (code, log, state) = data.run("peek();\n", &["escape2@1.0.0"]);
    assert_eq!(code, 0, "{log}");
    let state = state.unwrap();
    assert_eq!(state["refused"], "ERR_ACCESS_DENIED", "{state}");
    assert!(state.get("leaked").is_none());
}

#[test]
fn version_rules_at_run_time() {
    let data = DataDir::new();
    // Neither built in nor installed: the exact command to install it.
    let (code, log, _) = data.run("fn(s => s);\n", &["openmrs@5.5.0"]);
    assert_eq!(code, 1);
    assert!(
        log.contains(
            "adaptor @openfn/language-openmrs@5.5.0 is not installed: install it with `bolt adaptor add @openfn/language-openmrs@5.5.0`"
        ),
        "{log}"
    );
    // Another major of common, not installed: the built-in runs and the log says so first.
    let (code, log, state) = data.run("fn(s => ({ ...s, ran: true }));\n", &["common@2.1.1"]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(state.unwrap()["ran"], true);
    let first_engine_line = log
        .lines()
        .find(|l| l.starts_with("[R/T]"))
        .unwrap_or_default();
    assert!(
        first_engine_line.contains("@openfn/language-common@2.1.1 is not installed")
            && first_engine_line.contains("bolt adaptor add @openfn/language-common@2.1.1"),
        "{log}"
    );
}

#[test]
fn a_local_package_directory_is_used_as_it_is() {
    let data = DataDir::new();
    let local = tempfile::tempdir().unwrap();
    let write = |relative: &str, text: &str| {
        let path = local.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "package.json",
        r#"{"name":"@openfn/language-mine","version":"0.0.1","type":"module","main":"src/index.js","types":"types.d.ts"}"#,
    );
    write("types.d.ts", "export function stamp(): any;\n");
    write(
        "src/index.js",
        "import pad from 'left-pad';\nexport const stamp = () => (state) => ({ ...state, stamp: pad('7', 3) });\n",
    );
    write(
        "node_modules/left-pad/index.js",
        "module.exports = (s, n) => String(s).padStart(n, '0');\n",
    );
    let spec = format!("@openfn/language-mine={}", local.path().display());
    let (code, log, state) = data.run("stamp();\n", &[&spec]);
    assert_eq!(code, 0, "{log}");
    assert_eq!(state.unwrap()["stamp"], "007");
    assert!(
        log.contains("Resolved adaptor @openfn/language-mine to version 0.0.1"),
        "{log}"
    );
    // Nothing is written into the user's package.
    assert!(!local.path().join(".bolt-bytecode").exists());
}

#[test]
fn a_step_on_an_npm_adaptor_leaves_its_runtime_reusable() {
    use bolt_engine::adaptors::choice::AdaptorSources;
    use bolt_engine::runtime::{EventSink, RunOptions, run_plan_blocking, warm};
    use bolt_engine::{Plan, PlanStep};
    let data = DataDir::new();
    install_demo(&data);
    let plan = Plan {
        steps: vec![PlanStep {
            id: "job-1".into(),
            expression: Some("summary();\nchatty();\n".into()),
            adaptor: Some("demo@1.0.0".into()),
            ..PlanStep::default()
        }],
        start: None,
        globals: None,
    };
    let options = RunOptions {
        adaptors: AdaptorSources::installed(InstalledAdaptors::in_data_dir(data.path())),
        ..RunOptions::default()
    };
    let sink = EventSink::new(Arc::new(|_| {}), Arc::new(|_| {}));
    for _ in 0..3 {
        let result = run_plan_blocking(&plan, json!({"data": {"n": 1}}), &options, &sink);
        assert_eq!(result.outcome.final_state.unwrap()["summary"]["double"], 2);
        // Nothing of the step (its modules, CommonJS records, console) survives the context.
        assert!(
            warm::has_spare(),
            "the runtime was not kept for the next step"
        );
    }
}
