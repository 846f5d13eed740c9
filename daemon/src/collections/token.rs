//! The bearer token a run gets for the collections API, as Lightning's worker gives each
//! run a token of its own: a JWT (HS256) whose subject is `run:<id>`, naming the run's
//! project, signed with a key derived from the data dir's secret. boltd accepts it only
//! while the run is under way: [`RunTokens::issue`] registers the run and the returned
//! [`LiveToken`] unregisters it when dropped (the run has ended), so a token copied out of
//! a run is worthless afterwards, and after a restart.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type HmacSha256 = Hmac<Sha256>;

/// What the data dir's secret is stretched for ([`crate::secrets::Vault::derive_key`]).
pub const KEY_PURPOSE: &str = "bolt collections run tokens v1";

const ISSUER: &str = "bolt";
/// `{"alg":"HS256","typ":"JWT"}`
const HEADER: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Claims {
    iss: String,
    /// `run:<run id>`, as Lightning's run tokens.
    sub: String,
    /// The run's project id.
    project: String,
    iat: i64,
    exp: i64,
}

/// Who a valid token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunClaims {
    pub run_id: String,
    pub project_id: String,
}

pub struct RunTokens {
    key: [u8; 32],
    /// Runs under way that hold a token: run id → project id.
    live: Mutex<HashMap<String, String>>,
}

impl RunTokens {
    pub fn new(key: [u8; 32]) -> Arc<RunTokens> {
        Arc::new(RunTokens {
            key,
            live: Mutex::new(HashMap::new()),
        })
    }

    fn mac(&self) -> HmacSha256 {
        <HmacSha256 as Mac>::new_from_slice(&self.key).expect("HMAC takes a key of any length")
    }

    /// A token for a run of a project, valid for `ttl` at most and only until the returned
    /// [`LiveToken`] is dropped.
    pub fn issue(self: &Arc<Self>, run_id: &str, project_id: &str, ttl: Duration) -> LiveToken {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            sub: format!("run:{run_id}"),
            project: project_id.into(),
            iat: now,
            exp: now.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
        };
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
        let signed = format!("{HEADER}.{payload}");
        let mut mac = self.mac();
        mac.update(signed.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        if let Ok(mut live) = self.live.lock() {
            live.insert(run_id.to_string(), project_id.to_string());
        }
        LiveToken {
            token: format!("{signed}.{signature}"),
            run_id: run_id.to_string(),
            tokens: self.clone(),
        }
    }

    /// The run and project a token speaks for, if it is genuine, unexpired and its run is
    /// still under way.
    pub fn verify(&self, token: &str) -> Option<RunClaims> {
        let mut parts = token.split('.');
        let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || header != HEADER {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        // Constant time: the comparison leaks nothing about how much of a guess was right.
        mac.verify_slice(&signature).ok()?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        if claims.iss != ISSUER || claims.exp <= chrono::Utc::now().timestamp() {
            return None;
        }
        let run_id = claims.sub.strip_prefix("run:")?;
        let live = self.live.lock().ok()?;
        (live.get(run_id) == Some(&claims.project)).then(|| RunClaims {
            run_id: run_id.to_string(),
            project_id: claims.project,
        })
    }

    fn revoke(&self, run_id: &str) {
        if let Ok(mut live) = self.live.lock() {
            live.remove(run_id);
        }
    }
}

/// A run's token; the token stops working when this is dropped.
pub struct LiveToken {
    token: String,
    run_id: String,
    tokens: Arc<RunTokens>,
}

impl LiveToken {
    pub fn as_str(&self) -> &str {
        &self.token
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.tokens.revoke(&self.run_id);
    }
}

impl std::fmt::Debug for LiveToken {
    // Never print the token itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LiveToken(run {})", self.run_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_token_speaks_for_its_run_and_project_while_the_run_lasts() {
        let tokens = RunTokens::new([7; 32]);
        let live = tokens.issue("run-1", "project-a", HOUR);
        let claims = tokens.verify(live.as_str()).expect("valid");
        assert_eq!(
            claims,
            RunClaims {
                run_id: "run-1".into(),
                project_id: "project-a".into()
            }
        );
        let text = live.as_str().to_string();
        drop(live);
        assert_eq!(tokens.verify(&text), None, "the run has ended");
    }

    #[test]
    fn forged_altered_and_foreign_tokens_fail() {
        let tokens = RunTokens::new([7; 32]);
        let live = tokens.issue("run-1", "project-a", HOUR);
        let text = live.as_str();
        // Another data dir's key.
        let other = RunTokens::new([8; 32]);
        let _also_live = other.issue("run-1", "project-a", HOUR);
        assert_eq!(other.verify(text), None);
        // The payload changed to another project, signature kept.
        let parts: Vec<&str> = text.split('.').collect();
        let forged_claims = Claims {
            iss: ISSUER.into(),
            sub: "run:run-1".into(),
            project: "project-b".into(),
            iat: 0,
            exp: i64::MAX,
        };
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap()),
            parts[2]
        );
        assert_eq!(tokens.verify(&forged), None);
        for junk in ["", "a.b", "a.b.c.d", "not a token", &format!("{text}x")] {
            assert_eq!(tokens.verify(junk), None, "{junk}");
        }
    }

    #[test]
    fn expired_tokens_fail() {
        let tokens = RunTokens::new([1; 32]);
        let live = tokens.issue("run-1", "p", Duration::ZERO);
        assert_eq!(tokens.verify(live.as_str()), None);
    }

    #[test]
    fn a_token_reissued_for_another_project_does_not_carry_over() {
        let tokens = RunTokens::new([1; 32]);
        let first = tokens.issue("run-1", "p", HOUR);
        let text = first.as_str().to_string();
        std::mem::forget(first);
        let _second = tokens.issue("run-1", "q", HOUR);
        assert_eq!(tokens.verify(&text), None);
    }

    #[test]
    fn debug_never_shows_the_token() {
        let tokens = RunTokens::new([1; 32]);
        let live = tokens.issue("run-1", "p", HOUR);
        let shown = format!("{live:?}");
        assert!(!shown.contains(live.as_str()), "{shown}");
    }
}
