//! Reusable pieces screens and dialogs draw with: the JSON viewer, line diffs, text helpers.

pub mod diff;
pub mod json;
pub mod text;
