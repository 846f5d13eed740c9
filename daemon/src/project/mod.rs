//! Projects as code: Lightning's `project.yaml` (the format `openfn deploy`/`openfn pull`
//! use), parsed into a normalized [`ProjectSpec`], validated, diffed against the store,
//! applied in one transaction, and exported back.

mod body_files;
mod cron;
mod deploy;
mod export;
pub mod kept;
mod limits;
mod locate;
mod parse;
mod spec;
mod validate;

pub use cron::{CronSchedule, parse_cron};
pub use deploy::{apply, audit, content_hash, plan_changes, write_workflow};
#[cfg(test)]
pub(crate) use deploy::{write_project_row, write_workflow_rows};
pub use kept::DeployOptions;

/// An audit event without metadata.
pub fn audit_event(
    db: &dyn bolt_sql::Db,
    action: &str,
    subject_type: &str,
    subject: &str,
) -> crate::store::StoreResult<()> {
    audit(db, action, subject_type, subject, None)
}
pub use body_files::ProjectDir;
pub use export::export_yaml;
pub use limits::check_ceilings;
pub use parse::{BodyFileError, DEFAULT_ADAPTOR, FileSource, parse_project};
pub use spec::*;
pub use validate::check_globals;

/// A problem in a project file, with where it is and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

impl std::fmt::Display for ProjectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  how to fix: {hint}")?;
        }
        Ok(())
    }
}

/// Everything wrong with a project file, reported together.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectErrors(pub Vec<ProjectError>);

impl std::fmt::Display for ProjectErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "{} problem{} in the project file; nothing was deployed:",
            count,
            if count == 1 { "" } else { "s" }
        )?;
        for (i, err) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{err}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProjectErrors {}

#[cfg(test)]
mod tests;
