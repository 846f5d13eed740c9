//! Full-text search finds the same documents on SQLite (FTS5) and PostgreSQL (tsvector).
// Test helpers outside #[test] functions panic on failure, like the tests themselves.
#![allow(clippy::unwrap_used)]

use bolt_sql::fts::{self, Query};
use bolt_sql::testing::PgScratch;
use bolt_sql::{Db, DbExt, Dialect, Sql, params};

const DOCS: &[&str] = &[
    r#"{"email": "Ada.Lovelace@Example.com", "status": "active"}"#,
    "POST /webhooks/intake?source=dhis2 HTTP/1.1 from 10.0.0.12",
    "Patient café-crème naïve résumé Ångström",
    "error: connection refused (os error 111) at step fetch-patients",
    "the quick brown fox jumps over the lazy dog; THE END",
    "foo-bar foo_bar foobar FOO.BAR",
    "it's 42°C, ½ done — “quoted” ‘single’ straße",
    "user@example.com visited https://example.org/path/to?q=1&x=2",
    "",
    "日本語 テキスト 中文 한국어",
];

const QUERIES: &[&str] = &[
    "example",
    "example.com",
    "lovelace@example.com",
    "Ada*",
    "ex*",
    "webhooks intake",
    "dhis2",
    "dhis*",
    "10.0.0.12",
    "cafe",
    "café",
    "CRÈME",
    "naive resume",
    "angstrom",
    "refused 111",
    "fetch-patients",
    "patients",
    "patient",
    "quick fox",
    "fox quick",
    "brown fox",
    "\"lazy\"",
    "foo",
    "foo_bar",
    "bar",
    "foobar",
    "it",
    "it's",
    "42",
    "straße",
    "quoted single",
    "https",
    "org/path",
    "q=1",
    "日本語",
    "한국어",
    "the end",
    "nothing-here",
    "x",
    "-- x",
    "end --",
    "--",
];

const INSERT: Sql = Sql::new(
    "INSERT INTO search_fts (rowid, text) VALUES (?1, ?2)",
    "INSERT INTO search_fts (rowid, text) VALUES (?1, CAST(?2 AS tsvector))",
);
const MATCH: Sql = Sql::new(
    "SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rowid DESC",
    "SELECT rowid FROM search_fts WHERE text @@ CAST(?1 AS tsquery) ORDER BY rowid DESC",
);

fn index(db: &dyn Db) {
    let create = match db.dialect() {
        Dialect::Sqlite => {
            "CREATE VIRTUAL TABLE search_fts USING fts5(text, content = '', contentless_delete = 1)"
        }
        Dialect::Postgres => {
            "CREATE TABLE search_fts (rowid BIGINT PRIMARY KEY, text TSVECTOR NOT NULL);
             CREATE INDEX search_fts_text ON search_fts USING GIN (text);"
        }
    };
    db.execute_batch(create).unwrap();
    for (i, doc) in DOCS.iter().enumerate() {
        let text = match db.dialect() {
            Dialect::Sqlite => doc.to_string(),
            Dialect::Postgres => fts::tsvector(doc),
        };
        db.execute(db.sql(&INSERT), params![i as i64 + 1, text])
            .unwrap();
    }
}

fn search(db: &dyn Db, query: &Query) -> Vec<i64> {
    let text = match db.dialect() {
        Dialect::Sqlite => query.fts5(),
        Dialect::Postgres => match query.tsquery() {
            Some(q) => q,
            None => return Vec::new(),
        },
    };
    db.query_map(db.sql(&MATCH), params![text], |r| r.get(0))
        .unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn sqlite_and_postgres_find_the_same_documents() {
    let Some(pg) = PgScratch::new() else { return };
    let sqlite = rusqlite::Connection::open_in_memory().unwrap();
    let postgres = pg.connect().unwrap();
    index(&sqlite);
    index(&postgres);
    let mut differences = Vec::new();
    for text in QUERIES {
        let query = Query::parse(text).unwrap();
        let expected = search(&sqlite, &query);
        let got = search(&postgres, &query);
        if expected != got {
            differences.push(format!(
                "{text}: SQLite {expected:?}, PostgreSQL {got:?} ({:?})",
                query.tsquery()
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    // The queries found something: the test compares real matches, not empty lists.
    let found = QUERIES
        .iter()
        .filter(|t| !search(&sqlite, &Query::parse(t).unwrap()).is_empty())
        .count();
    assert!(found >= QUERIES.len() - 3, "only {found} queries matched");
}

/// A word longer than PostgreSQL indexes and a text bigger than a tsvector holds are
/// indexed as far as PostgreSQL can (a 20 MB log line once failed its run).
#[test]
fn huge_words_and_texts_are_indexed_as_far_as_postgres_can() {
    let Some(pg) = PgScratch::new() else { return };
    let postgres = pg.connect().unwrap();
    postgres
        .execute_batch("CREATE TABLE search_fts (rowid BIGINT PRIMARY KEY, text TSVECTOR NOT NULL)")
        .unwrap();
    let long_word = format!("short {} words", "x".repeat(20_000));
    let many_words: String = (0..300_000).map(|i| format!("w{i} ")).collect();
    for (rowid, text) in [(1i64, long_word.as_str()), (2, many_words.as_str())] {
        postgres
            .execute(postgres.sql(&INSERT), params![rowid, fts::tsvector(text)])
            .unwrap_or_else(|e| panic!("document {rowid}: {e}"));
    }
    let found = |words: &str| search(&postgres, &Query::parse(words).unwrap());
    assert_eq!(found("short words"), [1]);
    assert_eq!(
        found("w0 w1"),
        [2],
        "the first words of a huge text are indexed"
    );
}
