//! Modal dialogs drawn over a screen (`overlay` holds their stack; the top one gets the
//! keys): confirmations, prompts, pickers, forms, editors, and views of one thing whole.

pub mod confirm;
pub mod constants;
pub mod credform;
pub mod editor;
pub mod failures;
pub mod filter;
pub mod help;
pub mod overlay;
pub mod picker;
pub mod prompt;
pub mod versions;
pub mod zoom;
