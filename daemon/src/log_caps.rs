//! Per-run log caps (`[logs]` in bolt.toml): one chatty job can't fill the disk, the
//! daemon's memory or its followers' screens.
//!
//! A run's lines are stored as they come until the run has used most of its budget (nine
//! tenths of `max_lines_per_run` and of `max_bytes_per_run`). From then on the newest lines
//! wait in a ring that holds the last tenth; older ones fall out of it and are counted. When
//! the run ends, a notice says how many lines and bytes were dropped and the ring is stored
//! after it: the first and the last lines are kept, the middle is not. Lines longer than
//! `max_line_bytes` are cut, saying how much was cut.

use bolt_shared::config::LogsConfig;
use std::collections::VecDeque;

/// What to do with one log line.
#[derive(Debug, PartialEq)]
pub enum Admit {
    /// Store it now.
    Store,
    /// Held in the ring until the run ends (see [`LogCaps::finish`]).
    Held,
}

/// How much a run logged past its caps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    pub lines: u64,
    pub bytes: u64,
}

#[derive(Debug)]
pub struct LogCaps<T> {
    head_lines: u64,
    head_bytes: u64,
    tail_lines: u64,
    tail_bytes: u64,
    used_lines: u64,
    used_bytes: u64,
    tail: VecDeque<(T, u64)>,
    tail_used: u64,
    dropped: Dropped,
    max_lines: u64,
    max_bytes: u64,
}

impl<T> LogCaps<T> {
    pub fn new(config: &LogsConfig) -> LogCaps<T> {
        let lines = config.max_lines_per_run.max(1);
        let bytes = config.max_bytes_per_run.max(1);
        LogCaps {
            head_lines: lines - lines / 10,
            head_bytes: bytes - bytes / 10,
            tail_lines: lines / 10,
            tail_bytes: bytes / 10,
            used_lines: 0,
            used_bytes: 0,
            tail: VecDeque::new(),
            tail_used: 0,
            dropped: Dropped::default(),
            max_lines: lines,
            max_bytes: bytes,
        }
    }

    /// Decides for a line of `size` bytes; a held line is kept with `item`.
    pub fn admit(&mut self, size: u64, item: T) -> (Admit, Option<T>) {
        // Once a line has been held, every later one is too: lines stay in order.
        if !self.holding()
            && self.used_lines < self.head_lines
            && self.used_bytes + size <= self.head_bytes
        {
            self.used_lines += 1;
            self.used_bytes += size;
            return (Admit::Store, Some(item));
        }
        self.tail.push_back((item, size));
        self.tail_used += size;
        while self.tail.len() as u64 > self.tail_lines || self.tail_used > self.tail_bytes {
            let Some((_, size)) = self.tail.pop_front() else {
                break;
            };
            self.tail_used -= size;
            self.dropped.lines += 1;
            self.dropped.bytes += size;
        }
        (Admit::Held, None)
    }

    /// Whether lines are being held (the run is past the live part of its budget).
    pub fn holding(&self) -> bool {
        !self.tail.is_empty() || self.dropped.lines > 0
    }

    /// The held lines, oldest first, and what was dropped before them.
    pub fn finish(&mut self) -> (Dropped, Vec<T>) {
        let held = self.tail.drain(..).map(|(item, _)| item).collect();
        self.tail_used = 0;
        (self.dropped, held)
    }

    /// The notice stored where the dropped lines were.
    pub fn notice(&self, dropped: Dropped) -> String {
        format!(
            "bolt dropped {} log line{} ({}) here: this run logged more than its limits \
             (logs.max_lines_per_run = {}, logs.max_bytes_per_run = {} in bolt.toml); \
             its first and last lines are kept",
            thousands(dropped.lines),
            if dropped.lines == 1 { "" } else { "s" },
            human_bytes(dropped.bytes),
            thousands(self.max_lines),
            human_bytes(self.max_bytes),
        )
    }
}

/// Cuts a message longer than `max` bytes (on a character boundary), saying how much was cut.
pub fn cut_line(message: String, max: usize) -> String {
    if message.len() <= max {
        return message;
    }
    let mut end = max;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let cut = message.len() - end;
    let mut out = message;
    out.truncate(end);
    out.push_str(&format!(
        " … [bolt cut {} of this line: longer than logs.max_line_bytes = {}]",
        human_bytes(cut as u64),
        human_bytes(max as u64)
    ));
    out
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn human_bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let n = n as f64;
    if n < KIB {
        format!("{n} B")
    } else if n < KIB * KIB {
        format!("{:.1} KiB", n / KIB)
    } else if n < KIB * KIB * KIB {
        format!("{:.1} MiB", n / KIB / KIB)
    } else {
        format!("{:.1} GiB", n / KIB / KIB / KIB)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn caps(lines: u64, bytes: u64) -> LogCaps<u32> {
        LogCaps::new(&LogsConfig {
            max_lines_per_run: lines,
            max_bytes_per_run: bytes,
            max_line_bytes: 100,
        })
    }

    #[test]
    fn under_the_caps_every_line_is_stored_at_once() {
        let mut caps = caps(100, 10_000);
        for i in 0..90 {
            assert_eq!(caps.admit(10, i), (Admit::Store, Some(i)));
        }
        assert!(!caps.holding());
        let (dropped, held) = caps.finish();
        assert_eq!(dropped, Dropped::default());
        assert!(held.is_empty());
    }

    #[test]
    fn past_the_caps_the_first_and_last_lines_are_kept() {
        let mut caps = caps(100, 1_000_000);
        let mut stored = Vec::new();
        for i in 0..1000u32 {
            if let (Admit::Store, Some(i)) = caps.admit(10, i) {
                stored.push(i);
            }
        }
        assert!(caps.holding());
        let (dropped, held) = caps.finish();
        assert_eq!(stored, (0..90).collect::<Vec<_>>());
        assert_eq!(held, (990..1000).collect::<Vec<_>>());
        assert_eq!(
            dropped,
            Dropped {
                lines: 900,
                bytes: 9000
            }
        );
        assert_eq!(stored.len() + held.len(), 100);
        let notice = caps.notice(dropped);
        assert!(
            notice.contains("dropped 900 log lines (8.8 KiB)"),
            "{notice}"
        );
        assert!(notice.contains("logs.max_lines_per_run = 100"), "{notice}");
    }

    #[test]
    fn the_byte_cap_counts_too() {
        let mut caps = caps(1_000_000, 1000);
        let mut stored = 0;
        for i in 0..100 {
            if caps.admit(100, i).0 == Admit::Store {
                stored += 1;
            }
        }
        let (dropped, held) = caps.finish();
        assert_eq!(stored, 9);
        assert_eq!(held, vec![99]);
        assert_eq!(dropped.lines, 90);
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        assert_eq!(cut_line("short".into(), 10), "short");
        let cut = cut_line("ééééé".into(), 5);
        assert!(cut.starts_with("éé … [bolt cut 6 B"), "{cut}");
    }
}
