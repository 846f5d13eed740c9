//! bolt's own schema for PostgreSQL (daemon/migrations/postgres), in order.

use crate::pg::Migration;

/// The PostgreSQL migrations, oldest first. SQLite's stay with the daemon's store.
pub const POSTGRES: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "run_nodes",
        sql: include_str!("../../migrations/postgres/0002_run_nodes.sql"),
    },
    Migration {
        version: 3,
        name: "search_statistics",
        sql: include_str!("../../migrations/postgres/0003_search_statistics.sql"),
    },
];

/// The newest PostgreSQL schema version this build knows.
pub fn postgres_latest() -> i64 {
    POSTGRES.last().map_or(0, |m| m.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations/postgres");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let listed: Vec<String> = POSTGRES
            .iter()
            .map(|m| format!("{:04}_{}.sql", m.version, m.name))
            .collect();
        assert_eq!(files, listed);
        assert!(
            POSTGRES
                .windows(2)
                .all(|w| w[0].version + 1 == w[1].version)
        );
        assert_eq!(POSTGRES.first().map(|m| m.version), Some(1));
    }
}
