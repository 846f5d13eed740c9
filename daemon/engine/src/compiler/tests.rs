//! Behaviour tests for the compiler: one group per transform, then OpenFn's conformance
//! fixtures compared structurally with OpenFn's own compiled output.

use super::*;

mod differential;
mod fixtures;
mod node_run;
mod structure;

/// An adaptor's export list, the same one the runtime compiles jobs with.
fn exports_of(adaptor: &str) -> Vec<String> {
    crate::adaptors::resolve(adaptor)
        .map(|module| module.exports.iter().map(|s| s.to_string()).collect())
        .unwrap_or_default()
}

pub(crate) fn common() -> CompileOptions {
    CompileOptions {
        adaptor: Some("@openfn/language-common".into()),
        adaptor_exports: exports_of("common"),
        ..CompileOptions::default()
    }
}

pub(crate) fn http() -> CompileOptions {
    CompileOptions {
        adaptor: Some("@openfn/language-http".into()),
        adaptor_exports: exports_of("http"),
        ..CompileOptions::default()
    }
}

fn code(source: &str) -> String {
    compile(source, &common()).expect("compiles").code
}

fn error(source: &str) -> CompileError {
    compile(source, &common()).expect_err("must not compile")
}

// ---- ensure-exports and top-level operations ----

#[test]
fn top_level_calls_become_the_default_export_in_order() {
    assert_eq!(
        code("fn(a);\nconst x = 1;\neach(b, fn(c));\n"),
        "import { each, fn } from \"@openfn/language-common\";\n\
         export * from \"@openfn/language-common\";\n\
         \nconst x = 1;\n\nexport default [fn(a), each(b, fn(c))];\n"
    );
}

#[test]
fn only_call_statements_are_hoisted() {
    let out = code("if (x) { fn(a) }\nawait fn(b);\nx = fn(c);\nhttp.get(d);\nfn?.(e);\n");
    assert!(out.ends_with("export default [http.get(d)];\n"), "{out}");
    assert!(out.contains("if (x) { fn(a) }"));
    assert!(out.contains("await fn(b);"));
}

#[test]
fn existing_default_array_gets_operations_appended() {
    let out = code("fn(a);\nexport default [fn(b),];\n");
    assert!(out.contains("export default [fn(b), fn(a),];"), "{out}");
    let out = code("fn(a);\nexport default [];");
    assert!(out.contains("export default [fn(a)];"), "{out}");
}

#[test]
fn other_default_exports_leave_the_module_alone() {
    let out = code("fn(a);\nexport default foo;\n");
    assert!(out.contains("fn(a);\nexport default foo;"), "{out}");
    let out = code("export default [];\nfn(a);\n");
    assert!(out.contains("export default [];\nfn(a);"), "{out}");
}

#[test]
fn named_exports_do_not_count_as_a_default_export() {
    let out = code("export const x = 1;\nfn(a);");
    assert!(out.contains("export const x = 1;"));
    assert!(out.ends_with("export default [fn(a)];\n"), "{out}");
}

#[test]
fn statements_left_behind_keep_a_semicolon() {
    // Without it, `b` and `[1]` would join into `b[1]` once `fn(x)` is moved away.
    let out = code("const a = b\nfn(x)\n;[1].forEach(f)");
    assert!(out.contains("const a = b;"), "{out}");
}

// ---- lazy state ----

