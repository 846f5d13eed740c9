//! The sample event `bolt notify test` sends: shaped like a real `run_failed` (or the
//! channel's first event), marked as a test.

use crate::store::{from_micros, now_micros};
use bolt_shared::notify_config::NotifyChannel;
use serde_json::{Value, json};

pub fn event(channel: &NotifyChannel) -> Value {
    let event = channel
        .on
        .first()
        .map(String::as_str)
        .unwrap_or("run_failed");
    json!({
        "event": event,
        "test": true,
        "summary": format!("test alert from bolt: this is how {event} events reach this channel"),
        "time": from_micros(now_micros()),
        "project": "sample-project",
        "workflow": { "key": "sample-workflow", "name": "Sample workflow" },
    })
}
