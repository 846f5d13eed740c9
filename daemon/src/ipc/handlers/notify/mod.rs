//! `bolt notify test`: alert channels.

pub mod test;
