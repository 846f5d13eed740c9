//! bolt's own schema for PostgreSQL (daemon/migrations/postgres), in order.

use crate::pg::Migration;

/// The PostgreSQL migrations, oldest first. SQLite's stay with the daemon's store.
pub const POSTGRES: &[Migration] = &[Migration {
    version: 1,
    name: "initial",
    sql: include_str!("../../migrations/postgres/0001_initial.sql"),
}];

/// The newest PostgreSQL schema version this build knows.
pub fn postgres_latest() -> i64 {
    POSTGRES.last().map_or(0, |m| m.version)
}
