//! Roles on the socket: who may send which request. [`TABLE`] is the one place that says
//! which role each request kind needs; boltd checks every request against it and
//! `bolt access` prints it.

use crate::config::AccessConfig;
use crate::protocol::Request;
use serde::{Deserialize, Serialize};

/// What a caller may do; each role may do everything the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads: status, runs, show, logs, failures, audit, versions, diff.
    Viewer,
    /// Also triggers, reruns, cancels, edits jobs, deploys and rolls back.
    Editor,
    /// Also manages credentials, adaptors, settings, roles, the key and backups.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// "a viewer", "an editor", "an admin".
    pub fn with_article(self) -> String {
        let name = self.name();
        let article = if name.starts_with(['a', 'e']) {
            "an"
        } else {
            "a"
        };
        format!("{article} {name}")
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The role each request kind needs (`None`: anyone who reaches the socket). Kinds are
/// the requests' names on the wire and in refusals ("rerun needs the editor role").
pub const TABLE: &[(&str, Option<Role>)] = &[
    ("ping", None),
    ("access", None),
    ("status", Some(Role::Viewer)),
    ("subscribe", Some(Role::Viewer)),
    ("subscribe_run", Some(Role::Viewer)),
    ("export", Some(Role::Viewer)),
    ("list_workflows", Some(Role::Viewer)),
    ("get_workflow", Some(Role::Viewer)),
    ("workflow_versions", Some(Role::Viewer)),
    ("workflow_diff", Some(Role::Viewer)),
    ("credential_list", Some(Role::Viewer)),
    ("list_work_orders", Some(Role::Viewer)),
    ("show", Some(Role::Viewer)),
    ("dataclip", Some(Role::Viewer)),
    ("logs", Some(Role::Viewer)),
    ("failures", Some(Role::Viewer)),
    ("audit", Some(Role::Viewer)),
    ("audit_verify", Some(Role::Viewer)),
    ("adaptor_list", Some(Role::Viewer)),
    ("collection_list", Some(Role::Viewer)),
    ("collection_get", Some(Role::Viewer)),
    ("collection_items", Some(Role::Viewer)),
    ("trigger", Some(Role::Editor)),
    ("rerun", Some(Role::Editor)),
    ("rerun_matching", Some(Role::Editor)),
    ("cancel", Some(Role::Editor)),
    ("save_input", Some(Role::Editor)),
    ("update_job", Some(Role::Editor)),
    ("set_workflow_constants", Some(Role::Editor)),
    ("set_workflow_enabled", Some(Role::Editor)),
    ("deploy", Some(Role::Editor)),
    ("workflow_rollback", Some(Role::Editor)),
    ("collection_create", Some(Role::Editor)),
    ("collection_delete", Some(Role::Editor)),
    ("collection_set", Some(Role::Editor)),
    ("collection_remove", Some(Role::Editor)),
    ("credential_set", Some(Role::Admin)),
    ("credential_update", Some(Role::Admin)),
    ("credential_remove", Some(Role::Admin)),
    ("credential_show", Some(Role::Admin)),
    ("rotate_key", Some(Role::Admin)),
    ("adaptor_add", Some(Role::Admin)),
    ("adaptor_remove", Some(Role::Admin)),
    ("set_project_settings", Some(Role::Admin)),
    ("access_reload", Some(Role::Admin)),
    ("backup", Some(Role::Admin)),
    ("stop", Some(Role::Admin)),
];

/// The request's kind, as [`TABLE`] and the wire name it.
pub fn kind_of(request: &Request) -> &'static str {
    match request {
        Request::Ping => "ping",
        Request::Access => "access",
        Request::AccessReload => "access_reload",
        Request::Status => "status",
        Request::Subscribe => "subscribe",
        Request::SubscribeRun { .. } => "subscribe_run",
        Request::Deploy { .. } => "deploy",
        Request::Export { .. } => "export",
        Request::ListWorkflows => "list_workflows",
        Request::GetWorkflow { .. } => "get_workflow",
        Request::SetWorkflowEnabled { .. } => "set_workflow_enabled",
        Request::UpdateJob { .. } => "update_job",
        Request::SetWorkflowConstants { .. } => "set_workflow_constants",
        Request::SetProjectSettings { .. } => "set_project_settings",
        Request::WorkflowVersions { .. } => "workflow_versions",
        Request::WorkflowDiff { .. } => "workflow_diff",
        Request::WorkflowRollback { .. } => "workflow_rollback",
        Request::CredentialSet { .. } => "credential_set",
        Request::CredentialList => "credential_list",
        Request::CredentialRemove { .. } => "credential_remove",
        Request::CredentialShow { .. } => "credential_show",
        Request::CredentialUpdate { .. } => "credential_update",
        Request::RotateKey => "rotate_key",
        Request::Backup { .. } => "backup",
        Request::Trigger { .. } => "trigger",
        Request::ListWorkOrders { .. } => "list_work_orders",
        Request::Show { .. } => "show",
        Request::Dataclip { .. } => "dataclip",
        Request::Logs { .. } => "logs",
        Request::Rerun { .. } => "rerun",
        Request::RerunMatching { .. } => "rerun_matching",
        Request::Cancel { .. } => "cancel",
        Request::SaveInput { .. } => "save_input",
        Request::Failures { .. } => "failures",
        Request::Audit { .. } => "audit",
        Request::AuditVerify => "audit_verify",
        Request::AdaptorAdd { .. } => "adaptor_add",
        Request::AdaptorList => "adaptor_list",
        Request::AdaptorRemove { .. } => "adaptor_remove",
        Request::Stop { .. } => "stop",
        Request::CollectionList { .. } => "collection_list",
        Request::CollectionCreate { .. } => "collection_create",
        Request::CollectionDelete { .. } => "collection_delete",
        Request::CollectionGet { .. } => "collection_get",
        Request::CollectionItems { .. } => "collection_items",
        Request::CollectionSet { .. } => "collection_set",
        Request::CollectionRemove { .. } => "collection_remove",
    }
}

