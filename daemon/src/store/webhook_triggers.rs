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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    /// Workflow `w` at version 2 with a webhook at a custom path (replying after completion,
    /// two credentials), an open disabled webhook and a cron; deleted workflow `gone` with
    /// a webhook.
    const TRIGGERS: &str = "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'p', 0, 0);
         INSERT INTO workflows (id, project_id, key, name, enabled, version, created_at, updated_at) VALUES ('w', 'p', 'w', 'W', 0, 2, 0, 0);
         INSERT INTO workflows (id, project_id, key, name, version, deleted_at, created_at, updated_at) VALUES ('gone', 'p', 'gone', 'G', 1, 5, 0, 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v1', 'w', 1, '{}', 'h', 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('v2', 'w', 2, '{}', 'h', 0);
         INSERT INTO workflow_versions (id, workflow_id, version, snapshot, hash, created_at) VALUES ('gv', 'gone', 1, '{}', 'h', 0);
         INSERT INTO triggers (id, workflow_id, key, type, custom_path, webhook_reply, auth)
           VALUES ('hook', 'w', 'hook', 'webhook', 'orders', 'after_completion', '[\"basic\", \"token\"]');
         INSERT INTO triggers (id, workflow_id, key, type, enabled) VALUES ('open', 'w', 'open', 'webhook', 0);
         INSERT INTO triggers (id, workflow_id, key, type, cron_expression) VALUES ('tick', 'w', 'tick', 'cron', '* * * * *');
         INSERT INTO triggers (id, workflow_id, key, type) VALUES ('dead', 'gone', 'hook', 'webhook');";

    #[test]
    fn a_path_names_a_webhook_by_id_or_custom_path() {
        suite::on_each_backend(|db| {
            suite::seed(db, TRIGGERS);
            for segment in ["hook", "orders"] {
                let found = by_path(db, segment).unwrap().expect("the webhook");
                assert_eq!(found.trigger_id, "hook");
                assert!(found.enabled);
                assert!(!found.workflow_enabled);
                assert_eq!(
                    (found.workflow_id.as_str(), found.project_id.as_str()),
                    ("w", "p")
                );
                assert_eq!(found.version_id, "v2", "the workflow's current version");
                assert_eq!(found.reply, WebhookReply::AfterCompletion);
                assert_eq!(found.auth, ["basic", "token"]);
            }
            let open = by_path(db, "open").unwrap().expect("the disabled webhook");
            assert!(!open.enabled);
            assert_eq!(open.reply, WebhookReply::BeforeStart);
            assert!(open.auth.is_empty());
            assert!(
                by_path(db, "tick").unwrap().is_none(),
                "a cron is no webhook"
            );
            assert!(
                by_path(db, "dead").unwrap().is_none(),
                "its workflow is deleted"
            );
            assert!(by_path(db, "nowhere").unwrap().is_none());
        });
    }
}
