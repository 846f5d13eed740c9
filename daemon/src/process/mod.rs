//! boltd as a process: its command line, start (lock, socket, store, servers), the pidfile
//! and socket lifecycle, the event bus (and its relay between nodes), and shutdown.

pub mod cli;
pub mod events;
pub mod lifecycle;
pub mod relay;
pub mod shutdown;
pub mod start;
