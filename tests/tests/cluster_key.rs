//! Every node of a shared PostgreSQL store holds the same credential key: a node started
//! with another key refuses to start and says what to do, found by the key check value
//! (no credential is decrypted). Skipped with a notice without `BOLT_TEST_POSTGRES_URL`.

use bolt_e2e::{Daemon, Options, ScratchDatabase, boltd_refusal};
use std::sync::Arc;

#[test]
fn a_node_with_another_key_refuses_to_start_and_says_to_copy_the_key() {
    let Some(database) = ScratchDatabase::create() else {
        eprintln!("skipping: BOLT_TEST_POSTGRES_URL is not set");
        return;
    };
    let database = Arc::new(database);
    let first = Daemon::start_with_options(
        tempfile::tempdir().expect("temp dir"),
        Options {
            store: Some(database.clone()),
            ..Options::default()
        },
    );
    let out = first.bolt(&["credential", "set", "api", "--field", "token=s3cret"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let stranger = tempfile::tempdir().expect("temp dir");
    let (status, stderr) = boltd_refusal(&[
        "--data-dir".as_ref(),
        stranger.path().as_os_str(),
        "--store".as_ref(),
        database.url.as_ref(),
    ]);
    assert!(!status.success());
    assert!(
        stderr.contains("is not the key this store's credentials were written with"),
        "{stderr}"
    );
    assert!(
        stderr.contains("every node of a shared database needs the same key")
            && stderr.contains("bolt.key"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cret"), "{stderr}");

    // With the first node's key it joins.
    let joined = tempfile::tempdir().expect("temp dir");
    std::fs::copy(
        first.data_dir().join("bolt.key"),
        joined.path().join("bolt.key"),
    )
    .expect("the key");
    let second = Daemon::start_with_options(
        joined,
        Options {
            store: Some(database),
            ..Options::default()
        },
    );
    let status = second.bolt_json(&["status"]);
    assert_eq!(
        status["nodes"].as_array().map(Vec::len),
        Some(2),
        "{status}"
    );
    let shown = second.bolt(&["credential", "show", "api"]);
    assert!(
        shown.status.success(),
        "{}",
        String::from_utf8_lossy(&shown.stderr)
    );
}
