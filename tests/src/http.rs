//! The tests' HTTP client: plain HTTP to the server under test on 127.0.0.1.

use std::time::Duration;

#[derive(Debug)]
pub struct HttpReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpReply {
    /// The work order id of a webhook's acknowledgement; the test fails, showing the
    /// answer, when there is none.
    pub fn work_order_id(&self) -> String {
        match self.json()["work_order_id"].as_str() {
            Some(id) => id.to_string(),
            None => panic!(
                "no work order id in the answer ({}): {}",
                self.status, self.body
            ),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// One HTTP request to the server under test (ureq; 4xx and 5xx are answers, not errors).
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> HttpReply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(body.to_vec()).expect("a well-formed request");
    let mut response = agent
        .run(request)
        .unwrap_or_else(|err| panic!("{method} http://{addr}{path}: {err}"));
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_vec()
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    HttpReply {
        status: response.status().as_u16(),
        headers,
        body,
    }
}