#[test]
fn dollar_wraps_the_whole_argument_of_the_nearest_call() {
    let cases = [
        ("get($.data.endpoint)", "get(state => state.data.endpoint)"),
        (
            "get(`hello ${$.data}`)",
            "get(state => `hello ${state.data}`)",
        ),
        (
            "get($.a + \" \" + $.b)",
            "get(state => state.a + \" \" + state.b)",
        ),
        (
            "get(city[$.location])",
            "get(state => city[state.location])",
        ),
        ("get(!$.data.x)", "get(state => !state.data.x)"),
        ("fn($.f($.age))", "fn(state => state.f(state.age))"),
        (
            "post('/x', { name: $.data.name })",
            "post('/x', state => ({ name: state.data.name }))",
        ),
        (
            "each($.data.items, post(`/i/${$.data.id}`, $.data))",
            "each(state => state.data.items, post(state => `/i/${state.data.id}`, state => state.data))",
        ),
        ("cursor($.a || $.b)", "cursor(state => state.a || state.b)"),
        (
            "fn(() => { get($.data) })",
            "fn(() => { get(state => state.data) })",
        ),
        (
            "fnIf($.tags.includes('x'), y)",
            "fnIf((state => state.tags.includes)('x'), y)",
        ),
        (
            "fn($.a + g($.b))",
            "fn(state => state.a + g(state => state.b))",
        ),
        ("fn(state => $.a)", "fn(state => state.a)"),
        ("fn(1, $.f($.a.b))", "fn(1, state => state.f(state.a.b))"),
        ("fn($.f(x)(y))", "fn((state => state.f(x))(y))"),
        ("fn(new Foo($.a))", "fn(state => new Foo(state.a))"),
        ("fn($[0])", "fn(state => state[0])"),
    ];
    for (job, expected) in cases {
        let out = compile(job, &CompileOptions::default()).expect(job).code;
        assert_eq!(out, format!("export default [{expected}];\n"), "{job}");
    }
}

#[test]
fn dollar_left_alone_where_openfn_leaves_it() {
    for job in [
        "fn(\"$.a.b\")",
        "fn(($) => $.a)",
        "fn($)",
        "fn(function f($) { return $.a })",
    ] {
        let out = compile(job, &CompileOptions::default()).expect(job).code;
        assert_eq!(out, format!("export default [{job}];\n"));
    }
    // A top-level `const $` does not count (OpenFn ignores the global scope).
    let out = compile("const $ = 1;\nfn($.a)", &CompileOptions::default()).expect("compiles");
    assert!(out.code.contains("fn(state => state.a)"));
    // Inside a top-level object literal nothing is transformed.
    let out = compile("const o = { a: $.b };", &CompileOptions::default()).expect("compiles");
    assert!(out.code.contains("const o = { a: $.b };"));
}

#[test]
fn dollar_outside_an_operation_is_an_error() {
    let e = error("const name = $.data.name;\nfn(s => s);");
    assert_eq!(e.message, "Lazy State Error: Must be inside an operation");
    assert_eq!((e.line, e.column), (Some(1), Some(13)));
    assert_eq!(
        e.to_string(),
        "Lazy State Error: Must be inside an operation (line 1, column 13)"
    );
    for job in [
        "fn(() => { $.a = 1 })",
        "fn(function() { return $.a })",
        "new Foo($.a)",
    ] {
        assert!(
            error(job).message.contains("Must be inside an operation"),
            "{job}"
        );
    }
}

#[test]
fn dollar_in_an_arrow_argument_needs_a_state_parameter() {
    assert_eq!(
        error("fn(s => $.a)").message,
        "Lazy State Error: parameter \"s\" should be called \"state\""
    );
    assert_eq!(
        error("fn((a, b) => $.a)").message,
        "Lazy State Error: parent has wrong arity"
    );
}

// ---- promises ----

#[test]
fn then_and_catch_chains_become_defer_calls() {
    let cases = [
        (
            "fn(a).then(f).then(g)",
            "_defer(fn(a), p => p.then(f).then(g))",
        ),
        ("fn(a).catch(h)", "_defer(fn(a), undefined, h)"),
        ("fn(a).catch(h).then(f)", "_defer(fn(a), p => p.then(f), h)"),
        (
            "fn(a).then(f).catch(h)",
            "_defer(fn(a), p => p.then(f).catch(h))",
        ),
        (
            "each(\"$.data[*]\", post(x).then(s => s))",
            "each(\"$.data[*]\", _defer(post(x), p => p.then(s => s)))",
        ),
        (
            "fn(s => s).then($.data)",
            "_defer(fn(s => s), p => p.then(state => state.data))",
        ),
        (
            "each(x, fn(s).then(f)).then(g)",
            "_defer(each(x, fn(s).then(f)), p => p.then(g))",
        ),
        ("fn(s => get().then(f))", "fn(s => get().then(f))"),
    ];
    for (job, expected) in cases {
        let out = compile(job, &CompileOptions::default()).expect(job).code;
        let has_defer = expected.contains("_defer(");
        let import = if has_defer {
            format!("{RUNTIME_IMPORT}\n")
        } else {
            String::new()
        };
        assert_eq!(
            out,
            format!("{import}export default [{expected}];\n"),
            "{job}"
        );
    }
}

