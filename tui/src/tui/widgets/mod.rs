//! Reusable pieces: dialogs, editors, the JSON viewer, text helpers.

pub mod confirm;
pub mod constants;
pub mod credform;
pub mod diff;
pub mod editor;
pub mod failures;
pub mod filter;
pub mod help;
pub mod json;
pub mod overlay;
pub mod picker;
pub mod prompt;
pub mod text;
pub mod versions;
pub mod zoom;
