//! One HTTP exchange for language-http / language-common's `request`, with undici's
//! behaviour where OpenFn's outputs depend on it: headers and body timeouts, a bounded
//! number of followed redirects (else the 3xx is returned), and Node-style error values.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Uri;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use hyper::{Method, StatusCode};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls_platform_verifier::BuilderVerifierExt;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

/// undici's default connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What the JS side asks for. Field names are the JS contract (camelCase).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct HttpRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    #[serde(default)]
    body_text: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    #[serde(default)]
    max_redirections: u32,
    #[serde(default = "default_true")]
    reject_unauthorized: bool,
    /// PEM texts from the `tls` option (Node's `ca`, `cert`, `key`).
    #[serde(default)]
    tls: TlsMaterial,
    #[serde(default)]
    want_base64: bool,
}

#[derive(Debug, Default, Deserialize)]
struct TlsMaterial {
    #[serde(default)]
    ca: Vec<String>,
    #[serde(default)]
    cert: Option<String>,
    #[serde(default)]
    key: Option<String>,
}

impl TlsMaterial {
    fn is_empty(&self) -> bool {
        self.ca.is_empty() && self.cert.is_none() && self.key.is_none()
    }
}

fn default_timeout_ms() -> u64 {
    300_000
}

fn default_true() -> bool {
    true
}

/// A network-level failure, shaped like the error undici/Node would throw (own props in
/// Node's order), so `details` in OpenFn's AdaptorError come out the same.
#[derive(Debug)]
struct NetError(Value);

/// Performs the request and returns `{"ok":true,"status","headers":[[k,v]…],"url",
/// "bodyText","bodyBase64"?}` or `{"ok":false,"error":{"name","message","code",…}}`.
/// `Err` only when `request_json` itself is malformed.
pub async fn http_request(request_json: String) -> Result<String, String> {
    let request: HttpRequest =
        serde_json::from_str(&request_json).map_err(|e| format!("invalid HTTP request: {e}"))?;
    let result = match perform(&request).await {
        Ok(response) => response,
        Err(NetError(error)) => json!({ "ok": false, "error": error }),
    };
    serde_json::to_string(&result).map_err(|e| e.to_string())
}

/// The HTTP/1.1 client requests go through. Only what the job sets is sent: no default
/// headers (undici's `request` adds none; an `Accept` header can change what a server
/// answers). One client per thread: a pooled connection lives on the event loop of the
/// engine thread that opened it, so it must not be reused from another thread's loop.
type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

thread_local! {
    static VERIFYING: RefCell<Option<HttpClient>> = const { RefCell::new(None) };
    static INSECURE: RefCell<Option<HttpClient>> = const { RefCell::new(None) };
}

fn client_for(request: &HttpRequest) -> Result<HttpClient, NetError> {
    if !request.tls.is_empty() {
        // Custom CAs or a client certificate: a client for this request only (rare; not pooled).
        return Ok(build_client(tls_config(request)?));
    }
    let cell = if request.reject_unauthorized {
        &VERIFYING
    } else {
        &INSECURE
    };
    if let Some(client) = cell.with(|c| c.borrow().clone()) {
        return Ok(client);
    }
    let client = build_client(tls_config(request)?);
    cell.with(|c| *c.borrow_mut() = Some(client.clone()));
    Ok(client)
}

fn build_client(tls: rustls::ClientConfig) -> HttpClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// TLS as Node's `tls` options ask: the platform's trust store (or the given `ca`, which
/// replaces it), a client certificate, or no verification (`rejectUnauthorized: false`).
fn tls_config(request: &HttpRequest) -> Result<rustls::ClientConfig, NetError> {
    let tls_error = |e: &dyn std::fmt::Display| {
        plain_error(
            "Error",
            &format!("invalid TLS options: {e}"),
            Some("ERR_TLS_OPTIONS"),
        )
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error(&e))?;
    let builder = if !request.reject_unauthorized {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
    } else if !request.tls.ca.is_empty() {
        let mut roots = rustls::RootCertStore::empty();
        for pem in &request.tls.ca {
            for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                roots
                    .add(cert.map_err(|e| tls_error(&e))?)
                    .map_err(|e| tls_error(&e))?;
            }
        }
        builder.with_root_certificates(roots)
    } else {
        builder
            .with_platform_verifier()
            .map_err(|e| tls_error(&e))?
    };
    let config = match &request.tls.cert {
        Some(cert) => {
            let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls_error(&e))?;
            let key_pem = request.tls.key.as_deref().unwrap_or(cert);
            let key =
                PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| tls_error(&e))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| tls_error(&e))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(config)
}

/// `rejectUnauthorized: false`: any certificate is accepted (signatures are still checked).
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

