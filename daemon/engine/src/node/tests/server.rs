//! A small HTTP/1.1 server on 127.0.0.1 for the HTTP test scripts, which both bolt and real
//! Node talk to (so their answers can be compared). Routes:
//!
//! - `/echo…` → 200 JSON `{method, path, headers: [[name, value]…], body}` (names
//!   lower-cased), with two `set-cookie` headers and `x-echo: 1`;
//! - `/gzip`, `/deflate`, `/br` → `{"compressed": true}` with that content-encoding;
//! - `/redirect/N` → 302 to `/redirect/N-1`, `/redirect/0` → 302 to `/echo`;
//!   `/see-other` → 303 to `/echo`; `/loop` → 302 to itself;
//! - `/status/N` → status N with a text body (a JSON one for 4xx and 5xx);
//! - `/slow` → answers after 2 s; `/text` → `hello`; `/binary` → bytes 0..=255;
//! - `/empty` → 204; `/bad-json` → `{oops` as application/json; `/free-port` → a port
//!   number nothing listens on.

#![allow(clippy::unwrap_used)]

use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

/// The server's base URL (started once per test process).
pub fn base_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || serve(stream));
            }
        });
        url
    })
}

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size).ok()?;
            let size = usize::from_str_radix(size.trim(), 16).ok()?;
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk).ok()?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
    }
    Some(Request {
        method,
        path,
        headers,
        body,
    })
}

fn respond(stream: &mut TcpStream, status: u16, headers: &[(&str, String)], body: &[u8]) {
    let reason = match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        303 => "See Other",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Whatever",
    };
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if status != 204 {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
}

fn serve(stream: TcpStream) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let mut stream = stream;
    let path = request.path.clone();
    let route = path.split('?').next().unwrap_or("").to_string();
    let json = |value: serde_json::Value| value.to_string().into_bytes();
    let json_type = ("Content-Type", "application/json".to_string());
    match route.as_str() {
        r if r.starts_with("/echo") => {
            let body = json(serde_json::json!({
                "method": request.method,
                "path": request.path,
                "headers": request.headers,
                "body": String::from_utf8_lossy(&request.body),
            }));
            respond(
                &mut stream,
                200,
                &[
                    json_type,
                    ("Set-Cookie", "a=1; Path=/".into()),
                    ("Set-Cookie", "b=2".into()),
                    ("X-Echo", "1".into()),
                ],
                &body,
            );
        }
        "/gzip" | "/deflate" | "/br" => {
            let plain = br#"{"compressed":true}"#;
            let (encoding, body) = match route.as_str() {
                "/gzip" => {
                    let mut e = GzEncoder::new(Vec::new(), Compression::default());
                    e.write_all(plain).unwrap();
                    ("gzip", e.finish().unwrap())
                }
                "/deflate" => {
                    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
                    e.write_all(plain).unwrap();
                    ("deflate", e.finish().unwrap())
                }
                // `{"compressed":true}` compressed by Node's brotli.
                _ => ("br", {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD
                        .decode("CwmAeyJjb21wcmVzc2VkIjp0cnVlfQM=")
                        .unwrap()
                }),
            };
            respond(
                &mut stream,
                200,
                &[json_type, ("Content-Encoding", encoding.into())],
                &body,
            );
        }
        r if r.starts_with("/redirect/") => {
            let n: u32 = r["/redirect/".len()..].parse().unwrap_or(0);
            let location = if n == 0 {
                "/echo".to_string()
            } else {
                format!("/redirect/{}", n - 1)
            };
            respond(&mut stream, 302, &[("Location", location)], b"");
        }
        "/see-other" => respond(&mut stream, 303, &[("Location", "/echo".into())], b""),
        "/loop" => respond(&mut stream, 302, &[("Location", "/loop".into())], b""),
        r if r.starts_with("/status/") => {
            let status: u16 = r["/status/".len()..].parse().unwrap_or(500);
            if status >= 400 {
                respond(
                    &mut stream,
                    status,
                    &[json_type],
                    &json(serde_json::json!({"error": status})),
                );
            } else {
                respond(
                    &mut stream,
                    status,
                    &[("Content-Type", "text/plain".into())],
                    format!("status {status}").as_bytes(),
                );
            }
        }
        "/slow" => {
            std::thread::sleep(Duration::from_secs(2));
            respond(
                &mut stream,
                200,
                &[("Content-Type", "text/plain".into())],
                b"late",
            );
        }
        "/text" => respond(
            &mut stream,
            200,
            &[("Content-Type", "text/plain; charset=utf-8".into())],
            b"hello",
        ),
        "/binary" => {
            let bytes: Vec<u8> = (0..=255).collect();
            respond(
                &mut stream,
                200,
                &[("Content-Type", "application/octet-stream".into())],
                &bytes,
            );
        }
        "/empty" => respond(&mut stream, 204, &[], b""),
        "/free-port" => {
            // A port nothing listens on (bound, then released).
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            respond(
                &mut stream,
                200,
                &[("Content-Type", "text/plain".into())],
                port.to_string().as_bytes(),
            );
        }
        "/bad-json" => respond(&mut stream, 200, &[json_type], b"{oops"),
        _ => respond(
            &mut stream,
            404,
            &[("Content-Type", "text/plain".into())],
            b"no route",
        ),
    }
}
