//! Domain types shared by the daemon, the TUI and scripts.
//!
//! The vocabulary follows OpenFn Lightning (work orders, runs, steps, dataclips) so that
//! people moving over recognise every word, and so Lightning's state rules carry over.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A type's name as people say it: `WorkOrderState` → "work order state".
fn type_in_words(name: &str) -> String {
    let mut words = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() && !words.is_empty() {
            words.push(' ');
        }
        words.push(c.to_ascii_lowercase());
    }
    words
}

/// Declares a string-like enum with a stable snake_case wire/storage name: strum gives the
/// names and the list of variants; parsing errors name the accepted values in words.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord,
            strum::IntoStaticStr, strum::Display, strum::VariantArray,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $(#[strum(serialize = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = <$name as strum::VariantArray>::VARIANTS;

            pub fn as_str(self) -> &'static str {
                self.into()
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                Self::parse(&text.to_ascii_lowercase()).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} '{}': use {}", type_in_words(stringify!($name)), text, names.join(", "))
                })
            }
        }
    };
}

wire_enum!(
    /// Run states as Lightning has them: available → claimed → started → final.
    RunState {
        Available => "available",
        Claimed => "claimed",
        Started => "started",
        Success => "success",
        Failed => "failed",
        Crashed => "crashed",
        Cancelled => "cancelled",
        Killed => "killed",
        Exception => "exception",
        Lost => "lost",
    }
);

impl RunState {
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            RunState::Available | RunState::Claimed | RunState::Started
        )
    }
}

wire_enum!(
    /// Work order states: pending/running while a run is in flight, else its latest run's state.
    WorkOrderState {
        Pending => "pending",
        Running => "running",
        Success => "success",
        Failed => "failed",
        Crashed => "crashed",
        Cancelled => "cancelled",
        Killed => "killed",
        Exception => "exception",
        Lost => "lost",
        Rejected => "rejected",
    }
);

impl WorkOrderState {
    pub fn is_final(self) -> bool {
        !matches!(self, WorkOrderState::Pending | WorkOrderState::Running)
    }

    /// The work order state that mirrors a run state.
    pub fn from_run(state: RunState) -> Self {
        match state {
            RunState::Available | RunState::Claimed => WorkOrderState::Pending,
            RunState::Started => WorkOrderState::Running,
            RunState::Success => WorkOrderState::Success,
            RunState::Failed => WorkOrderState::Failed,
            RunState::Crashed => WorkOrderState::Crashed,
            RunState::Cancelled => WorkOrderState::Cancelled,
            RunState::Killed => WorkOrderState::Killed,
            RunState::Exception => WorkOrderState::Exception,
            RunState::Lost => WorkOrderState::Lost,
        }
    }
}

wire_enum!(
    /// Why a step ended, as OpenFn's worker reports it.
    ExitReason {
        Success => "success",
        Fail => "fail",
        Crash => "crash",
        Kill => "kill",
        Cancel => "cancel",
        Exception => "exception",
        Lost => "lost",
    }
);

impl ExitReason {
    /// The run state a run ends in when this is its deciding reason.
    pub fn run_state(self) -> RunState {
        match self {
            ExitReason::Success => RunState::Success,
            ExitReason::Fail => RunState::Failed,
            ExitReason::Crash => RunState::Crashed,
            ExitReason::Kill => RunState::Killed,
            ExitReason::Cancel => RunState::Cancelled,
            ExitReason::Exception => RunState::Exception,
            ExitReason::Lost => RunState::Lost,
        }
    }
}

wire_enum!(
    DataclipType {
        HttpRequest => "http_request",
        Global => "global",
        StepResult => "step_result",
        SavedInput => "saved_input",
    }
);

wire_enum!(
    ConditionType {
        Always => "always",
        OnJobSuccess => "on_job_success",
        OnJobFailure => "on_job_failure",
        JsExpression => "js_expression",
    }
);

wire_enum!(
    TriggerType {
        Webhook => "webhook",
        Cron => "cron",
    }
);

wire_enum!(
    WebhookReply {
        BeforeStart => "before_start",
        AfterCompletion => "after_completion",
    }
);