#[test]
fn runtime_import_goes_after_the_jobs_own_imports() {
    let out = compile("import x from 'y';\nfn(a).then(f);", &common()).expect("compiles");
    assert_eq!(
        out.code,
        "import { fn } from \"@openfn/language-common\";\n\
         export * from \"@openfn/language-common\";\n\
         import x from 'y';\n\
         import { defer as _defer } from \"@openfn/runtime\";\n\
         export default [_defer(fn(a), p => p.then(f))];\n"
    );
    assert_eq!(
        out.source_map.operations(),
        [Operation {
            name: Some("_defer".into()),
            line: None,
            order: 1
        }]
    );
}

#[test]
fn a_chain_not_on_a_call_is_refused() {
    assert!(
        error("x.then(f);")
            .message
            .contains("must follow an operation call")
    );
}

// ---- add-imports ----

#[test]
fn imports_only_undeclared_adaptor_exports() {
    let out = code("const each = 1;\nfn(s => merge(s, map));\nnotAnExport(1);");
    assert!(
        out.starts_with("import { fn, map, merge } from \"@openfn/language-common\";\n"),
        "{out}"
    );
}

#[test]
fn no_import_and_no_export_star_when_nothing_is_used() {
    let out = code("notAnExport(1);");
    assert_eq!(out, "export default [notAnExport(1)];\n");
}

#[test]
fn property_names_keys_and_shorthands_are_not_imports() {
    let out =
        code("x.fn;\ny = { each: 1 };\nz = { map };\nw = a[merge];\nconst o = { k: field() };");
    assert!(!out.contains("import {"), "{out}");
}

#[test]
fn declarations_count_function_wide_like_openfn() {
    // ast-types hoists block-scoped declarations to the enclosing function.
    let out = code("if (x) { const fn = 1 }\nfn(s => s);");
    assert!(!out.contains("import {"), "{out}");
    // A class method name is looked up like a variable.
    let out = code("class A { map() {} }");
    assert!(out.starts_with("import { map }"), "{out}");
}

#[test]
fn no_adaptor_means_no_imports() {
    let out = compile("fn(a)", &CompileOptions::default()).expect("compiles");
    assert_eq!(out.code, "export default [fn(a)];\n");
}

#[test]
fn unknown_exports_import_every_undeclared_name_but_globals() {
    let options = CompileOptions {
        adaptor: Some("x".into()),
        adaptor_exports: vec![],
        ..CompileOptions::default()
    };
    let out = compile(
        "fn(s => { console.log(JSON.stringify(s)); return s })",
        &options,
    )
    .expect("ok");
    assert!(
        out.code
            .starts_with("import { fn } from \"x\";\nexport * from \"x\";\n"),
        "{}",
        out.code
    );
}

/// `options` with bolt's module routing, as the runtime compiles jobs for its own adaptors.
fn routed(options: CompileOptions) -> CompileOptions {
    let adaptor = options.adaptor.clone().expect("an adaptor");
    CompileOptions {
        export_modules: crate::runtime::adaptor_bridge::export_modules(&adaptor),
        ..options
    }
}

#[test]
fn routed_header_imports_each_name_from_its_module_on_one_line() {
    let job = "fn(a);\neach(b, fn(c));\nlog('x');\nfn(s => _.get(s, 'a'));\n";
    let out = compile(job, &routed(common())).expect("compiles").code;
    assert_eq!(
        out,
        "import { _ } from \"@openfn/language-common/lodash\"; \
         import { each } from \"@openfn/language-common/data\"; \
         import { fn } from \"@openfn/language-common/core\"; \
         import { log } from \"@openfn/language-common/log\";\n\
         export { execute } from \"@openfn/language-common/core\";\n\
         \n\n\n\nexport default [fn(a), each(b, fn(c)), log('x'), fn(s => _.get(s, 'a'))];\n"
    );
}