/// The role a request kind needs; a kind missing from the table needs admin.
pub fn needed_for(kind: &str) -> Option<Role> {
    TABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, role)| *role)
        .unwrap_or(Some(Role::Admin))
}

/// Whether `role` may send request kind `kind`.
pub fn allows(role: Option<Role>, kind: &str) -> bool {
    match needed_for(kind) {
        None => true,
        Some(needed) => role.is_some_and(|role| role >= needed),
    }
}

/// The refusal a caller gets: "rerun needs the editor role; alice is a viewer".
pub fn refusal(kind: &str, caller: &str, role: Option<Role>) -> String {
    let needed = needed_for(kind).unwrap_or(Role::Viewer);
    let has = match role {
        Some(role) => format!("{caller} is {}", role.with_article()),
        None => format!("{caller} has no role in boltd's [access]"),
    };
    format!(
        "{kind} needs the {needed} role; {has}: ask an admin to add {caller} to `{}` in [access] of bolt.toml and run `bolt access reload`",
        needed.list_key()
    )
}

impl Role {
    /// The `[access]` key that lists this role's users.
    pub fn list_key(self) -> &'static str {
        match self {
            Role::Viewer => "viewers",
            Role::Editor => "editors",
            Role::Admin => "admins",
        }
    }
}

/// A Unix user or group named in `[access]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    User(String),
    Group(String),
}

impl Principal {
    pub fn parse(entry: &str) -> Result<Principal, String> {
        let entry = entry.trim();
        let (principal, name) = match entry.strip_prefix("group:") {
            Some(group) => (Principal::Group(group.trim().to_string()), group.trim()),
            None => (Principal::User(entry.to_string()), entry),
        };
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(format!("`{entry}` is not a Unix user name or `group:NAME`"));
        }
        Ok(principal)
    }

    /// Whether the caller (`user`, member of `groups`) is this principal.
    pub fn matches(&self, user: &str, groups: &[String]) -> bool {
        match self {
            Principal::User(name) => name == user,
            Principal::Group(name) => groups.iter().any(|g| g == name),
        }
    }
}