wire_enum!(
    /// What started a work order or run.
    Origin {
        Webhook => "webhook",
        Cron => "cron",
        Manual => "manual",
        Rerun => "rerun",
        Retry => "retry",
    }
);

wire_enum!(
    LogLevel {
        Debug => "debug",
        Info => "info",
        Warn => "warn",
        Error => "error",
        Success => "success",
        Always => "always",
    }
);

impl LogLevel {
    /// Severity rank for "at least this level" filters (success/always rank with info).
    pub fn rank(self) -> u8 {
        match self {
            LogLevel::Debug => 0,
            LogLevel::Info | LogLevel::Success | LogLevel::Always => 1,
            LogLevel::Warn => 2,
            LogLevel::Error => 3,
        }
    }
}

wire_enum!(
    /// Why a dataclip body is missing.
    WipeReason {
        Retention => "retention",
        ZeroPersistence => "zero_persistence",
        TooLarge => "too_large",
    }
);

wire_enum!(
    /// Which timestamp a date filter or sort uses.
    TimeField {
        Received => "received",
        Activity => "activity",
    }
);

wire_enum!(
    /// Where a full-text search hit was found.
    MatchSource {
        Input => "input",
        Output => "output",
        Log => "log",
        Id => "id",
    }
);

/// A short, shareable reference: the last characters of a UUID v7 (its random part).
pub fn short_ref(id: &str) -> String {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    hex.chars()
        .skip(hex.len().saturating_sub(SHORT_REF_LEN))
        .collect()
}

pub const SHORT_REF_LEN: usize = 8;

/// Daemon facts for `bolt status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DaemonStatus {
    pub version: String,
    pub protocol: u32,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub uptime_secs: u64,
    pub data_dir: String,
    pub socket: String,
    pub http_listen: Option<String>,
    pub queue_depth: u64,
    pub running: u64,
    pub workers: usize,
    pub projects: u64,
    pub workflows: u64,
    pub work_orders: u64,
    pub counts: Vec<StateCount>,
    /// How the store's durable writes have done since boltd started (absent from older
    /// daemons).
    #[serde(default)]
    pub store: StoreTimings,
    /// boltd was asked to stop and is letting the runs under way finish.
    #[serde(default)]
    pub stopping: bool,
    /// Whether the store takes writes, and if not since when, why and what to do.
    #[serde(default)]
    pub store_health: StoreHealth,
    /// Log lines boltd could not write to its stderr (a full disk, a closed pipe) and
    /// dropped, since it started.
    #[serde(default)]
    pub log_lines_dropped: u64,
    /// Socket connections receiving live events (TUIs, `bolt logs --follow`).
    #[serde(default)]
    pub subscribers: u64,
    /// Alert channels (`[[notify]]`) and their delivery queues.
    #[serde(default)]
    pub notify: crate::notify::NotifyStatus,
    /// ATNA delivery, when `[audit] syslog` is set: events waiting for the collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_syslog: Option<crate::audit::SyslogDelivery>,
    /// The PostgreSQL store shared by the nodes (its URL without the password); absent:
    /// SQLite in the data dir.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// This boltd's node id.
    #[serde(default)]
    pub node_id: String,
    /// Every node working on the store, this one included (absent from older daemons).
    #[serde(default)]
    pub nodes: Vec<NodeStatus>,
}

/// A boltd node of the store, as its heartbeats tell.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct NodeStatus {
    pub id: String,
    pub hostname: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    /// Its last heartbeat.
    pub heartbeat_at: DateTime<Utc>,
    /// Runs under way on it at its last heartbeat, and how many it runs at once.
    pub running: u64,
    pub workers: u64,
    /// Whether it is the node that answered.
    pub this_node: bool,
}

/// Whether the store takes writes. After a failed write or `fdatasync` boltd refuses
/// writes (webhooks get 503) until a test write reaches the disk again.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoreHealth {
    /// True when writes are taken.
    pub writable: bool,
    /// When boltd began refusing writes.
    pub refusing_since: Option<DateTime<Utc>>,
    /// What failed, with the operating system's error: "a commit failed: No space left on
    /// device (os error 28)".
    pub reason: Option<String>,
    /// What to do about it.
    pub advice: Option<String>,
    /// When boltd last tried whether the disk takes writes again.
    pub last_probe: Option<DateTime<Utc>>,
    /// Times the store stopped taking writes since boltd started (and resumed, if writable).
    pub faults: u64,
}

