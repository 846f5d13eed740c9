//! Full-screen views. Each has `draw(&self, …)` and `handle(&mut self, Command) -> Action`.

pub mod audit;
pub mod credentials;
pub mod detail;
pub mod graph;
pub mod history;
pub mod workflows;
