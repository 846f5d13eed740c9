//! Batches of events as notification payloads, and back.
//!
//! A payload is `{"node":"<origin node id>","events":[…]}`, shorter than PostgreSQL's
//! limit ([`MAX_PAYLOAD`] bytes). A batch that doesn't fit is split over several payloads,
//! in order; a single log line too long for a payload of its own is cut (its message ends
//! with a note saying so; the stored line stays whole); any other event that doesn't fit is
//! left out and counted as missed.

use bolt_shared::model::LogLine;
use bolt_shared::protocol::Event;
use bolt_sql::pg::MAX_PAYLOAD;
use serde::Deserialize;

/// The most bytes a payload may have.
pub const PAYLOAD_BUDGET: usize = MAX_PAYLOAD - 1;

/// One notification's text and how many events it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub text: String,
    /// Events it carries (a `lagged` notice counts as the events it reports), so the
    /// sender can report them as missed if it has to drop the payload.
    pub events: u64,
}

/// A batch encoded.
#[derive(Debug, Default)]
pub struct Encoded {
    pub payloads: Vec<Payload>,
    /// Events that fit in no payload.
    pub left_out: u64,
}

/// Encodes `events` from node `node` as payloads of at most `budget` bytes.
pub fn encode(node: &str, events: &[Event], budget: usize) -> Encoded {
    let envelope = Envelope::new(node);
    let room = budget.saturating_sub(envelope.overhead());
    let mut encoded = Encoded::default();
    let mut current = PayloadBuilder::default();
    for event in events {
        let Some(json) = event_json(event, room) else {
            encoded.left_out += weight(event);
            continue;
        };
        if !current.has_room_for(&json, room) {
            encoded.payloads.extend(current.finish(&envelope));
            current = PayloadBuilder::default();
        }
        current.push(&json, weight(event));
    }
    encoded.payloads.extend(current.finish(&envelope));
    encoded
}

/// How many events `event` stands for when it is lost.
fn weight(event: &Event) -> u64 {
    match event {
        Event::Lagged { missed } => (*missed).max(1),
        _ => 1,
    }
}

/// The event's JSON in at most `room` bytes: a log line cut to fit, or None.
fn event_json(event: &Event, room: usize) -> Option<String> {
    let json = serde_json::to_string(event).ok()?;
    if json.len() <= room {
        return Some(json);
    }
    match event {
        Event::Log(line) => cut_log_line(line, json.len(), room),
        _ => None,
    }
}

/// A log line's JSON in at most `room` bytes, its message cut and marked as cut.
fn cut_log_line(line: &LogLine, full_len: usize, room: usize) -> Option<String> {
    let note = format!(
        " … [cut to relay it between nodes: {} bytes in all]",
        line.message.len()
    );
    let mut keep = line
        .message
        .len()
        .saturating_sub(full_len - room + note.len());
    loop {
        keep = line.message.floor_char_boundary(keep);
        let mut cut = line.clone();
        cut.message = format!("{}{note}", &line.message[..keep]);
        let json = serde_json::to_string(&Event::Log(cut)).ok()?;
        if json.len() <= room {
            return Some(json);
        }
        if keep == 0 {
            return None;
        }
        // Each byte of the message takes at least one byte of JSON: dropping the excess
        // from the message comes close, escapes may need another round.
        keep = keep.saturating_sub(json.len() - room);
    }
}

/// The part of a payload around its events: `{"node":…,"events":[` and `]}`.
struct Envelope {
    head: String,
}

const TAIL: &str = "]}";

impl Envelope {
    fn new(node: &str) -> Envelope {
        Envelope {
            head: format!("{},\"events\":[", node_prefix(node)),
        }
    }

    fn overhead(&self) -> usize {
        self.head.len() + TAIL.len()
    }
}

/// How every payload of `node` begins: lets a node skip its own payloads unparsed.
pub fn node_prefix(node: &str) -> String {
    let quoted = serde_json::to_string(node).unwrap_or_else(|_| "\"\"".to_string());
    format!("{{\"node\":{quoted}")
}

/// The events of one payload under construction, joined by commas.
#[derive(Default)]
struct PayloadBuilder {
    joined: String,
    events: u64,
}

impl PayloadBuilder {
    fn has_room_for(&self, json: &str, room: usize) -> bool {
        let comma = usize::from(!self.joined.is_empty());
        self.joined.len() + comma + json.len() <= room
    }

    fn push(&mut self, json: &str, weight: u64) {
        if !self.joined.is_empty() {
            self.joined.push(',');
        }
        self.joined.push_str(json);
        self.events += weight;
    }

    fn finish(self, envelope: &Envelope) -> Option<Payload> {
        if self.joined.is_empty() {
            return None;
        }
        Some(Payload {
            text: format!("{}{}{TAIL}", envelope.head, self.joined),
            events: self.events,
        })
    }
}

/// A payload read back.
#[derive(Debug, PartialEq)]
pub struct Decoded {
    pub node: String,
    pub events: Vec<Event>,
    /// Events this build can't read (a newer node's kinds): skipped.
    pub unreadable: usize,
}

#[derive(Deserialize)]
struct Wire {
    node: String,
    events: Vec<serde_json::Value>,
}

