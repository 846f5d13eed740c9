//! Reading `body: {path: ./job.js}` files: only from inside the project file's directory
//! tree (symlinks resolved), unless the person deploying allows paths outside it. A project
//! file from elsewhere must not make bolt read, store and export `/etc/shadow`.

use super::parse::{BodyFileError, FileSource};
use std::path::{Path, PathBuf};

/// The directory a project file's body paths are relative to, and confined to.
#[derive(Debug, Clone)]
pub struct ProjectDir {
    root: PathBuf,
    allow_outside: bool,
}

impl ProjectDir {
    /// The directory of `project_file`; `allow_outside` lifts the confinement
    /// (`bolt deploy --allow-outside-paths`).
    pub fn of(project_file: &Path, allow_outside: bool) -> std::io::Result<ProjectDir> {
        let parent = project_file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Ok(ProjectDir {
            root: parent.canonicalize()?,
            allow_outside,
        })
    }

    /// Where `relative` leads, symlinks resolved; refused outside the project's tree.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, BodyFileError> {
        let joined = self.root.join(relative);
        let resolved = joined.canonicalize().map_err(|e| {
            BodyFileError::Unreadable(format!("cannot read {}: {e}", joined.display()))
        })?;
        if !self.allow_outside && !resolved.starts_with(&self.root) {
            return Err(BodyFileError::Outside {
                resolved,
                root: self.root.clone(),
            });
        }
        Ok(resolved)
    }
}

impl FileSource for ProjectDir {
    fn read(&self, relative: &str) -> Result<String, BodyFileError> {
        let path = self.resolve(relative)?;
        std::fs::read_to_string(&path)
            .map_err(|e| BodyFileError::Unreadable(format!("cannot read {}: {e}", path.display())))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_the_tree_are_read_and_outside_ones_refused() {
        let outer = tempfile::tempdir().unwrap();
        let project = outer.path().join("project");
        std::fs::create_dir_all(project.join("jobs")).unwrap();
        std::fs::write(project.join("jobs/a.js"), "fn(s => s)").unwrap();
        std::fs::write(outer.path().join("secret.txt"), "root:x").unwrap();
        std::os::unix::fs::symlink(
            outer.path().join("secret.txt"),
            project.join("jobs/link.js"),
        )
        .unwrap();
        let dir = ProjectDir::of(&project.join("project.yaml"), false).unwrap();
        assert_eq!(dir.read("./jobs/a.js").unwrap(), "fn(s => s)");
        assert_eq!(dir.read("jobs/../jobs/a.js").unwrap(), "fn(s => s)");
        for outside in ["../secret.txt", "jobs/link.js", "/etc/hostname"] {
            match dir.read(outside) {
                Err(BodyFileError::Outside { .. }) => {}
                other => panic!("{outside}: {other:?}"),
            }
        }
        assert!(matches!(
            dir.read("jobs/missing.js"),
            Err(BodyFileError::Unreadable(_))
        ));
        let allowed = ProjectDir::of(&project.join("project.yaml"), true).unwrap();
        assert_eq!(allowed.read("../secret.txt").unwrap(), "root:x");
        assert_eq!(allowed.read("jobs/link.js").unwrap(), "root:x");
    }
}
