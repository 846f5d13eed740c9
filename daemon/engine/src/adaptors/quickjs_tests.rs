//! The adaptor modules evaluated in QuickJS itself (the engine they ship for), with the sync
//! host functions wired as the runtime wires them. Network-free.
#![allow(clippy::unwrap_used)] // tests may unwrap
use std::sync::{Arc, Mutex};

use rquickjs::function::{Async, Func};
use rquickjs::loader::{BuiltinLoader, BuiltinResolver};
use rquickjs::{
    AsyncContext, AsyncRuntime, CatchResultExt, Context, Ctx, Exception, Function, Module, Object,
    Runtime,
};

use super::{all, host, sub_modules};

/// Evaluates `test_module` (which may import both adaptors) and returns
/// `globalThis.result` plus every line the adaptors printed.
fn adaptor_loader() -> (BuiltinResolver, BuiltinLoader) {
    let mut resolver = BuiltinResolver::default();
    let mut loader = BuiltinLoader::default();
    for adaptor in all() {
        resolver.add_module(adaptor.specifier);
        loader.add_module(adaptor.specifier, adaptor.source);
    }
    for module in sub_modules() {
        resolver.add_module(module.specifier);
        loader.add_module(module.specifier, module.source);
    }
    (resolver, loader)
}

fn run_module(test_module: &str) -> (String, Vec<String>) {
    let runtime = Runtime::new().unwrap();
    let (resolver, loader) = adaptor_loader();
    runtime.set_loader(resolver, loader);
    let context = Context::full(&runtime).unwrap();
    let printed = Arc::new(Mutex::new(Vec::new()));
    let sink = printed.clone();
    let result = context.with(|ctx| {
        install_host(&ctx, sink).unwrap();
        let promise = Module::evaluate(ctx.clone(), "test-job", test_module)
            .unwrap_or_else(|e| panic!("{}", describe(&ctx, e)));
        promise
            .finish::<()>()
            .unwrap_or_else(|e| panic!("{}", describe(&ctx, e)));
        ctx.globals().get::<_, String>("result").unwrap()
    });
    let lines = printed.lock().unwrap().clone();
    (result, lines)
}

fn describe(ctx: &Ctx<'_>, error: rquickjs::Error) -> String {
    let caught = ctx.catch();
    match caught.as_exception() {
        Some(exception) => format!("{exception}"),
        None => format!("{error}: {caught:?}"),
    }
}

fn install_host<'js>(ctx: &Ctx<'js>, printed: Arc<Mutex<Vec<String>>>) -> rquickjs::Result<()> {
    let host_object = Object::new(ctx.clone())?;
    host_object.set(
        "jsonpath",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, path: String, json: String| {
            host::jsonpath_locate(&path, &json)
                .map_err(|message| Exception::throw_message(&ctx, &message))
        })?,
    )?;
    host_object.set(
        "parseCsv",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, text: String, options: String| {
                host::parse_csv(&text, &options)
                    .map_err(|message| Exception::throw_message(&ctx, &message))
            },
        )?,
    )?;
    host_object.set(
        "print",
        Function::new(ctx.clone(), move |level: String, line: String| {
            printed.lock().unwrap().push(format!("{level}: {line}"));
        })?,
    )?;
    ctx.globals().set("__bolt_host", host_object)
}