impl Default for StoreHealth {
    fn default() -> Self {
        StoreHealth {
            writable: true,
            refusing_since: None,
            reason: None,
            advice: None,
            last_probe: None,
            faults: 0,
        }
    }
}

/// How long the store's durable writes take, since boltd started.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoreTimings {
    /// Each write that reached the disk, from being queued to being answered: webhook
    /// intake, a run's records, deploys (a webhook's 200 waits for one).
    pub writes: Latencies,
    /// Each `fdatasync` of the write-ahead log: the disk's share of a write.
    pub wal_syncs: Latencies,
}

/// A distribution of durations, in microseconds (to within 1%).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Latencies {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StateCount {
    pub state: WorkOrderState,
    pub count: u64,
}

/// The first error of a work order, for list rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FirstError {
    pub job: String,
    pub error_type: Option<String>,
    pub message: Option<String>,
}

/// Where a search matched, with a snippet around the hit (`[` `]` mark the match).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchHit {
    pub source: MatchSource,
    pub snippet: String,
}

/// One row of the history list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkOrderRow {
    pub id: String,
    pub short_ref: String,
    pub project: String,
    pub workflow_id: String,
    pub workflow: String,
    pub state: WorkOrderState,
    pub origin: Origin,
    pub received_at: DateTime<Utc>,
    pub last_activity: DateTime<Utc>,
    pub duration_ms: Option<i64>,
    pub run_count: u32,
    pub first_error: Option<FirstError>,
    pub input_wiped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hit: Option<SearchHit>,
}

/// Filters for the history list, shared by `bolt runs`, bulk reruns and the TUI.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct WorkOrderFilter {
    #[serde(default)]
    pub states: Vec<WorkOrderState>,
    #[serde(default)]
    pub workflow: Option<String>,
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    #[serde(default)]
    pub by: Option<TimeField>,
    #[serde(default)]
    pub search: Option<String>,
}

/// Most words a search may hold: each is a lookup in the full-text index.
pub const MAX_SEARCH_TERMS: usize = 64;
/// Most bytes a search may hold.
pub const MAX_SEARCH_BYTES: usize = 1024;

