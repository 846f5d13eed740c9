//! `bolt audit`: events matching a filter, newest first.

use crate::store::{self, StoreResult};
use bolt_shared::audit::{AuditEvent, AuditFilter};
use bolt_sql::Db;

/// Events returned when the filter sets no limit, and the most ever returned.
const DEFAULT_LIMIT: u32 = 200;
const MAX_LIMIT: u32 = 10_000;

/// The matching events, newest first. `workflow` is a workflow's key.
pub fn list(db: &dyn Db, filter: &AuditFilter) -> StoreResult<Vec<AuditEvent>> {
    let limit = match filter.limit {
        0 => DEFAULT_LIMIT,
        n => n.min(MAX_LIMIT),
    };
    store::audit::matching(db, filter, limit)
}
