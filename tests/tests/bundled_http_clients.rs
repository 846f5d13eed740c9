//! Older adaptors bundle their own HTTP client (axios, through Node's `http` module); it must
//! work through bolt's host like undici does. A local adaptor package depending on the real
//! axios from the npm registry runs with the real `bolt execute` against a server on
//! 127.0.0.1. Without npm or the registry the test says so and passes.

#![allow(clippy::unwrap_used)]

use bolt_e2e::bin;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

const PACKAGE_JSON: &str = r#"{"name":"@openfn/language-axiostest","version":"1.0.0","type":"module","main":"index.js","dependencies":{"axios":"^1.7.0"}}"#;

const ADAPTOR: &str = r#"import axios from 'axios';
export { fn } from '@openfn/language-common';
export function get(url) {
  return async (state) => {
    const res = await axios.get(url, { headers: { 'x-test': 'yes' } });
    return { ...state, got: res.data, status: res.status };
  };
}
export function post(url, body) {
  return async (state) => {
    const res = await axios.post(url, body);
    return { ...state, posted: res.data, postStatus: res.status };
  };
}
export function failing(url) {
  return async (state) => {
    try {
      await axios.get(url);
      return state;
    } catch (e) {
      return { ...state, failure: { status: e.response.status, body: e.response.data } };
    }
  };
}
"#;

/// Answers each request with JSON describing it (method, path, x-test header, body);
/// `/missing` gets 404.
fn serve(listener: TcpListener) {
    for stream in listener.incoming().flatten() {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        let mut length = 0usize;
        let mut x_test = Value::Null;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((&line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "x-test" => x_test = Value::String(value.trim().to_string()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut parts = request_line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let status = if path == "/missing" {
            "404 Not Found"
        } else {
            "200 OK"
        };
        let reply = serde_json::json!({
            "method": method,
            "path": path,
            "x_test": x_test,
            "body": String::from_utf8_lossy(&body),
        })
        .to_string();
        let mut stream = stream;
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
            reply.len()
        );
    }
}

fn npm_install(dir: &Path) -> Result<(), String> {
    let out = Command::new("npm")
        .args([
            "install",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--silent",
        ])
        .current_dir(dir)
        .output()
        .map_err(|e| format!("npm: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn an_adaptor_bundling_axios_talks_http_through_bolt() {
    let temp = tempfile::tempdir().unwrap();
    let package = temp.path().join("adaptor");
    std::fs::create_dir_all(&package).unwrap();
    std::fs::write(package.join("package.json"), PACKAGE_JSON).unwrap();
    std::fs::write(package.join("index.js"), ADAPTOR).unwrap();
    if let Err(why) = npm_install(&package) {
        eprintln!("skipped: npm could not install axios ({why})");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || serve(listener));
    let job = temp.path().join("job.js");
    std::fs::write(
        &job,
        format!(
            "get('{base}/hello?x=1');\npost('{base}/items', {{ a: 1 }});\nfailing('{base}/missing');\n"
        ),
    )
    .unwrap();
    let output = temp.path().join("out.json");
    let out = Command::new(bin("bolt"))
        .arg("execute")
        .arg(&job)
        .arg("-a")
        .arg(format!("@openfn/language-axiostest={}", package.display()))
        .arg("-o")
        .arg(&output)
        .arg("--data-dir")
        .arg(temp.path().join("data"))
        .env_remove("BOLT_CONFIG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let state: Value = serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    assert_eq!(state["status"], 200);
    assert_eq!(state["got"]["method"], "GET");
    assert_eq!(state["got"]["path"], "/hello?x=1");
    assert_eq!(state["got"]["x_test"], "yes");
    assert_eq!(state["postStatus"], 200);
    assert_eq!(state["posted"]["method"], "POST");
    assert_eq!(state["posted"]["body"], r#"{"a":1}"#);
    assert_eq!(state["failure"]["status"], 404);
    assert_eq!(state["failure"]["body"]["path"], "/missing");
}
