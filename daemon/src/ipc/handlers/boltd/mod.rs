//! boltd itself: its status, stopping it, and an online backup of its store.

pub mod backup;
pub mod status;
pub mod stop;