#[test]
fn routed_header_for_http_takes_execute_and_its_own_names_from_http() {
    let job =
        "get('/x');\neach('$.data[*]', post('/y', s => s.data));\nfn(s => s);\ncursor('today');\n";
    let out = compile(job, &routed(http())).expect("compiles").code;
    let header: Vec<&str> = out.lines().take(2).collect();
    assert_eq!(
        header,
        [
            "import { cursor } from \"@openfn/language-common/cursor\"; \
             import { each } from \"@openfn/language-common/data\"; \
             import { fn } from \"@openfn/language-common/core\"; \
             import { get, post } from \"@openfn/language-http\";",
            "export { execute } from \"@openfn/language-http\";",
        ]
    );
}

#[test]
fn routed_header_lets_a_job_s_own_execute_win() {
    let job = "export function execute(...ops) { return s => s; }\nfn(a);\n";
    let out = compile(job, &routed(common())).expect("compiles").code;
    assert!(
        out.starts_with(
            "import { fn } from \"@openfn/language-common/core\";\n\
             export * from \"@openfn/language-common/core\";\n"
        ),
        "{out}"
    );
}

#[test]
fn routed_header_keeps_lines_and_the_source_map() {
    let job = "fn(s => {\n  throw new Error('x');\n});\nlog('a');\n";
    let plain = compile(job, &common()).expect("compiles");
    let split = compile(job, &routed(common())).expect("compiles");
    assert!(
        plain
            .code
            .starts_with("import { fn, log } from \"@openfn/language-common\";\n")
    );
    let body = |code: &str| code.lines().skip(2).map(String::from).collect::<Vec<_>>();
    assert_eq!(body(&plain.code), body(&split.code));
    for line in 1..=plain.code.lines().count() as u32 {
        for column in [0, 4, 10] {
            assert_eq!(
                plain.source_map.original_position(line, column),
                split.source_map.original_position(line, column),
                "{line}:{column}"
            );
        }
    }
    assert_eq!(plain.source_map.operations(), split.source_map.operations());
}

#[test]
fn without_routing_the_header_is_openfns() {
    let out = compile("fn(a); log(b);", &common()).expect("compiles").code;
    assert!(
        out.starts_with(
            "import { fn, log } from \"@openfn/language-common\";\n\
             export * from \"@openfn/language-common\";\n"
        ),
        "{out}"
    );
}

#[test]
fn a_job_using_only_fn_imports_only_the_core_module() {
    let out = compile("fn(s => s);", &routed(common()))
        .expect("compiles")
        .code;
    let modules: Vec<&str> = out
        .lines()
        .take(2)
        .flat_map(|line| line.split('"').skip(1).step_by(2))
        .collect();
    assert_eq!(
        modules,
        [
            "@openfn/language-common/core",
            "@openfn/language-common/core"
        ]
    );
}

// ---- syntax OpenFn rejects ----

#[test]
fn syntax_openfn_rejects_fails_to_compile() {
    for (job, message) in [
        ("const big = 10n;", "Unexpected token ILLEGAL"),
        ("const n = 1_000;", "Unexpected token ILLEGAL"),
        ("class A { #x = 1 }", "Unexpected token ILLEGAL"),
        ("#!/usr/bin/env node\nfn(x)", "Unexpected token ILLEGAL"),
        (
            "class A { static x = 1 }",
            "did not recognize object of type \"PropertyDefinition\"",
        ),
        (
            "fn(s => { try { x() } catch { return s } })",
            "null does not match type Pattern",
        ),
        ("fn(s => {", "SyntaxError"),
    ] {
        let e = error(job);
        assert!(e.message.contains(message), "{job}: {e}");
        assert!(e.line.is_some(), "{job}");
    }
    // Accepted modern syntax.
    code("x ??= a?.b ?? c; x ||= 1; const r = /(?<y>\\d)/s; try {} catch { }");
}

// ---- source map ----