#[test]
fn common_operations_run_in_quickjs() {
    let (result, printed) = run_module(
        r#"
        import { execute, each, fn, parseCsv, cursor, dateFns, log, beta, validate, _ } from '@openfn/language-common';
        const state = {
          data: { invoices: [{ no: 1, paid: true }, { no: 2, paid: false }, { no: 3, paid: true }] },
          schema: { type: 'object', properties: { n: { type: 'integer', minimum: 0 } } },
        };
        const final = await execute(
          each('$.data.invoices[?(@.paid)]', fn((s) => ({ ...s, paid: [...(s.paid || []), s.data.no] }))),
          fn((s) => ({ ...s, data: { csv: 'name, age\nAna, 31\n\nBen ,42\n' } })),
          parseCsv((s) => s.data.csv, { chunkSize: 1 }, (s, rows) => ({ ...s, rows: [...(s.rows || []), ...rows] })),
          cursor('2024-03-05', { key: 'since' }),
          log('count', (s) => s.rows.length, { nested: { list: [1, 2] } }),
          beta.each([1, 2], fn((s) => ({ ...s, last: s.data }))),
          fn((s) => ({ ...s, data: { n: -1 } })),
          validate(),
          fn((s) => ({
            ...s,
            formatted: dateFns.format(new Date('2024-02-29T13:45:09Z'), 'EEEE, do MMMM yyyy HH:mm'),
            grouped: _.groupBy([{ k: 'a' }, { k: 'b' }, { k: 'a' }], 'k'),
          })),
        )(state);
        let missing;
        try { _.debounce(() => 1); } catch (e) { missing = e.message; }
        globalThis.result = JSON.stringify({
          paid: final.paid, rows: final.rows, since: final.since, last: final.last,
          formatted: final.formatted, grouped: final.grouped, missing,
          chained: _([3, 1, 2]).sortBy().map((x) => x * 2).value(),
          validation: final.validationErrors[0].errors[0].message,
        });
        "#,
    );
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(
        result,
        serde_json::json!({
            "paid": [1, 3],
            "rows": [{"name": "Ana", "age": "31"}, {"name": "Ben", "age": "42"}],
            "since": "2024-03-05",
            "last": 2,
            "formatted": "Thursday, 29th February 2024 13:45",
            "grouped": {"a": [{"k": "a"}, {"k": "a"}], "b": [{"k": "b"}]},
            "missing": "lodash function _.debounce is not available in bolt",
            "chained": [2, 4, 6],
            "validation": "must be >= 0",
        })
    );
    assert_eq!(
        printed,
        vec![
            "log: Setting since to: 2024-03-05".to_string(),
            "log: count 2 { nested: { list: [ 1, 2 ] } }".to_string(),
        ]
    );
}

#[test]
fn http_module_links_and_fails_like_openfn_without_network() {
    let (result, _) = run_module(
        r#"
        import * as httpAdaptor from '@openfn/language-http';
        const { execute, get } = httpAdaptor;
        let error;
        try {
          await execute(get('/patients'))({ data: { x: 1 } });
        } catch (e) {
          error = { message: e.message, ...e };
        }
        const initial = await execute((s) => s)({ data: { x: 1 } });
        globalThis.result = JSON.stringify({ exports: Object.keys(httpAdaptor).sort(), error, initial });
        "#,
    );
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    let http = all().iter().find(|a| a.short_name == "http").unwrap();
    let mut exports: Vec<&str> = http.exports.to_vec();
    exports.sort();
    assert_eq!(result["exports"], serde_json::json!(exports));
    assert_eq!(
        result["error"],
        serde_json::json!({
            "message": "UNEXPECTED_RELATIVE_URL",
            "code": "UNEXPECTED_RELATIVE_URL",
            "description": "You passed a relative URL but didn't set baseUrl",
            "url": "/patients",
            "fix": "Set the baseUrl on state.configuration or use an absolute URL, like https://example.com/api//patients",
        })
    );
    assert_eq!(
        result["initial"],
        serde_json::json!({"references": [], "data": {"x": 1}})
    );
}

/// A local HTTP/1.1 server answering every request with a JSON echo of it.
fn echo_server() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push(line.trim_end().to_string());
            }
            let header = |name: &str| {
                head.iter().find_map(|l| {
                    let (key, value) = l.split_once(':')?;
                    key.eq_ignore_ascii_case(name)
                        .then(|| value.trim().to_string())
                })
            };
            let length: usize = header("content-length").map_or(0, |v| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let echo = serde_json::json!({
                "requestLine": head[0],
                "contentType": header("content-type"),
                "authorization": header("authorization"),
                "body": String::from_utf8_lossy(&body),
            })
            .to_string();
            let status = if head[0].contains("/missing") {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{echo}",
                echo.len()
            );
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    format!("http://{address}")
}

fn install_async_host<'js>(ctx: &Ctx<'js>) -> rquickjs::Result<()> {
    install_host(ctx, Arc::new(Mutex::new(Vec::new())))?;
    let host_object: Object = ctx.globals().get("__bolt_host")?;
    host_object.set(
        "http",
        Func::from(Async(|ctx: Ctx<'js>, request: String| async move {
            host::http_request(request)
                .await
                .map_err(|message| Exception::throw_message(&ctx, &message))
        })),
    )
}

