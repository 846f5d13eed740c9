//! Projects as code: deploying project.yaml, exporting it back, a project's settings.

pub mod deploy;
pub mod export;
pub mod settings;
