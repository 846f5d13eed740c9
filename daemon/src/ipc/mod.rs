//! The local socket server: handshake, framing, one task per connection.

mod framing;
mod handlers;
mod server;

pub use server::serve;
