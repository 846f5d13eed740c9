//! Modal dialogs drawn over a screen (`overlay` holds their stack; the top one gets the
//! keys): confirmations, prompts, pickers, forms, editors, and views of one thing whole.

pub mod confirm;
pub mod constants;
pub mod credform;
mod cursor;
pub mod editor;
pub mod failures;
pub mod filter;
pub mod help;
pub mod overlay;
pub mod picker;
pub mod popup;
pub mod prompt;
pub mod versions;
pub mod zoom;

use super::action::Action;

/// What a dialog wants after a key.
pub enum Outcome {
    Stay,
    Close,
    /// Close this dialog, then run the action.
    Done(Action),
    /// Stay open and run the action (e.g. open a nested picker).
    Keep(Action),
}
