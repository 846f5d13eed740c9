//! `bolt access` and `bolt access reload`: who may do what over the socket.

pub mod reload;
pub mod view;
