//! Where work comes from: webhooks (and the cache that finds a path's trigger), cron, and
//! the intake that stores every new work order with its input before it is acknowledged.

pub mod cron;
pub mod intake;
pub mod webhook;
pub mod webhook_cache;
