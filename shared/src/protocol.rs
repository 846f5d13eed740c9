//! The socket protocol between `boltd` and its clients.
//!
//! JSON lines: every frame is one JSON object followed by `\n`. The client opens with
//! `Hello`; the daemon answers with its own `Hello` (or an error frame on a version
//! mismatch). After that the client sends `Request` frames with an id of its choosing and
//! gets exactly one `Response` or `Error` frame with the same id; after `Subscribe` it also
//! receives `Event` frames. A long request (an adaptor install, a deploy that installs
//! adaptors) may send `Progress` frames with its id before that one answer; clients that
//! don't show progress skip them. A frame that is not valid JSON, not a known message, or larger
//! than [`MAX_FRAME_BYTES`] gets an error frame; the connection stays usable.
//!
//! A client that says `parts: true` in its hello gets any server frame longer than
//! [`PART_BYTES`] (a run's huge log line, a large dataclip) as consecutive `part` frames: the
//! frame's JSON text cut in pieces, to be joined and read as one frame once a part says
//! `more: false`. Every frame on the wire then stays small, whatever the data.

use crate::access::{AccessView, Role};
use crate::adaptors::{AdaptorAddReport, AdaptorInfo, DeployAdaptor, InstallProgress};
use crate::audit::{AuditEvent, AuditFilter, ChainReport};
use crate::backup::{BackupProgress, BackupReport};
use crate::credential_view::{CredentialDetail, KeyRotation};
use crate::model::*;
use crate::versions::{RollbackReport, VersionList, WorkflowDiff};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Bumped on every incompatible change to the frames below.
pub const PROTOCOL_VERSION: u32 = 1;

/// Largest frame either side accepts (a deploy of a big project or a large dataclip fits).
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Server frames longer than this go to clients that accept parts as `part` frames of this
/// much JSON text each.
pub const PART_BYTES: usize = 1024 * 1024;

/// The most a client joins from parts into one frame.
pub const MAX_JOINED_BYTES: usize = 1024 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Hello {
        protocol: u32,
        client: String,
        /// The client joins `part` frames (older clients leave it out).
        #[serde(default)]
        parts: bool,
    },
    Request {
        id: u64,
        request: Request,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    Hello {
        protocol: u32,
        daemon: String,
        /// Who boltd takes the caller for (its Unix user), and the role that gives.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        user: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        role: Option<Role>,
    },
    Response {
        id: u64,
        response: Box<Response>,
    },
    Error {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<u64>,
        error: ErrorBody,
    },
    Event {
        event: Box<Event>,
    },
    /// Progress of the request `id`, sent before its response.
    Progress {
        id: u64,
        progress: Box<ProgressEvent>,
    },
    /// A piece of a longer frame's JSON text (only to clients that accept parts).
    Part {
        data: String,
        /// False on the last piece: join them all and read the frame.
        more: bool,
    },
}

/// Cuts an encoded frame (JSON text and its newline) into `part` frames of at most
/// `PART_BYTES` of text each, on character boundaries.
pub fn split_into_parts(line: &[u8]) -> Result<Vec<Vec<u8>>, serde_json::Error> {
    let text = String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line));
    let mut parts = Vec::new();
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let mut end = rest.len().min(PART_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (piece, tail) = rest.split_at(end);
        rest = tail;
        parts.push(encode(&ServerFrame::Part {
            data: piece.to_string(),
            more: !rest.is_empty(),
        })?);
    }
    Ok(parts)
}

