//! Which request each key sends, so keys the user's role can't use are greyed (boltd
//! refuses the requests anyway; see `bolt_shared::access::TABLE`).

use super::keymap::Command;

/// The request kind a command leads to, when it changes something or needs a role.
pub fn request_kind(command: Command) -> Option<&'static str> {
    Some(match command {
        Command::Rerun | Command::RerunFrom => "rerun",
        Command::Cancel => "cancel",
        Command::SaveInput => "save_input",
        Command::EditJob => "update_job",
        Command::ToggleEnabled => "set_workflow_enabled",
        Command::TriggerRun => "trigger",
        Command::Constants => "set_workflow_constants",
        Command::Versions => "workflow_versions",
        Command::New | Command::Edit => "credential_set",
        Command::Delete => "credential_remove",
        Command::Verify => "audit_verify",
        _ => return None,
    })
}