/// Reads a payload; each event on its own, so one this build doesn't know costs only
/// itself.
pub fn decode(text: &str) -> Result<Decoded, serde_json::Error> {
    let wire: Wire = serde_json::from_str(text)?;
    let mut decoded = Decoded {
        node: wire.node,
        events: Vec::with_capacity(wire.events.len()),
        unreadable: 0,
    };
    for value in wire.events {
        match serde_json::from_value(value) {
            Ok(event) => decoded.events.push(event),
            Err(_) => decoded.unreadable += 1,
        }
    }
    Ok(decoded)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use bolt_shared::model::LogLevel;

    fn log(n: i64, message: &str) -> Event {
        Event::Log(LogLine {
            id: n,
            run_id: "run-1".into(),
            step_id: Some("step-1".into()),
            source: "JOB".into(),
            level: LogLevel::Info,
            message: message.into(),
            timestamp: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        })
    }

    fn all_events(encoded: &Encoded) -> Vec<Event> {
        encoded
            .payloads
            .iter()
            .flat_map(|p| decode(&p.text).unwrap().events)
            .collect()
    }

    #[test]
    fn a_small_batch_is_one_payload_naming_its_node() {
        let events = vec![
            Event::WorkflowsChanged,
            log(1, "hello"),
            Event::BulkProgress { done: 1, total: 3 },
        ];
        let encoded = encode("node-b", &events, PAYLOAD_BUDGET);
        assert_eq!(encoded.payloads.len(), 1);
        assert_eq!(encoded.left_out, 0);
        let payload = &encoded.payloads[0];
        assert_eq!(payload.events, 3);
        assert!(payload.text.starts_with(&node_prefix("node-b")));
        let decoded = decode(&payload.text).unwrap();
        assert_eq!(decoded.node, "node-b");
        assert_eq!(decoded.events, events);
        assert!(encode("node-b", &[], PAYLOAD_BUDGET).payloads.is_empty());
    }

    #[test]
    fn a_large_batch_is_split_in_order_within_the_budget() {
        let events: Vec<Event> = (0..200).map(|n| log(n, &"x".repeat(300))).collect();
        let encoded = encode("node-b", &events, PAYLOAD_BUDGET);
        assert!(encoded.payloads.len() > 5, "{}", encoded.payloads.len());
        for payload in &encoded.payloads {
            assert!(payload.text.len() <= PAYLOAD_BUDGET);
        }
        assert_eq!(encoded.payloads.iter().map(|p| p.events).sum::<u64>(), 200);
        assert_eq!(all_events(&encoded), events);
    }

    #[test]
    fn payloads_are_filled_before_a_new_one_starts() {
        let events: Vec<Event> = (0..50).map(|n| log(n, &"y".repeat(1000))).collect();
        let encoded = encode("n", &events, PAYLOAD_BUDGET);
        let one = serde_json::to_string(&events[0]).unwrap().len() + 1;
        for payload in &encoded.payloads[..encoded.payloads.len() - 1] {
            assert!(payload.text.len() + one > PAYLOAD_BUDGET);
        }
    }

    #[test]
    fn a_log_line_longer_than_a_payload_is_cut_and_says_so() {
        let long = "z".repeat(20_000);
        let events = vec![log(1, "before"), log(2, &long), log(3, "after")];
        let encoded = encode("node-b", &events, PAYLOAD_BUDGET);
        assert_eq!(encoded.left_out, 0);
        for payload in &encoded.payloads {
            assert!(payload.text.len() <= PAYLOAD_BUDGET);
        }
        let received = all_events(&encoded);
        assert_eq!(received.len(), 3);
        assert_eq!(received[0], events[0]);
        assert_eq!(received[2], events[2]);
        let Event::Log(cut) = &received[1] else {
            panic!("{:?}", received[1]);
        };
        assert_eq!(cut.id, 2);
        assert!(cut.message.starts_with("zzzz"));
        assert!(
            cut.message
                .ends_with(" … [cut to relay it between nodes: 20000 bytes in all]"),
            "{}",
            &cut.message[cut.message.len() - 80..]
        );
        // Cut no more than needed.
        assert!(
            cut.message.len() > PAYLOAD_BUDGET - 400,
            "{}",
            cut.message.len()
        );
    }

    #[test]
    fn cutting_respects_characters_and_escapes() {
        // Multi-byte characters, and control characters JSON writes as six bytes each.
        let long = "é\u{1}\"".repeat(5_000);
        let encoded = encode("node-b", &[log(1, &long)], PAYLOAD_BUDGET);
        assert_eq!(encoded.payloads.len(), 1);
        assert!(encoded.payloads[0].text.len() <= PAYLOAD_BUDGET);
        let Event::Log(cut) = &all_events(&encoded)[0] else {
            panic!()
        };
        assert!(long.starts_with(cut.message.split(" … [cut").next().unwrap()));
        assert!(cut.message.contains("[cut to relay it between nodes"));
    }

    #[test]
    fn an_event_that_cannot_fit_is_left_out_and_counted() {
        // A node id so long that not even an empty log line fits with it.
        let node = "n".repeat(PAYLOAD_BUDGET);
        let encoded = encode(
            &node,
            &[log(1, "hi"), Event::Lagged { missed: 7 }],
            PAYLOAD_BUDGET,
        );
        assert!(encoded.payloads.is_empty());
        assert_eq!(encoded.left_out, 8);
    }

    #[test]
    fn unknown_events_are_skipped_alone_and_garbage_is_an_error() {
        let text =
            r#"{"node":"b","events":[{"kind":"from_the_future"},{"kind":"workflows_changed"}]}"#;
        let decoded = decode(text).unwrap();
        assert_eq!(decoded.events, vec![Event::WorkflowsChanged]);
        assert_eq!(decoded.unreadable, 1);
        assert!(decode("not json").is_err());
    }

    #[test]
    fn node_ids_are_escaped_in_the_prefix() {
        let encoded = encode("a\"b", &[Event::WorkflowsChanged], PAYLOAD_BUDGET);
        let text = &encoded.payloads[0].text;
        assert!(text.starts_with(&node_prefix("a\"b")));
        assert!(!text.starts_with(&node_prefix("a")));
        assert_eq!(decode(text).unwrap().node, "a\"b");
    }
}
