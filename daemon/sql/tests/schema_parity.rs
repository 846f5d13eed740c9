//! The PostgreSQL schema matches SQLite's after all its migrations: every ordinary table
//! with the same columns (types mapped, NOT NULL, primary keys), unique constraints,
//! foreign keys, named indexes and triggers. The differences are the ones the PostgreSQL
//! migration documents: FTS5 tables become a tsvector table (search_fts) or expression
//! indexes (short_refs), and `bolt_migrations` exists only on PostgreSQL.
// Test helpers outside #[test] functions panic on failure, like the tests themselves.
#![allow(clippy::unwrap_used)]

use bolt_sql::testing::PgScratch;
use bolt_sql::{Db, DbExt, params, pg, schema};
use std::collections::{BTreeMap, BTreeSet};

/// A table's shape, comparable across the two databases.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// Column → (type, not null). SQLite's primary key columns count as not null.
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    uniques: BTreeSet<Vec<String>>,
    /// (columns, referenced table, referenced columns, on delete).
    foreign_keys: BTreeSet<(Vec<String>, String, Vec<String>, String)>,
}

/// A row of pg_constraint: its kind (p, u, f), columns (attnums as `{1,2}`), and for a
/// foreign key the referenced table, delete rule and columns.
struct Constraint {
    kind: String,
    key: String,
    foreign: Option<i64>,
    on_delete: String,
    foreign_key: Option<String>,
}

/// Tables that are FTS5 on SQLite, and what they are on PostgreSQL.
const FTS_ONLY_IN_SQLITE: &[&str] = &["short_refs"];
const ONLY_IN_POSTGRES: &[&str] = &["bolt_migrations"];
/// Indexes PostgreSQL has in place of FTS5 tables.
const INDEXES_ONLY_IN_POSTGRES: &[&str] = &[
    "search_fts_text",
    "work_orders_short_ref",
    "runs_short_ref",
    "steps_short_ref",
];

fn sqlite_migrations() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 9,
        "SQLite migrations not found in {}",
        dir.display()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect()
}