#[test]
fn source_map_points_back_into_the_job() {
    let job = "// comment\nconst x = 1;\nfn(s => s.data.x.y);\n";
    let compiled = compile(job, &common()).expect("compiles");
    let lines: Vec<&str> = compiled.code.lines().collect();
    let (line, text) = lines
        .iter()
        .enumerate()
        .find(|(_, l)| l.starts_with("export default"))
        .expect("export line");
    let column = text.find("s.data").expect("s.data") as u32;
    assert_eq!(
        compiled
            .source_map
            .original_position(line as u32 + 1, column),
        Some((3, 8))
    );
    assert_eq!(compiled.source_map.original_position(1, 0), None);
    let x_line = lines
        .iter()
        .position(|l| l.starts_with("const x"))
        .expect("const") as u32
        + 1;
    assert_eq!(
        compiled.source_map.original_position(x_line, 6),
        Some((2, 6))
    );
}

/// Prints how long `compile` takes for a typical job; run with
/// `cargo test --release -p bolt-daemon --lib compile_speed -- --ignored --nocapture`.
#[test]
#[ignore = "timing"]
fn compile_speed() {
    let typical = include_str!(
        "../../../../tests/fixtures/openfn-conformance/002-compiler-top-level-declarations/job.js"
    );
    let larger: String = (0..50)
        .map(|i| {
            format!(
                "each($.data.items_{i}, fn(state => ({{ ...state, n{i}: state.data.x + {i} }})))\n  .then(s => s);\nconst helper{i} = (x) => x * {i};\n"
            )
        })
        .collect();
    for (name, job) in [
        ("typical (20 lines)", typical.to_string()),
        ("150 lines", larger),
    ] {
        let runs = 2000;
        compile(&job, &common()).expect("compiles");
        let start = std::time::Instant::now();
        for _ in 0..runs {
            std::hint::black_box(compile(&job, &common()).expect("compiles"));
        }
        let per_run = start.elapsed() / runs;
        let start = std::time::Instant::now();
        for _ in 0..runs {
            let allocator = oxc::allocator::Allocator::default();
            let parsed =
                oxc::parser::Parser::new(&allocator, &job, oxc::span::SourceType::mjs()).parse();
            let semantic = oxc::semantic::SemanticBuilder::new()
                .with_build_nodes(true)
                .with_check_syntax_error(true)
                .build(&parsed.program);
            std::hint::black_box(semantic.semantic.nodes().len());
        }
        let analysis = start.elapsed() / runs;
        println!("compile {name}: {per_run:?} per job, of which oxc parse + semantic {analysis:?}");
    }
}

#[test]
fn syntax_errors_read_well() {
    let e = error("fn(state => {\n  return { ...state, broken: [1, 2 };\n});\n");
    assert_eq!(
        e.to_string(),
        "SyntaxError: Expected `,` or `]` but found `}` (line 2, column 35)"
    );
}

#[test]
fn unknown_exports_mode_excludes_names_like_openfns_regex() {
    // OpenFn's globals regex is unanchored in the middle: "Map", "Set", "state"… anywhere.
    let options = CompileOptions {
        adaptor: Some("x".into()),
        adaptor_exports: vec![],
        ..CompileOptions::default()
    };
    let job = "myMap(1); foo(2); mySetter(3); stateful(4); data(5); AggregateErrorX(6); xWeakSet(7); WeakSetx(8);";
    let out = compile(job, &options).expect("compiles");
    assert!(
        out.code.starts_with("import { data, foo } from \"x\";\n"),
        "{}",
        out.code
    );
}

#[test]
fn empty_and_comment_only_jobs_export_no_operations() {
    assert_eq!(code(""), "export default [];\n");
    assert_eq!(
        code("// nothing here\n"),
        "// nothing here\nexport default [];\n"
    );
}

#[test]
fn windows_line_endings_keep_lines_mapped() {
    let compiled = compile("const a = 1;\r\nfn(s => s);\r\n", &common()).expect("compiles");
    assert!(compiled.code.contains("const a = 1;\r\n"));
    let line = compiled
        .code
        .lines()
        .position(|l| l.starts_with("export default"))
        .expect("export") as u32
        + 1;
    let column = compiled
        .code
        .lines()
        .nth(line as usize - 1)
        .and_then(|l| l.find("fn("))
        .expect("fn") as u32;
    assert_eq!(
        compiled.source_map.original_position(line, column),
        Some((2, 0))
    );
}

#[test]
fn promise_chain_on_a_new_expression_is_deferred_like_openfn() {
    let out = compile("new Promise(r => r()).then(f)", &CompileOptions::default()).expect("ok");
    assert!(
        out.code
            .ends_with("export default [_defer(new Promise(r => r()), p => p.then(f))];\n")
    );
}