/// What a progress frame carries: a step of an install, or pages of a backup copied.
/// (Both are tagged by `event`; their event names differ.)
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum ProgressEvent {
    Install(InstallProgress),
    Backup(BackupProgress),
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The frame could not be read (bad JSON, unknown message, too large).
    BadFrame,
    /// The protocol versions differ.
    ProtocolMismatch,
    /// A request arrived before the handshake.
    NoHandshake,
    /// The request's arguments are wrong (message says which and how to fix).
    BadRequest,
    NotFound,
    /// The request conflicts with the current state (e.g. rerun of a wiped input).
    Conflict,
    /// The caller's role does not allow the request (the message names both roles).
    Forbidden,
    /// Something failed inside the daemon; it keeps running.
    Internal,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// A saved input (`bolt input save`): a named dataclip retention never wipes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SavedInputInfo {
    pub name: String,
    pub id: String,
    /// The project it was saved from.
    pub project: Option<String>,
    pub size_bytes: Option<u64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The input of a manual run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum ManualInput {
    /// A JSON value written by the user; becomes a `saved_input` dataclip.
    Json { value: Value },
    /// A named dataclip saved earlier with `bolt input save`.
    Named { name: String },
    /// No input: `{}`.
    Empty,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Request {
    Ping,
    Status,
    /// Stream events on this connection from now on.
    Subscribe,
    /// Stream only one run's events (its log lines and state changes, and its steps') on
    /// this connection: what `bolt logs --follow` needs, and all a busy boltd sends it.
    SubscribeRun {
        run_id: String,
    },

    /// Validate and apply a project.yaml. `files` holds the `{path: ./file.js}` job bodies
    /// the file refers to, read by the client relative to the file.
    Deploy {
        yaml: String,
        file_name: String,
        #[serde(default)]
        files: std::collections::BTreeMap<String, String>,
        dry_run: bool,
        /// Delete the project's collections the file doesn't list (with their items).
        #[serde(default)]
        prune_collections: bool,
        /// Install the adaptor versions the project needs that are missing (`bolt deploy
        /// --no-install` sends false: deploy then only warns).
        #[serde(default = "yes")]
        install: bool,
    },
    Export {
        project: Option<String>,
    },
    ListWorkflows,
    GetWorkflow {
        workflow: String,
    },
    SetWorkflowEnabled {
        workflow: String,
        enabled: bool,
    },
    /// Replace a job's body; creates a new workflow version.
    UpdateJob {
        workflow: String,
        job: String,
        body: String,
    },
    /// Replaces a workflow's constants (name → JSON value), as a new version; job code and
    /// globals stay as they are.
    SetWorkflowConstants {
        workflow: String,
        constants: serde_json::Map<String, Value>,
    },
    SetProjectSettings {
        project: Option<String>,
        settings: ProjectSettings,
    },
    /// A workflow's versions, newest first (`workflow`: name, key, id or PROJECT/WORKFLOW).
    WorkflowVersions {
        workflow: String,
    },
    /// What differs between two versions (default: the one before `to`, and the latest).
    WorkflowDiff {
        workflow: String,
        #[serde(default)]
        from: Option<i64>,
        #[serde(default)]
        to: Option<i64>,
    },
    /// Makes a new version equal to version `to` (or with only `job` as it was in `to`).
    /// Runs in flight keep the version they started with.
    WorkflowRollback {
        workflow: String,
        to: i64,
        #[serde(default)]
        job: Option<String>,
    },

    CredentialSet {
        name: String,
        body: Value,
    },
    CredentialList,
    CredentialRemove {
        name: String,
    },
    /// A credential's fields (secret values masked), users and change history.
    CredentialShow {
        name: String,
    },
    /// Changes some fields of a credential and keeps the others (creates it when it
    /// doesn't exist and only `set` is given).
    CredentialUpdate {
        name: String,
        #[serde(default)]
        set: serde_json::Map<String, Value>,
        #[serde(default)]
        unset: Vec<String>,
    },
    /// A new encryption key: every credential re-encrypted in one transaction, the key
    /// file replaced, the old key kept as a dated backup file.
    RotateKey,
    /// Sends a sample event through one `[[notify]]` channel (by name, or `#N` / `N` for
    /// its place in bolt.toml) and says how it went.
    NotifyTest {
        channel: String,
    },
    /// An online copy of the store into `path` (absolute; written by boltd, 0600).
    /// Progress frames follow.
    Backup {
        path: String,
        /// Replace an existing file.
        #[serde(default)]
        force: bool,
    },

    Trigger {
        workflow: String,
        input: ManualInput,
        wait: bool,
    },
    ListWorkOrders {
        filter: WorkOrderFilter,
        limit: u32,
        after: Option<String>,
    },
    Show {
        reference: String,
        /// Include dataclip bodies.
        bodies: bool,
    },
    Dataclip {
        id: String,
    },
    Logs {
        reference: String,
        level: Option<LogLevel>,
        after_id: Option<i64>,
    },
    Rerun {
        reference: String,
        from_job: Option<String>,
    },
    RerunMatching {
        filter: WorkOrderFilter,
        from_job: Option<String>,
    },
    Cancel {
        reference: String,
    },
    SaveInput {
        reference: String,
        step: String,
        name: String,
    },
    /// The inputs kept with `SaveInput`.
    ListInputs,
    /// Forgets a saved input's name; the dataclip goes too unless history still uses it.
    RemoveInput {
        name: String,
    },
    Failures {
        since: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Audit events, newest first.
    Audit {
        #[serde(default)]
        filter: AuditFilter,
    },
    /// Walks the audit chain and reports the first gap or edit.
    AuditVerify,
    /// The caller's role and the table of what each role may do.
    Access,
    /// Re-reads [access] from bolt.toml.
    AccessReload,
    /// Install adaptor versions from the registry (`specs`) and/or from `npm pack` tarballs
    /// and bundles (`files`: absolute paths, read by boltd). Progress frames follow.
    AdaptorAdd {
        specs: Vec<String>,
        #[serde(default)]
        files: Vec<String>,
        /// Overrides the registry boltd would use.
        #[serde(default)]
        registry: Option<String>,
        /// Reinstall versions that are already installed.
        #[serde(default)]
        force: bool,
    },
    AdaptorList,
    /// Remove one installed version; refused while a deployed job pins it, unless `force`.
    AdaptorRemove {
        spec: String,
        #[serde(default)]
        force: bool,
    },
    /// Stop boltd: take no more webhooks or runs, let the runs under way finish (up to the
    /// configured grace; all at once with `now`), then exit.
    Stop {
        now: bool,
    },

    /// Collections (`project`: needed only when there are several projects).
    CollectionList {
        project: Option<String>,
    },
    CollectionCreate {
        project: Option<String>,
        name: String,
    },
    /// Deletes a collection with all its items.
    CollectionDelete {
        project: Option<String>,
        name: String,
    },
    /// One item by its exact key.
    CollectionGet {
        project: Option<String>,
        name: String,
        key: String,
    },
    /// A page of items, in order; `pattern` as Lightning's (`*`), `cursor` from the last page.
    CollectionItems {
        project: Option<String>,
        name: String,
        pattern: Option<String>,
        cursor: Option<String>,
        limit: u32,
    },
    /// Sets one item; `value` is stored as given (JSON text).
    CollectionSet {
        project: Option<String>,
        name: String,
        key: String,
        value: String,
    },
    /// Removes one item, or every item matching `key` when it holds a `*`.
    CollectionRemove {
        project: Option<String>,
        name: String,
        key: String,
    },
}

/// Per-project settings that `bolt project set` and project.yaml change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProjectSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_retention_days: Option<Option<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataclip_retention_days: Option<Option<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Option<u32>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeployReport {
    pub project: String,
    pub applied: bool,
    pub changes: Vec<DeployChange>,
    pub warnings: Vec<String>,
    /// The npm adaptors the project's jobs name, and what deploy did about each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adaptors: Vec<DeployAdaptor>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeployChange {
    /// created | updated | deleted
    pub action: String,
    /// workflow | job | trigger | edge | project
    pub what: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TriggerResult {
    pub work_order_id: String,
    pub run_id: String,
    /// Set when the request asked to wait for completion.
    pub final_state: Option<RunState>,
    pub output: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RerunOutcome {
    pub work_order_id: String,
    pub run_id: Option<String>,
    /// Why the work order was skipped, when it was.
    pub skipped: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    Pong,
    Status(Box<DaemonStatus>),
    Subscribed,
    Deployed(DeployReport),
    Exported {
        yaml: String,
    },
    Workflows {
        workflows: Vec<WorkflowView>,
    },
    Workflow(Box<WorkflowView>),
    Done {
        message: String,
    },
    Credentials {
        credentials: Vec<CredentialSummary>,
    },
    Triggered(TriggerResult),
    WorkOrders(WorkOrderPage),
    Shown(Box<ShowResult>),
    Dataclip(DataclipInfo),
    /// A page of log lines; `more` when there are later lines: ask again with `after_id`
    /// set to the last line's id.
    Logs {
        lines: Vec<LogLine>,
        #[serde(default)]
        more: bool,
    },
    Reruns {
        outcomes: Vec<RerunOutcome>,
    },
    Inputs {
        inputs: Vec<SavedInputInfo>,
    },
    Failures {
        groups: Vec<FailureGroup>,
    },
    /// boltd is stopping; `in_flight` runs are under way and get up to `grace_secs` to finish
    /// (0 when stopping now).
    Stopping {
        in_flight: usize,
        grace_secs: u64,
    },
    Collections {
        project: String,
        collections: Vec<CollectionSummary>,
    },
    CollectionItem {
        project: String,
        collection: String,
        item: Option<CollectionItem>,
    },
    CollectionItems {
        project: String,
        collection: String,
        items: Vec<CollectionItem>,
        /// Asks for the next page; `None` on the last.
        cursor: Option<String>,
    },
    CollectionChanged {
        project: String,
        collection: String,
        /// What changed, for people ("set `k`", "removed 3 items matching `a*`").
        message: String,
        /// Items written or removed.
        count: u64,
    },
    AdaptorsAdded(AdaptorAddReport),
    Adaptors {
        adaptors: Vec<AdaptorInfo>,
    },
    AdaptorRemoved(AdaptorInfo),
    Versions(VersionList),
    Diff(Box<WorkflowDiff>),
    RolledBack(Box<RollbackReport>),
    Credential(Box<CredentialDetail>),
    KeyRotated(KeyRotation),
    BackedUp(BackupReport),
    NotifyTested(Box<crate::notify::NotifyTestReport>),
    Audit {
        events: Vec<AuditEvent>,
    },
    AuditChain(ChainReport),
    Access(Box<AccessView>),
}

/// Live changes, pushed to subscribed connections.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    WorkOrderChanged {
        id: String,
        state: WorkOrderState,
        created: bool,
    },
    RunChanged {
        id: String,
        work_order_id: String,
        state: RunState,
        created: bool,
    },
    StepChanged {
        id: String,
        run_id: String,
        job: String,
        exit_reason: Option<ExitReason>,
    },
    Log(LogLine),
    WorkflowsChanged,
    /// Progress of a bulk rerun started by any client.
    BulkProgress {
        done: u64,
        total: u64,
    },
    /// The subscriber fell behind and missed `missed` events; it should refresh.
    Lagged {
        missed: u64,
    },
}

/// Encodes one frame as a JSON line.
pub fn encode<T: Serialize>(frame: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut bytes = serde_json::to_vec(frame)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// The message a client shows when the daemon speaks another protocol version.
pub fn mismatch_message(client_protocol: u32, daemon_protocol: u32) -> String {
    format!(
        "bolt {} speaks protocol {client_protocol}, boltd speaks {daemon_protocol}: restart boltd (or use the matching bolt)",
        env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_single_json_lines() {
        let frame = ClientFrame::Request {
            id: 7,
            request: Request::Show {
                reference: "abc".into(),
                bodies: true,
            },
        };
        let bytes = encode(&frame).unwrap();
        assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 1);
        let back: ClientFrame = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(back, frame);
    }

    #[test]
    fn every_response_round_trips() {
        let shown = Response::Shown(Box::new(ShowResult {
            kind: RefKind::Step,
            id: "x".into(),
            work_order: WorkOrderView {
                row: WorkOrderRow {
                    id: "w".into(),
                    short_ref: "w".into(),
                    project: "p".into(),
                    workflow_id: "f".into(),
                    workflow: "f".into(),
                    state: WorkOrderState::Failed,
                    origin: Origin::Webhook,
                    received_at: chrono::Utc::now(),
                    last_activity: chrono::Utc::now(),
                    duration_ms: None,
                    run_count: 1,
                    first_error: None,
                    input_wiped: false,
                    hit: None,
                },
                input: None,
                runs: vec![],
                source_address: None,
            },
        }));
        let text = serde_json::to_string(&shown).unwrap();
        assert_eq!(serde_json::from_str::<Response>(&text).unwrap(), shown);
    }

    #[test]
    fn progress_frames_name_their_request() {
        let frame = ServerFrame::Progress {
            id: 9,
            progress: Box::new(ProgressEvent::Install(InstallProgress::Fetched {
                adaptor: "@openfn/language-fhir@5.0.15".into(),
                package: "lodash@4.17.21".into(),
                bytes: 10,
                done: 1,
                total: 18,
                done_bytes: 10,
            })),
        };
        let text = String::from_utf8(encode(&frame).unwrap()).unwrap();
        assert!(
            text.starts_with(r#"{"type":"progress","id":9,"progress":{"event":"fetched""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), frame);
        // An older client's deploy request (no `install`) still installs.
        let request: Request = serde_json::from_str(
            r#"{"kind":"deploy","yaml":"","file_name":"p.yaml","dry_run":false}"#,
        )
        .unwrap();
        assert!(matches!(request, Request::Deploy { install: true, .. }));
        let backup = ServerFrame::Progress {
            id: 3,
            progress: Box::new(ProgressEvent::Backup(BackupProgress::Copied {
                pages: 5,
                total_pages: 9,
            })),
        };
        let text = String::from_utf8(encode(&backup).unwrap()).unwrap();
        assert!(text.contains(r#""event":"copied""#), "{text}");
        assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), backup);
    }

    #[test]
    fn long_frames_are_cut_into_parts_that_join_back() {
        let frame = ServerFrame::Response {
            id: 3,
            response: Box::new(Response::Done {
                message: format!("{}\"é\"\n", "x".repeat(PART_BYTES * 2)),
            }),
        };
        let line = encode(&frame).unwrap();
        let parts = split_into_parts(&line).unwrap();
        assert_eq!(parts.len(), 3);
        let mut joined = String::new();
        for (i, part) in parts.iter().enumerate() {
            assert!(part.len() < PART_BYTES * 2 + 64);
            match serde_json::from_slice::<ServerFrame>(part).unwrap() {
                ServerFrame::Part { data, more } => {
                    assert_eq!(more, i + 1 < parts.len());
                    joined.push_str(&data);
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(serde_json::from_str::<ServerFrame>(&joined).unwrap(), frame);
    }

    #[test]
    fn mismatch_message_names_both_versions() {
        let text = mismatch_message(1, 2);
        assert!(text.contains("protocol 1"), "{text}");
        assert!(text.contains("boltd speaks 2"), "{text}");
        assert!(text.contains("restart boltd"), "{text}");
    }
}
