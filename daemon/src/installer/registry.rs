//! The npm registry client: package metadata (abbreviated documents) and tarballs, over
//! reqwest with rustls, with timeouts and a few retries for what a retry can fix
//! (connection failures, timeouts, 5xx, 429). Every package comes from the one registry
//! URL (no per-scope registries). A registry that needs a login takes the credentials in
//! its URL (`https://user:token@host/`): they go out as HTTP Basic auth, to the registry's
//! own host only (its documents and tarballs), and every message shows the URL without them.

use super::packument::Packument;
use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest silence while reading a response (not the whole download).
const READ_TIMEOUT: Duration = Duration::from_secs(60);
const ATTEMPTS: u32 = 3;
/// Larger metadata than any real package's (the biggest abbreviated ones are ~30 MiB).
const MAX_PACKUMENT_BYTES: u64 = 128 * 1024 * 1024;
/// Larger than any adaptor dependency's tarball.
pub const MAX_TARBALL_BYTES: u64 = 512 * 1024 * 1024;
const ABBREVIATED: &str =
    "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FetchError {
    #[error("{url} answered 404 Not Found")]
    NotFound { url: String },
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    #[error(
        "{url} refused access (HTTP {status}): give the registry's credentials in its URL (https://user:token@host/) or install with --from-file"
    )]
    Denied { url: String, status: u16 },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent a document bolt cannot read: {detail}")]
    Invalid { url: String, detail: String },
    #[error("{url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: u64 },
}

/// One registry, by its base URL.
#[derive(Clone)]
pub struct Registry {
    /// For requests (credentials included).
    base: String,
    /// For people: without credentials.
    shown: String,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("url", &self.shown)
            .finish()
    }
}

impl Registry {
    /// `url` must be http(s); a missing trailing slash is added.
    pub fn new(url: &str) -> Result<Registry, String> {
        let url = url.trim();
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| format!("registry URL {url:?} is not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!(
                "registry URL {url:?} must start with https:// (or http://)"
            ));
        }
        let mut base = url.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        let shown = redact(&base);
        Ok(Registry { base, shown })
    }

    /// The registry's URL as messages and manifests show it (never its credentials).
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// Where the metadata of `name` is: scoped names keep their `@` and escape the `/`.
    pub fn packument_url(&self, name: &str) -> String {
        format!("{}{}", self.base, name.replace('/', "%2f"))
    }

    /// Every version of `name`.
    pub async fn packument(&self, name: &str) -> Result<Packument, FetchError> {
        let url = self.packument_url(name);
        let bytes = fetch(&url, Some(ABBREVIATED), MAX_PACKUMENT_BYTES, &mut |_| {}).await?;
        serde_json::from_slice(&bytes).map_err(|e| FetchError::Invalid {
            url: redact(&url),
            detail: e.to_string(),
        })
    }

    /// A tarball's bytes; `on_bytes` hears of each chunk as it arrives.
    pub async fn tarball(
        &self,
        url: &str,
        on_bytes: &mut (dyn FnMut(u64) + Send),
    ) -> Result<Vec<u8>, FetchError> {
        let mut parsed = reqwest::Url::parse(url).map_err(|e| FetchError::Invalid {
            url: redact(url),
            detail: format!("not a tarball URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(FetchError::Invalid {
                url: redact(url),
                detail: "tarball URLs must be http(s)".into(),
            });
        }
        // The registry's credentials go along to its own host, as npm sends its token.
        if let Ok(base) = reqwest::Url::parse(&self.base)
            && !base.username().is_empty()
            && parsed.username().is_empty()
            && base.host_str() == parsed.host_str()
            && base.port_or_known_default() == parsed.port_or_known_default()
        {
            let _ = parsed.set_username(base.username());
            let _ = parsed.set_password(base.password());
        }
        fetch(parsed.as_str(), None, MAX_TARBALL_BYTES, on_bytes).await
    }
}

fn client() -> Result<reqwest::Client, String> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client.clone());
    }
    // Building a rustls client without a process-wide provider panics; another part of
    // bolt may already have installed one, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .user_agent(concat!(
            "bolt/",
            env!("CARGO_PKG_VERSION"),
            " (adaptor installer)"
        ))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
    Ok(CLIENT.get_or_init(|| client).clone())
}