async fn perform(request: &HttpRequest) -> Result<Value, NetError> {
    let client = client_for(request)?;
    let mut method = Method::from_bytes(request.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| invalid_argument(&format!("invalid method: {}", request.method)))?;
    let mut url = Url::parse(&request.url)
        .map_err(|_| plain_error("TypeError", "Invalid URL", Some("ERR_INVALID_URL")))?;
    let mut headers = header_map(&request.headers)?;
    let mut body = match (&request.body_text, &request.body_base64) {
        (Some(text), _) => Some(text.as_bytes().to_vec()),
        (None, Some(encoded)) => Some(
            BASE64
                .decode(encoded)
                .map_err(|e| invalid_argument(&format!("invalid base64 body: {e}")))?,
        ),
        (None, None) => None,
    };
    let timeout = Duration::from_millis(request.timeout_ms.max(1));
    let mut redirects_left = request.max_redirections;
    let mut visited = vec![url.clone()];
    loop {
        let uri: Uri = url
            .as_str()
            .parse()
            .map_err(|_| plain_error("TypeError", "Invalid URL", Some("ERR_INVALID_URL")))?;
        let mut outgoing = hyper::Request::builder()
            .method(method.clone())
            .uri(uri)
            .body(Full::new(Bytes::from(body.clone().unwrap_or_default())))
            .map_err(|e| invalid_argument(&e.to_string()))?;
        *outgoing.headers_mut() = headers.clone();
        let response = match tokio::time::timeout(timeout, client.request(outgoing)).await {
            Err(_) => {
                return Err(undici_error(
                    "HeadersTimeoutError",
                    "Headers Timeout Error",
                    "UND_ERR_HEADERS_TIMEOUT",
                ));
            }
            Ok(Err(e)) => return Err(network_error(&e, e.is_connect(), &url)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        if status.is_redirection()
            && redirects_left > 0
            && let Some(next) = redirect_target(response.headers(), &url)
        {
            redirects_left -= 1;
            if visited.contains(&next) {
                return Err(invalid_argument(&format!(
                    "Redirect loop detected. Cannot redirect to {}. This typically happens when using a Client or Pool with cross-origin redirects. Use an Agent for cross-origin redirects.",
                    next.origin().ascii_serialization()
                )));
            }
            visited.push(next.clone());
            // undici's redirect handler: 303 (and 301/302 after POST) become a body-less GET,
            // and credentials are not sent to another origin.
            if status == StatusCode::SEE_OTHER && method != Method::HEAD
                || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
                    && method == Method::POST
            {
                method = Method::GET;
                body = None;
                let content_headers: Vec<HeaderName> = headers
                    .keys()
                    .filter(|name| name.as_str().starts_with("content-"))
                    .cloned()
                    .collect();
                for name in content_headers {
                    headers.remove(name);
                }
            }
            if next.origin() != url.origin() {
                for name in ["authorization", "cookie", "proxy-authorization"] {
                    headers.remove(name);
                }
            }
            url = next;
            continue;
        }
        let (parts, mut incoming) = response.into_parts();
        let mut bytes = Vec::new();
        loop {
            match tokio::time::timeout(timeout, incoming.frame()).await {
                Err(_) => {
                    return Err(undici_error(
                        "BodyTimeoutError",
                        "Body Timeout Error",
                        "UND_ERR_BODY_TIMEOUT",
                    ));
                }
                Ok(Some(Err(e))) => return Err(network_error(&e, false, &url)),
                Ok(None) => break,
                Ok(Some(Ok(frame))) => {
                    if let Some(chunk) = frame.data_ref() {
                        bytes.extend_from_slice(chunk);
                    }
                }
            }
        }
        let headers: Vec<Value> = parts
            .headers
            .iter()
            .map(|(name, value)| json!([name.as_str(), String::from_utf8_lossy(value.as_bytes())]))
            .collect();
        let mut result = json!({
            "ok": true,
            "status": status.as_u16(),
            "headers": headers,
            "url": url.as_str(),
            "bodyText": String::from_utf8_lossy(&bytes),
        });
        if request.want_base64 {
            result["bodyBase64"] = Value::String(BASE64.encode(&bytes));
        }
        return Ok(result);
    }
}

fn redirect_target(headers: &HeaderMap, base: &Url) -> Option<Url> {
    let location = headers.get(LOCATION)?.to_str().ok()?;
    base.join(location).ok()
}

fn header_map(pairs: &[(String, String)]) -> Result<HeaderMap, NetError> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let header_name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid_argument(&format!("invalid {name} header")))?;
        let header_value = HeaderValue::from_str(value)
            .map_err(|_| invalid_argument(&format!("invalid {name} header")))?;
        map.append(header_name, header_value);
    }
    Ok(map)
}

