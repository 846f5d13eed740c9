//! Webhook triggers in the store: the trigger a request path names.

use super::StoreResult;
use bolt_shared::model::{TriggerType, WebhookReply};
use bolt_sql::{Db, DbExt, params};

/// What intake needs of a webhook trigger.
#[derive(Debug, Clone)]
pub struct WebhookTrigger {
    pub trigger_id: String,
    pub enabled: bool,
    pub workflow_enabled: bool,
    pub workflow_id: String,
    pub project_id: String,
    /// The workflow's current version: the run's pinned code.
    pub version_id: String,
    pub reply: WebhookReply,
    /// Credentials a request must match (none: open).
    pub auth: Vec<String>,
}

const BY_PATH: &str = "SELECT t.id, t.enabled, w.enabled, w.id, w.project_id, v.id,
            t.webhook_reply, t.auth, t.type
     FROM triggers t JOIN workflows w ON w.id = t.workflow_id
     JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version
     WHERE (t.id = ?1 OR t.custom_path = ?1) AND w.deleted_at IS NULL";

/// The webhook trigger whose id or custom path is `segment`, if there is one.
pub fn by_path(db: &dyn Db, segment: &str) -> StoreResult<Option<WebhookTrigger>> {
    let found = db.query_row(BY_PATH, params![segment], |r| {
        let trigger = WebhookTrigger {
            trigger_id: r.get(0)?,
            enabled: r.get(1)?,
            workflow_enabled: r.get(2)?,
            workflow_id: r.get(3)?,
            project_id: r.get(4)?,
            version_id: r.get(5)?,
            reply: WebhookReply::parse(&r.get::<String>(6)?).unwrap_or(WebhookReply::BeforeStart),
            auth: r
                .get::<Option<String>>(7)?
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
        };
        Ok((trigger, r.get::<String>(8)?))
    })?;
    Ok(found
        .filter(|(_, kind)| kind == TriggerType::Webhook.as_str())
        .map(|(trigger, _)| trigger))
}
