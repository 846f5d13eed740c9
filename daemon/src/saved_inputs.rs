//! Saved inputs (`bolt input save|list|rm`): named dataclips, which retention never wipes.
//! Saving lives with reruns (`reruns::save_input`); listing them is
//! `store::saved_inputs::list`; this removes them.

use crate::store::saved_inputs as store;
use crate::store::{StoreError, StoreResult};
use bolt_sql::Db;

/// What removing a saved input did.
#[derive(Debug, PartialEq, Eq)]
pub enum Removed {
    /// The dataclip is gone.
    Deleted,
    /// Runs used it as their input: it stays in their history, without a name (so
    /// retention may wipe it like any other input).
    Unnamed,
}

pub fn remove(conn: &dyn Db, name: &str) -> StoreResult<Removed> {
    let Some(id) = store::by_name(conn, name)? else {
        return Err(StoreError::Invalid(format!(
            "there is no saved input named `{name}`; see them with `bolt input list`"
        )));
    };
    if store::in_use(conn, &id)? {
        store::unname(conn, &id)?;
        Ok(Removed::Unnamed)
    } else {
        store::delete(conn, &id)?;
        Ok(Removed::Deleted)
    }
}