/// Refuses a search too long to be a search (boltd enforces it; clients check it early).
pub fn check_search(text: &str) -> Result<(), String> {
    let terms = text.split_whitespace().count();
    if terms > MAX_SEARCH_TERMS || text.len() > MAX_SEARCH_BYTES {
        return Err(format!(
            "this search is too long ({terms} word{}, {} bytes): a search takes at most {MAX_SEARCH_TERMS} words and {MAX_SEARCH_BYTES} bytes; search for a few distinctive words, such as a patient id",
            if terms == 1 { "" } else { "s" },
            text.len()
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkOrderPage {
    pub rows: Vec<WorkOrderRow>,
    /// Pass as `after` to get the next (older) page; `None` at the end.
    pub next_cursor: Option<String>,
    /// Work orders per state for the filter, ignoring its state selection (first page only).
    pub counts: Vec<StateCount>,
    /// The counts are lower bounds: a search matched more work orders than boltd counts
    /// for one page (the newest matches were counted). Shown as "N+".
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counts_capped: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataclipInfo {
    pub id: String,
    pub kind: DataclipType,
    pub name: Option<String>,
    pub size_bytes: Option<u64>,
    pub wiped_at: Option<DateTime<Utc>>,
    pub wipe_reason: Option<WipeReason>,
    /// The stored JSON text, exactly as stored; `None` when wiped or not requested.
    pub body: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepView {
    pub id: String,
    pub short_ref: String,
    pub job_id: String,
    pub job: String,
    pub exit_reason: Option<ExitReason>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    /// True when this step was attached from an earlier run (not executed by this run).
    pub attached: bool,
    pub input: Option<DataclipInfo>,
    pub output: Option<DataclipInfo>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunView {
    pub id: String,
    pub short_ref: String,
    pub work_order_id: String,
    pub state: RunState,
    pub error_type: Option<String>,
    pub origin: Origin,
    pub starting_job: Option<String>,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub attempt: u32,
    pub steps: Vec<StepView>,
    /// Log lines (and their bytes) dropped because the run logged more than its caps.
    #[serde(default, skip_serializing_if = "LogsDropped::is_none")]
    pub logs_dropped: LogsDropped,
}

/// What a run's log caps dropped (`[logs]` in bolt.toml).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LogsDropped {
    pub lines: u64,
    pub bytes: u64,
}

impl LogsDropped {
    pub fn is_none(&self) -> bool {
        self.lines == 0
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkOrderView {
    pub row: WorkOrderRow,
    pub input: Option<DataclipInfo>,
    pub runs: Vec<RunView>,
    /// The address a webhook's request came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_address: Option<String>,
}

/// What `bolt show REF` resolved the reference to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    WorkOrder,
    Run,
    Step,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShowResult {
    pub kind: RefKind,
    /// The id the reference resolved to.
    pub id: String,
    pub work_order: WorkOrderView,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LogLine {
    pub id: i64,
    pub run_id: String,
    pub step_id: Option<String>,
    pub source: String,
    pub level: LogLevel,
    pub message: String,
    pub timestamp: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TriggerView {
    pub id: String,
    pub key: String,
    pub kind: TriggerType,
    pub enabled: bool,
    pub cron_expression: Option<String>,
    /// The schedule in words, e.g. "At 02:00 every day".
    pub cron_description: Option<String>,
    pub next_fire: Option<DateTime<Utc>>,
    pub custom_path: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_reply: Option<WebhookReply>,
    pub auth: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobView {
    pub id: String,
    pub key: String,
    pub name: String,
    pub adaptor: String,
    pub credential: Option<String>,
    pub body: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EdgeView {
    pub id: String,
    pub key: String,
    pub source_trigger: Option<String>,
    pub source_job: Option<String>,
    pub target_job: String,
    pub condition: ConditionType,
    pub expression: Option<String>,
    pub label: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WorkflowView {
    pub id: String,
    pub project: String,
    pub key: String,
    pub name: String,
    pub enabled: bool,
    pub version: i64,
    pub triggers: Vec<TriggerView>,
    pub jobs: Vec<JobView>,
    /// The workflow's constants (name → value), which every step sees as globals.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub constants: serde_json::Map<String, serde_json::Value>,
    pub edges: Vec<EdgeView>,
    pub success_24h: u64,
    pub failed_24h: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CredentialSummary {
    pub name: String,
    pub keys: Vec<String>,
    pub used_by: Vec<String>,
    pub updated_at: DateTime<Utc>,
}

/// A collection of a project (Lightning's key-value store), as `bolt collections list` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CollectionSummary {
    pub name: String,
    pub items: u64,
    /// Keys and values together, in bytes (what the size limit counts).
    pub bytes: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One item of a collection. `value` is text, as stored (the adaptor stores JSON text).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CollectionItem {
    pub key: String,
    pub value: String,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// One line of `bolt failures`: failed work orders grouped by where and how they failed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FailureGroup {
    pub workflow: String,
    pub job: String,
    pub error_type: String,
    pub count: u64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub example_ref: String,
    pub example_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ref_takes_the_random_tail() {
        assert_eq!(
            short_ref("0190a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b"),
            "3e4f5a6b"
        );
    }

    #[test]
    fn enums_round_trip_through_text() {
        for state in WorkOrderState::ALL {
            assert_eq!(WorkOrderState::parse(state.as_str()), Some(*state));
        }
        let err = "bogus".parse::<RunState>().unwrap_err();
        assert!(err.contains("available"), "{err}");
    }

    #[test]
    fn work_order_mirrors_run_states() {
        assert_eq!(
            WorkOrderState::from_run(RunState::Claimed),
            WorkOrderState::Pending
        );
        assert_eq!(
            WorkOrderState::from_run(RunState::Started),
            WorkOrderState::Running
        );
        assert_eq!(
            WorkOrderState::from_run(RunState::Lost),
            WorkOrderState::Lost
        );
    }
}
