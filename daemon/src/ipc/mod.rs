//! The local socket server: handshake, framing, one task per connection.

pub mod fanout;
mod framing;
mod handlers;
mod server;

pub use fanout::Fanout;
pub use server::serve;