fn names(db: &dyn Db, sql: &str, p: &[bolt_sql::ValueRef<'_>]) -> Vec<String> {
    db.query_map(sql, p, |r| r.get(0)).unwrap()
}

fn sqlite_type(declared: &str) -> String {
    match declared.to_ascii_uppercase().as_str() {
        "INTEGER" => "bigint",
        "TEXT" => "text",
        "BLOB" => "bytea",
        "" => "tsvector", // an FTS5 column
        other => panic!("unmapped SQLite type {other}"),
    }
    .to_string()
}

fn sqlite_schema(
    db: &rusqlite::Connection,
) -> (BTreeMap<String, Table>, BTreeSet<String>, BTreeSet<String>) {
    let virtual_tables = names(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
        params![],
    );
    let is_shadow = |name: &str| {
        virtual_tables
            .iter()
            .any(|v| name.starts_with(&format!("{v}_")))
    };
    let mut tables = BTreeMap::new();
    for name in names(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        params![],
    ) {
        if is_shadow(&name) || FTS_ONLY_IN_SQLITE.contains(&name.as_str()) {
            continue;
        }
        let mut table = Table::default();
        let mut pk: Vec<(i64, String)> = Vec::new();
        db.query(
            "SELECT name, type, \"notnull\", pk FROM pragma_table_info(?1)",
            params![name],
            &mut |r| {
                let column: String = r.get(0)?;
                let pk_index: i64 = r.get(3)?;
                let not_null = r.get::<bool>(2)? || pk_index > 0;
                table.columns.insert(
                    column.clone(),
                    (sqlite_type(&r.get::<String>(1)?), not_null),
                );
                if pk_index > 0 {
                    pk.push((pk_index, column));
                }
                Ok(())
            },
        )
        .unwrap();
        if virtual_tables.contains(&name) {
            // A contentless FTS5 table's rowid is the search_docs row it indexes: on
            // PostgreSQL it is a real column and the key.
            table
                .columns
                .insert("rowid".into(), ("bigint".into(), true));
            pk.push((1, "rowid".into()));
        }
        pk.sort();
        table.primary_key = pk.into_iter().map(|(_, c)| c).collect();
        let uniques: Vec<String> = names(
            db,
            "SELECT name FROM pragma_index_list(?1) WHERE origin = 'u'",
            params![name],
        );
        for index in uniques {
            table.uniques.insert(names(
                db,
                "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
                params![index],
            ));
        }
        let mut fks: BTreeMap<i64, (Vec<String>, String, Vec<String>, String)> = BTreeMap::new();
        db.query(
            "SELECT id, \"from\", \"table\", \"to\", on_delete FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            params![name],
            &mut |r| {
                let fk = fks.entry(r.get(0)?).or_default();
                fk.0.push(r.get(1)?);
                fk.1 = r.get(2)?;
                fk.2.push(r.get(3)?);
                fk.3 = r.get(4)?;
                Ok(())
            },
        )
        .unwrap();
        table.foreign_keys = fks.into_values().collect();
        tables.insert(name, table);
    }
    let indexes = names(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
        params![],
    )
    .into_iter()
    .filter(|n| !is_shadow(n))
    .collect();
    let triggers = names(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        params![],
    )
    .into_iter()
    .collect();
    (tables, indexes, triggers)
}

/// Columns of a constraint, by name, in key order.
fn constraint_columns(db: &dyn Db, oid: i64, attnums: &str) -> Vec<String> {
    names(
        db,
        &format!(
            "SELECT a.attname::text FROM unnest('{attnums}'::int2[]) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = CAST(?1 AS oid) AND a.attnum = k.n ORDER BY k.i"
        ),
        params![oid],
    )
}

fn postgres_schema(
    db: &dyn Db,
    schema: &str,
) -> (BTreeMap<String, Table>, BTreeSet<String>, BTreeSet<String>) {
    let mut tables = BTreeMap::new();
    let relations: Vec<(String, i64)> = db
        .query_map(
            "SELECT c.relname::text, c.oid::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = ?1 AND c.relkind = 'r' ORDER BY 1",
            params![schema],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    for (name, oid) in relations {
        if ONLY_IN_POSTGRES.contains(&name.as_str()) {
            continue;
        }
        let mut table = Table::default();
        db.query(
            "SELECT attname::text, format_type(atttypid, NULL), attnotnull FROM pg_attribute
             WHERE attrelid = CAST(?1 AS oid) AND attnum > 0 AND NOT attisdropped",
            params![oid],
            &mut |r| {
                table.columns.insert(r.get(0)?, (r.get(1)?, r.get(2)?));
                Ok(())
            },
        )
        .unwrap();
        let constraints: Vec<Constraint> = db
            .query_map(
                "SELECT contype::text, conkey::text, confrelid::bigint, confdeltype::text, confkey::text
                 FROM pg_constraint WHERE conrelid = CAST(?1 AS oid) AND contype IN ('p', 'u', 'f')",
                params![oid],
                |r| {
                    Ok(Constraint {
                        kind: r.get(0)?,
                        key: r.get(1)?,
                        foreign: r.get(2)?,
                        on_delete: r.get(3)?,
                        foreign_key: r.get(4)?,
                    })
                },
            )
            .unwrap();
        for Constraint {
            kind,
            key,
            foreign,
            on_delete,
            foreign_key,
        } in constraints
        {
            let columns = constraint_columns(db, oid, &key);
            match kind.as_str() {
                "p" => table.primary_key = columns,
                "u" => {
                    table.uniques.insert(columns);
                }
                _ => {
                    let foreign = foreign.unwrap();
                    let foreign_table: String = db
                        .query_one(
                            "SELECT relname::text FROM pg_class WHERE oid = CAST(?1 AS oid)",
                            params![foreign],
                        )
                        .unwrap();
                    let on_delete = match on_delete.as_str() {
                        "c" => "CASCADE",
                        "a" => "NO ACTION",
                        "n" => "SET NULL",
                        "r" => "RESTRICT",
                        other => panic!("unexpected delete rule {other}"),
                    };
                    table.foreign_keys.insert((
                        columns,
                        foreign_table,
                        constraint_columns(db, foreign, &foreign_key.unwrap()),
                        on_delete.to_string(),
                    ));
                }
            }
        }
        tables.insert(name, table);
    }
    let indexes = names(
        db,
        "SELECT i.relname::text FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace
         WHERE n.nspname = ?1
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
        params![schema],
    )
    .into_iter()
    .filter(|n| !INDEXES_ONLY_IN_POSTGRES.contains(&n.as_str()))
    .collect();
    let triggers = names(
        db,
        "SELECT tg.tgname::text FROM pg_trigger tg JOIN pg_class t ON t.oid = tg.tgrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ?1 AND NOT tg.tgisinternal",
        params![schema],
    )
    .into_iter()
    .collect();
    (tables, indexes, triggers)
}

#[test]
fn postgres_schema_matches_sqlite_after_every_migration() {
    let Some(pg) = PgScratch::new() else { return };
    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    for (name, sql) in sqlite_migrations() {
        sqlite
            .execute_batch(&sql)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let postgres = pg.connect().unwrap();
    pg::migrate(&postgres, schema::POSTGRES).unwrap();

    let (mut sqlite_tables, sqlite_indexes, sqlite_triggers) = sqlite_schema(&sqlite);
    let (postgres_tables, postgres_indexes, postgres_triggers) =
        postgres_schema(&postgres, pg.schema());

    // search_fts's column holds the document text on SQLite, its tsvector here.
    let fts = sqlite_tables.get_mut("search_fts").expect("search_fts");
    assert_eq!(
        fts.columns.get("text").map(|c| c.0.as_str()),
        Some("tsvector")
    );
    fts.columns.insert("text".into(), ("tsvector".into(), true));

    let sqlite_names: Vec<_> = sqlite_tables.keys().collect();
    let postgres_names: Vec<_> = postgres_tables.keys().collect();
    assert_eq!(sqlite_names, postgres_names, "tables differ");
    for (name, expected) in &sqlite_tables {
        assert_eq!(
            Some(expected),
            postgres_tables.get(name),
            "table {name} differs"
        );
    }
    assert_eq!(sqlite_indexes, postgres_indexes, "named indexes differ");
    assert_eq!(sqlite_triggers, postgres_triggers, "triggers differ");
}