impl AccessConfig {
    /// Entries that can't name a user or group.
    pub fn check(&self) -> Result<(), String> {
        for (key, list) in self.lists() {
            for entry in list {
                Principal::parse(entry).map_err(|why| format!("access.{key}: {why}"))?;
            }
        }
        if let Some(group) = &self.group
            && (group.trim().is_empty() || group.contains(char::is_whitespace))
        {
            return Err(format!(
                "access.group = \"{group}\" is not a Unix group name"
            ));
        }
        Ok(())
    }

    fn lists(&self) -> [(&'static str, &Vec<String>); 3] {
        [
            ("viewers", &self.viewers),
            ("editors", &self.editors),
            ("admins", &self.admins),
        ]
    }

    /// The highest role the lists give this caller.
    pub fn role_of(&self, user: &str, groups: &[String]) -> Option<Role> {
        [
            (Role::Admin, &self.admins),
            (Role::Editor, &self.editors),
            (Role::Viewer, &self.viewers),
        ]
        .into_iter()
        .find(|(_, list)| {
            list.iter()
                .filter_map(|entry| Principal::parse(entry).ok())
                .any(|p| p.matches(user, groups))
        })
        .map(|(role, _)| role)
    }
}

/// What `bolt access` shows: the caller, its role, and the table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessView {
    pub user: String,
    pub role: Option<Role>,
    /// False when bolt.toml has no [access]: whoever reaches the socket is admin.
    pub configured: bool,
    #[serde(default)]
    pub viewers: Vec<String>,
    #[serde(default)]
    pub editors: Vec<String>,
    #[serde(default)]
    pub admins: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Request kind → the role it needs (`None`: anyone).
    pub table: Vec<(String, Option<Role>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_row() {
        let mut kinds: Vec<&str> = TABLE.iter().map(|(k, _)| *k).collect();
        let all = kinds.len();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), all, "a kind is listed twice");
        let rerun = Request::Rerun {
            reference: "x".into(),
            from_job: None,
        };
        assert_eq!(needed_for(kind_of(&rerun)), Some(Role::Editor));
        // The wire name and the table's name are the same.
        let wire = serde_json::to_value(&rerun).unwrap();
        assert_eq!(wire["kind"], kind_of(&rerun));
        assert!(
            TABLE
                .iter()
                .any(|(k, _)| *k == kind_of(&Request::AuditVerify))
        );
    }

    #[test]
    fn roles_include_the_ones_below() {
        assert!(allows(Some(Role::Admin), "rerun"));
        assert!(allows(Some(Role::Editor), "rerun"));
        assert!(!allows(Some(Role::Viewer), "rerun"));
        assert!(allows(Some(Role::Viewer), "logs"));
        assert!(!allows(None, "status"));
        assert!(allows(None, "ping"));
        assert!(!allows(Some(Role::Editor), "credential_set"));
        assert!(!allows(Some(Role::Editor), "something_new"));
    }

    #[test]
    fn refusals_name_the_needed_role_and_the_caller_s() {
        let text = refusal("rerun", "alice", Some(Role::Viewer));
        assert!(
            text.starts_with("rerun needs the editor role; alice is a viewer"),
            "{text}"
        );
        let text = refusal("status", "mallory", None);
        assert!(text.contains("mallory has no role"), "{text}");
    }

    #[test]
    fn the_highest_listed_role_wins_and_groups_count() {
        let access = AccessConfig {
            viewers: vec!["alice".into(), "group:oncall".into()],
            editors: vec!["bob".into()],
            admins: vec!["alice".into()],
            group: None,
        };
        assert_eq!(access.role_of("alice", &[]), Some(Role::Admin));
        assert_eq!(access.role_of("bob", &[]), Some(Role::Editor));
        assert_eq!(
            access.role_of("carol", &["oncall".to_string()]),
            Some(Role::Viewer)
        );
        assert_eq!(access.role_of("dave", &["staff".to_string()]), None);
        let bad = AccessConfig {
            viewers: vec!["group:".into()],
            ..AccessConfig::default()
        };
        assert!(bad.check().unwrap_err().contains("access.viewers"));
    }
}
