//! Runs, from queued to recorded: the dispatcher claims them (priority, FIFO, concurrency
//! limits), the executor runs each on the engine and records its steps, logs and outcome,
//! reruns queue new runs of old work orders, and runs boltd could not record go again.

pub mod dispatch;
pub mod executor;
pub mod plan;
pub mod reruns;
pub mod retry;
pub mod unrecorded;
