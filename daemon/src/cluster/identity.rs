//! This node's id: made once and kept in the data dir (`node-id`), so a node that restarts
//! is the same node and takes back at once the runs its previous process left in flight.

use crate::files::{FileError, check_own_file, open_no_follow};
use std::io::{Read, Write};
use std::path::Path;

/// The file in the data dir that holds the node's id.
pub const NODE_ID_FILE: &str = "node-id";

/// The node id kept in `data_dir`, made and written (0600) the first time.
pub fn node_id(data_dir: &Path) -> Result<String, FileError> {
    let path = data_dir.join(NODE_ID_FILE);
    let fix = || format!("remove the link {} (boltd makes a new id)", path.display());
    let mut options = std::fs::OpenOptions::new();
    match open_no_follow(options.read(true), &path, "node id file", fix) {
        Ok(mut file) => {
            check_own_file(&file, &path, "node id file", None)?;
            let mut text = String::new();
            file.read_to_string(&mut text)
                .map_err(|e| FileError::io("node id file", &path, e))?;
            let id = text.trim();
            if valid(id) {
                return Ok(id.to_string());
            }
            Err(FileError::io(
                "node id file",
                &path,
                std::io::Error::other(
                    "it does not hold a node id: remove it and boltd makes a new one",
                ),
            ))
        }
        Err(FileError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            create(&path)
        }
        Err(err) => Err(err),
    }
}

fn create(path: &Path) -> Result<String, FileError> {
    use std::os::unix::fs::OpenOptionsExt;
    let id = uuid::Uuid::now_v7().simple().to_string()[20..].to_string();
    let fix = || format!("remove the link {} (boltd makes a new id)", path.display());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true).mode(0o600);
    let mut file = open_no_follow(&mut options, path, "node id file", fix)?;
    file.write_all(format!("{id}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| FileError::io("node id file", path, e))?;
    Ok(id)
}

/// Ids are 12 lowercase hex digits; anything else is not a file boltd wrote.
fn valid(id: &str) -> bool {
    id.len() == 12
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_id_is_made_once_private_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = node_id(dir.path()).unwrap();
        assert!(valid(&first), "{first}");
        assert_eq!(node_id(dir.path()).unwrap(), first);
        let mode = std::fs::metadata(dir.path().join(NODE_ID_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn a_file_that_is_not_an_id_is_refused_not_replaced() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(NODE_ID_FILE), "hello\n").unwrap();
        let err = node_id(dir.path()).unwrap_err().to_string();
        assert!(err.contains("does not hold a node id"), "{err}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(NODE_ID_FILE)).unwrap(),
            "hello\n"
        );
    }
}