#[test]
fn operations_index_names_and_lines() {
    let out = compile("fn(a);\n\nhttp.get(b);\neach(c, fn(d)).then(e);", &common()).expect("ok");
    assert_eq!(
        out.source_map.operations(),
        vec![
            Operation {
                name: Some("fn".into()),
                line: Some(1),
                order: 1
            },
            Operation {
                name: None,
                line: Some(3),
                order: 2
            },
            Operation {
                name: Some("_defer".into()),
                line: None,
                order: 3
            },
        ]
    );
}

#[test]
fn lazy_state_inside_an_unbound_catch_fails_like_openfn() {
    // Even without an adaptor: looking up `$` runs into the `catch {` clause.
    let e = compile(
        "fn(s => { try {} catch { merge($.a) } })",
        &CompileOptions::default(),
    )
    .expect_err("OpenFn fails");
    assert!(
        e.message.starts_with("null does not match type Pattern"),
        "{e}"
    );
    // Without `$` and without an adaptor nothing looks names up: it compiles.
    compile(
        "fn(s => { try {} catch { merge(1) } })",
        &CompileOptions::default(),
    )
    .expect("ok");
}

#[test]
fn wrapped_text_maps_to_the_argument() {
    let compiled = compile("get($.data.url);", &CompileOptions::default()).expect("ok");
    let line = compiled
        .code
        .lines()
        .position(|l| l.contains("state =>"))
        .expect("line") as u32
        + 1;
    let text = compiled.code.lines().nth(line as usize - 1).expect("text");
    let arrow = text.find("state =>").expect("arrow") as u32;
    let data = text.find(".data").expect("data") as u32;
    assert_eq!(
        compiled.source_map.original_position(line, arrow),
        Some((1, 4))
    );
    assert_eq!(
        compiled.source_map.original_position(line, data),
        Some((1, 5))
    );
}

// ---- several adaptors on one step (OpenFn's `-a a -a b`) ----

fn package(specifier: &str, exports: &[&str]) -> AdaptorImports {
    AdaptorImports {
        specifier: specifier.into(),
        exports: exports.iter().map(|s| s.to_string()).collect(),
        export_modules: None,
    }
}

#[test]
fn several_adaptors_each_get_an_import_and_a_star_export_last_listed_first() {
    // The fixture job `collections_openmrs_triage_queue` (-a openmrs -a collections).
    let options = CompileOptions {
        adaptor: Some("@openfn/language-openmrs".into()),
        adaptor_exports: ["http", "get", "each", "fn", "execute"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        more_adaptors: vec![package("@openfn/language-collections", &["collections"])],
        ..CompileOptions::default()
    };
    let out = compile(
        "collections.each('q', {}, (s) => s);\neach($.called, get('p'));\nfn(s => s);\n",
        &options,
    )
    .expect("compiles")
    .code;
    assert!(
        out.starts_with(
            "import { collections } from \"@openfn/language-collections\"; \
             import { get, each, fn } from \"@openfn/language-openmrs\";\n\
             export * from \"@openfn/language-collections\"; \
             export * from \"@openfn/language-openmrs\";\n"
        ),
        "{out}"
    );
}

#[test]
fn a_name_several_adaptors_export_comes_from_the_first_listed_and_unused_ones_are_left_out() {
    let options = CompileOptions {
        more_adaptors: vec![
            package("@openfn/language-demo", &["fn", "greet"]),
            package("@openfn/language-collections", &["collections"]),
        ],
        ..routed(common())
    };
    let out = compile("greet('x');\nfn(s => s);\n", &options)
        .expect("compiles")
        .code;
    assert!(
        out.starts_with(
            "import { greet } from \"@openfn/language-demo\"; \
             import { fn } from \"@openfn/language-common/core\";\n\
             export * from \"@openfn/language-demo\"; \
             export * from \"@openfn/language-common/core\";\n"
        ),
        "{out}"
    );
    assert!(!out.contains("collections"), "{out}");
    assert!(
        out.ends_with("export default [greet('x'), fn(s => s)];\n"),
        "{out}"
    );
}