/// GET with retries; the body is read up to `limit` bytes (gunzipped when the server
/// compressed it: reqwest here does not decompress by itself).
async fn fetch(
    url: &str,
    accept: Option<&str>,
    limit: u64,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<u8>, FetchError> {
    let shown = redact(url);
    let client = client().map_err(|detail| FetchError::Unreachable {
        url: shown.clone(),
        detail,
    })?;
    let mut last = None;
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(250 * 4u64.pow(attempt - 1))).await;
        }
        match fetch_once(&client, url, &shown, accept, limit, on_bytes).await {
            Ok(bytes) => return Ok(bytes),
            Err((error, retry)) if retry => last = Some(error),
            Err((error, _)) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| FetchError::Unreachable {
        url: shown,
        detail: "no attempt was made".into(),
    }))
}

/// One attempt; the flag says whether another attempt may succeed.
async fn fetch_once(
    client: &reqwest::Client,
    url: &str,
    shown: &str,
    accept: Option<&str>,
    limit: u64,
    on_bytes: &mut (dyn FnMut(u64) + Send),
) -> Result<Vec<u8>, (FetchError, bool)> {
    let unreachable = |e: reqwest::Error| {
        (
            FetchError::Unreachable {
                url: shown.to_string(),
                detail: root_cause(&e),
            },
            true,
        )
    };
    let mut request = client.get(url).header("accept-encoding", "gzip");
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let mut response = request.send().await.map_err(unreachable)?;
    let status = response.status().as_u16();
    match status {
        200..=299 => {}
        404 => {
            return Err((
                FetchError::NotFound {
                    url: shown.to_string(),
                },
                false,
            ));
        }
        401 | 403 => {
            return Err((
                FetchError::Denied {
                    url: shown.to_string(),
                    status,
                },
                false,
            ));
        }
        _ => {
            let retry = status == 429 || status >= 500;
            return Err((
                FetchError::Status {
                    url: shown.to_string(),
                    status,
                },
                retry,
            ));
        }
    }
    let too_large = || {
        (
            FetchError::TooLarge {
                url: shown.to_string(),
                limit,
            },
            false,
        )
    };
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let gzipped = response
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        on_bytes(chunk.len() as u64);
        body.extend_from_slice(&chunk);
    }
    if !gzipped {
        return Ok(body);
    }
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(body.as_slice())
        .take(limit + 1)
        .read_to_end(&mut plain)
        .map_err(|e| {
            (
                FetchError::Invalid {
                    url: shown.to_string(),
                    detail: format!("bad gzip encoding: {e}"),
                },
                true,
            )
        })?;
    if plain.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(plain)
}

/// `url` without its credentials (`https://***@host/`).
pub fn redact(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if !parsed.username().is_empty() || parsed.password().is_some() => {
            let _ = parsed.set_password(None);
            let _ = parsed.set_username("***");
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(an unreadable URL)".to_string(),
    }
}

/// The innermost cause ("Connection refused (os error 111)"), which says more than
/// reqwest's "error sending request".
fn root_cause(error: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let text = cause.to_string();
    if error.is_timeout() && !text.contains("timed out") {
        format!("timed out ({text})")
    } else {
        text
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests may unwrap
mod tests {
    use super::*;

    #[test]
    fn registry_urls() {
        let registry = Registry::new("http://127.0.0.1:9/npm").unwrap();
        assert_eq!(registry.url(), "http://127.0.0.1:9/npm/");
        assert_eq!(
            registry.packument_url("@openfn/language-common"),
            "http://127.0.0.1:9/npm/@openfn%2flanguage-common"
        );
        assert!(Registry::new("ftp://x").is_err());
        let private = Registry::new("https://me:s3cret@npm.example.org/").unwrap();
        assert_eq!(private.url(), "https://***@npm.example.org/");
        assert!(!format!("{private:?}").contains("s3cret"));
        assert_eq!(
            redact("https://npm.example.org/x"),
            "https://npm.example.org/x"
        );
        assert!(Registry::new("registry.npmjs.org").is_err());
    }

    #[tokio::test]
    async fn an_unreachable_registry_names_the_url_and_the_cause() {
        let registry = Registry::new("http://127.0.0.1:1/").unwrap();
        let error = registry.packument("x").await.unwrap_err();
        let FetchError::Unreachable { url, detail } = &error else {
            panic!("{error:?}");
        };
        assert_eq!(url, "http://127.0.0.1:1/x");
        let private = Registry::new("http://me:s3cret@127.0.0.1:1/").unwrap();
        let error = private.packument("x").await.unwrap_err().to_string();
        assert!(!error.contains("s3cret"), "{error}");
        assert!(error.contains("http://***@127.0.0.1:1/x"), "{error}");
        assert!(detail.to_lowercase().contains("refused"), "{detail}");
    }
}