#[tokio::test]
async fn http_requests_go_through_the_async_host_function() {
    let base = echo_server();
    let runtime = AsyncRuntime::new().unwrap();
    let (resolver, loader) = adaptor_loader();
    runtime.set_loader(resolver, loader).await;
    let context = AsyncContext::full(&runtime).await.unwrap();
    let source = format!(
        r#"
        import {{ execute, get, post, each }} from '@openfn/language-http';
        const final = await execute(
          get('/items', {{ query: {{ page: 2, q: 'a b' }} }}),
          (s) => ({{ ...s, getEcho: s.data }}),
          each([{{ id: 1 }}], post((s) => `/items/${{s.data.id}}`, (s) => s.data)),
        )({{ data: {{ before: true }}, configuration: {{ baseUrl: '{base}/api', username: 'u', password: 'p' }} }});
        let failure;
        try {{
          await execute(get('{base}/missing'))({{ data: {{}} }});
        }} catch (e) {{
          failure = {{ message: e.message, statusCode: e.statusCode, statusMessage: e.statusMessage, body: e.body }};
        }}
        globalThis.result = JSON.stringify({{ final, failure }});
        "#
    );
    let result: String = context
        .async_with(async |ctx| {
            install_async_host(&ctx).unwrap();
            let promise = Module::evaluate(ctx.clone(), "test-job", source.as_str())
                .catch(&ctx)
                .unwrap();
            promise.into_future::<()>().await.catch(&ctx).unwrap();
            ctx.globals().get::<_, String>("result").unwrap()
        })
        .await;
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    let final_state = &result["final"];
    assert_eq!(
        final_state["getEcho"],
        serde_json::json!({
            "requestLine": "GET /api/items?page=2&q=a%20b HTTP/1.1",
            "contentType": "application/json",
            "authorization": "Basic dTpw",
            "body": "",
        })
    );
    assert_eq!(
        final_state["data"]["requestLine"],
        "POST /api/items/1 HTTP/1.1"
    );
    assert_eq!(final_state["data"]["body"], r#"{"id":1}"#);
    assert_eq!(
        final_state["references"],
        serde_json::json!([{"before": true}, {"id": 1}])
    );
    assert_eq!(final_state["response"]["statusCode"], 200);
    assert_eq!(final_state["response"]["method"], "POST");
    assert_eq!(
        result["failure"]["message"],
        format!("GET to {base}/missing returned 404: Not Found")
    );
    assert_eq!(
        result["failure"]["body"]["requestLine"],
        "GET /missing HTTP/1.1"
    );
}

/// The names a module really exports, read from its namespace in QuickJS.
fn exported_names(specifier: &str) -> Vec<String> {
    let (result, _) = run_module(&format!(
        "import * as ns from '{specifier}';\nglobalThis.result = JSON.stringify(Object.keys(ns));"
    ));
    let mut names: Vec<String> = serde_json::from_str(&result).unwrap();
    names.sort();
    names
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    names.sort();
    names
}

#[test]
fn module_exports_match_the_rust_tables() {
    for module in sub_modules() {
        assert_eq!(
            exported_names(module.specifier),
            sorted(module.exports),
            "{}",
            module.specifier
        );
    }
    for adaptor in all() {
        assert_eq!(
            exported_names(adaptor.specifier),
            sorted(adaptor.exports),
            "{}",
            adaptor.specifier
        );
    }
}

#[test]
fn the_facade_and_its_sub_modules_share_one_instance() {
    let (result, printed) = run_module(
        r#"
        import common, { cursor, validate, _ } from '@openfn/language-common';
        import { cursor as directCursor } from '@openfn/language-common/cursor';
        import { validate as directValidate } from '@openfn/language-common/validate';
        import { cursor as httpCursor } from '@openfn/language-http';
        // The key set through one import is the key the other uses.
        const state = cursor('a', { key: 'since' })({});
        directCursor('b')(state);
        globalThis.result = JSON.stringify({
          state,
          same: cursor === directCursor && cursor === httpCursor && validate === directValidate,
          defaultKeys: Object.keys(common).length,
          lodash: common._ === _,
        });
        "#,
    );
    let result: serde_json::Value = serde_json::from_str(&result).unwrap();
    assert_eq!(
        result,
        serde_json::json!({
            "state": {"since": "b"},
            "same": true,
            "defaultKeys": 40,
            "lodash": true,
        })
    );
    assert_eq!(printed.len(), 2);
}