fn undici_error(name: &str, message: &str, code: &str) -> NetError {
    NetError(json!({ "name": name, "message": message, "code": code }))
}

fn invalid_argument(message: &str) -> NetError {
    undici_error("InvalidArgumentError", message, "UND_ERR_INVALID_ARG")
}

fn plain_error(name: &str, message: &str, code: Option<&str>) -> NetError {
    let mut error = json!({ "name": name, "message": message });
    if let Some(code) = code {
        error["code"] = Value::from(code);
    }
    NetError(error)
}

/// Maps a transport failure (`connecting`: while connecting) onto the Node/undici error a
/// job would have seen.
fn network_error(
    error: &(dyn std::error::Error + 'static),
    connecting: bool,
    url: &Url,
) -> NetError {
    let host = url.host_str().unwrap_or_default().to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let chain = error_chain(error);
    let lower = chain.to_ascii_lowercase();
    if let Some(io) = find_io_error(error) {
        use std::io::ErrorKind;
        if connecting && io.kind() == ErrorKind::TimedOut {
            return undici_error(
                "ConnectTimeoutError",
                &format!(
                    "Connect Timeout Error (attempted address: {host}:{port}, timeout: 10000ms)"
                ),
                "UND_ERR_CONNECT_TIMEOUT",
            );
        }
        let (code, errno) = match io.kind() {
            ErrorKind::ConnectionRefused => ("ECONNREFUSED", -111),
            ErrorKind::ConnectionReset => ("ECONNRESET", -104),
            ErrorKind::TimedOut => ("ETIMEDOUT", -110),
            ErrorKind::HostUnreachable => ("EHOSTUNREACH", -113),
            ErrorKind::NetworkUnreachable => ("ENETUNREACH", -101),
            _ => ("", 0),
        };
        if !code.is_empty() && connecting {
            return NetError(json!({
                "name": "Error",
                "message": format!("connect {code} {host}:{port}"),
                "errno": errno,
                "code": code,
                "syscall": "connect",
                "address": host,
                "port": port,
            }));
        }
        if code == "ECONNRESET" {
            return NetError(
                json!({"name": "Error", "message": "read ECONNRESET", "errno": errno, "code": code, "syscall": "read"}),
            );
        }
    }
    if connecting
        && (lower.contains("dns") || lower.contains("lookup") || lower.contains("resolve"))
    {
        return NetError(json!({
            "name": "Error",
            "message": format!("getaddrinfo ENOTFOUND {host}"),
            "errno": -3008,
            "code": "ENOTFOUND",
            "syscall": "getaddrinfo",
            "hostname": host,
        }));
    }
    if lower.contains("certificate") || lower.contains("tls") {
        return plain_error("Error", &chain, Some("ERR_TLS_CERT"));
    }
    undici_error("SocketError", "other side closed", "UND_ERR_SOCKET")
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn find_io_error<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return Some(io);
        }
        source = cause.source();
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A one-connection-per-request HTTP/1.1 server on 127.0.0.1 answering with `respond`,
    /// which gets the request head and body. Returns its base URL.
    fn serve(respond: fn(&str, &str) -> String) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { break };
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut head = String::new();
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                            break;
                        }
                        head.push_str(&line);
                    }
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap())
                        })
                        .unwrap_or(0);
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    let reply = respond(&head, &String::from_utf8_lossy(&body));
                    let _ = stream.write_all(reply.as_bytes());
                });
            }
        });
        format!("http://{address}")
    }

    fn reply(status: &str, content_type: &str, body: &str) -> String {
        format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    async fn call(request: Value) -> Value {
        serde_json::from_str(&http_request(request.to_string()).await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn sends_method_headers_and_body_and_returns_status_headers_text() {
        let base = serve(|head, body| {
            let echoed = format!(
                "{}|{}|{body}",
                head.lines().next().unwrap(),
                head.lines().any(|l| l.eq_ignore_ascii_case("x-trace: t1"))
            );
            reply("201 Created", "text/plain", &echoed)
        });
        let got = call(json!({
            "method": "POST", "url": format!("{base}/items?a=1"),
            "headers": [["X-Trace", "t1"]], "bodyText": "{\"n\":1}", "timeoutMs": 5000,
        }))
        .await;
        assert_eq!(got["ok"], true);
        assert_eq!(got["status"], 201);
        assert_eq!(got["bodyText"], "POST /items?a=1 HTTP/1.1|true|{\"n\":1}");
        assert_eq!(got["headers"][0], json!(["content-type", "text/plain"]));
    }

    #[tokio::test]
    async fn sends_only_the_headers_the_job_sets() {
        let base = serve(|head, _| {
            let names: Vec<String> = head
                .lines()
                .skip(1)
                .filter_map(|l| l.split_once(':'))
                .map(|(name, _)| name.to_ascii_lowercase())
                .collect();
            reply("200 OK", "text/plain", &names.join(","))
        });
        let got = call(json!({"method": "GET", "url": base, "headers": [["X-Trace", "t1"]]})).await;
        // No `accept` (undici's request() sends none), no user agent.
        assert_eq!(got["bodyText"], "x-trace,host");
    }

    #[tokio::test]
    async fn headers_timeout_becomes_undici_error() {
        let base = serve(|_, _| {
            std::thread::sleep(Duration::from_millis(800));
            reply("200 OK", "text/plain", "late")
        });
        let got = call(json!({"method": "GET", "url": base, "timeoutMs": 100})).await;
        assert_eq!(
            got["error"],
            json!({"name": "HeadersTimeoutError", "message": "Headers Timeout Error", "code": "UND_ERR_HEADERS_TIMEOUT"})
        );
    }

    #[tokio::test]
    async fn connection_refused_looks_like_node() {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let got = call(json!({"method": "GET", "url": format!("http://127.0.0.1:{port}/x")})).await;
        assert_eq!(got["ok"], false);
        assert_eq!(got["error"]["code"], "ECONNREFUSED");
        assert_eq!(
            got["error"]["message"],
            format!("connect ECONNREFUSED 127.0.0.1:{port}")
        );
        assert_eq!(got["error"]["port"], port);
    }

    #[tokio::test]
    async fn redirects_followed_only_when_allowed() {
        let base = serve(|head, _| {
            if head.starts_with("GET /old") {
                "HTTP/1.1 302 Found\r\nLocation: /new\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else {
                reply("200 OK", "text/plain", head.lines().next().unwrap())
            }
        });
        let followed =
            call(json!({"method": "GET", "url": format!("{base}/old"), "maxRedirections": 5}))
                .await;
        assert_eq!(followed["status"], 200);
        assert_eq!(followed["bodyText"], "GET /new HTTP/1.1");
        let kept =
            call(json!({"method": "GET", "url": format!("{base}/old"), "maxRedirections": 0}))
                .await;
        assert_eq!(kept["status"], 302);
    }

    #[tokio::test]
    async fn redirect_loops_fail_like_undici() {
        let base = serve(|_, _| {
            "HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
        });
        let got =
            call(json!({"method": "GET", "url": format!("{base}/loop"), "maxRedirections": 5}))
                .await;
        assert_eq!(got["error"]["name"], "InvalidArgumentError");
        assert_eq!(got["error"]["code"], "UND_ERR_INVALID_ARG");
        assert!(
            got["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Redirect loop detected.")
        );
    }

    #[tokio::test]
    async fn see_other_turns_post_into_get_without_body() {
        let base = serve(|head, body| {
            if head.starts_with("POST /form") {
                "HTTP/1.1 303 See Other\r\nLocation: /done\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else {
                let has_content_type = head.to_ascii_lowercase().contains("content-type");
                reply(
                    "200 OK",
                    "text/plain",
                    &format!("{}|{has_content_type}|{body}", head.lines().next().unwrap()),
                )
            }
        });
        let got = call(json!({
            "method": "POST", "url": format!("{base}/form"), "maxRedirections": 1,
            "headers": [["Content-Type", "application/json"]], "bodyText": "{}",
        }))
        .await;
        assert_eq!(got["bodyText"], "GET /done HTTP/1.1|false|");
    }

    #[tokio::test]
    async fn base64_body_both_ways() {
        let base = serve(|_, body| reply("200 OK", "application/octet-stream", body));
        let got = call(json!({
            "method": "PUT", "url": base, "bodyBase64": BASE64.encode("hi"), "wantBase64": true,
        }))
        .await;
        assert_eq!(got["bodyBase64"], BASE64.encode("hi"));
    }

    #[tokio::test]
    async fn bad_tls_material_is_a_structured_error() {
        let got = call(json!({
            "method": "GET", "url": "https://127.0.0.1:1/x",
            "tls": {"cert": "not a certificate", "key": "not a key"},
        }))
        .await;
        assert_eq!(got["ok"], false);
        assert_eq!(got["error"]["code"], "ERR_TLS_OPTIONS");
    }

    #[tokio::test]
    async fn malformed_request_is_an_err() {
        assert!(http_request("{".to_string()).await.is_err());
        let got = call(json!({"method": "GET", "url": "not a url"})).await;
        assert_eq!(got["error"]["code"], "ERR_INVALID_URL");
    }
}
