//! Log line ids. A line is published to followers before it is written, so boltd hands
//! out its ids itself. On SQLite one boltd writes the store: ids count up from the highest
//! stored. With several nodes on PostgreSQL each node takes blocks of ids from a sequence
//! (`log_line_blocks`), so no two nodes ever hand out the same id and a run's lines (all
//! from one node) still count up.

use std::sync::Mutex;

/// Ids per block: a node takes a new block about once per 16 million log lines.
pub const BLOCK_BITS: u32 = 24;
const BLOCK: i64 = 1 << BLOCK_BITS;

pub struct LogIds {
    state: Mutex<State>,
}

struct State {
    /// The last id handed out.
    last: i64,
    /// The last id of the current block (unbounded on SQLite).
    end: i64,
    /// The next block, reserved ahead (PostgreSQL).
    spare: Option<i64>,
}

impl Default for LogIds {
    fn default() -> Self {
        LogIds {
            state: Mutex::new(State {
                last: 0,
                end: i64::MAX,
                spare: None,
            }),
        }
    }
}

impl LogIds {
    /// The next id.
    pub fn next(&self) -> i64 {
        let Ok(mut state) = self.state.lock() else {
            return 0;
        };
        if state.last >= state.end
            && let Some(block) = state.spare.take()
        {
            state.last = block * BLOCK - 1;
            state.end = (block + 1) * BLOCK - 1;
        }
        if state.last >= state.end {
            // No block reserved in time (the database was down for a long while): going on
            // risks an id another node also hands out, which only that line's write refuses.
            tracing::warn!("log line ids ran past their reserved block");
        }
        state.last += 1;
        state.last
    }

    /// One boltd on the store: ids count up from the highest stored (`max_id`).
    pub fn start_after(&self, max_id: i64) {
        if let Ok(mut state) = self.state.lock() {
            *state = State {
                last: max_id,
                end: i64::MAX,
                spare: None,
            };
        }
    }

    /// Several nodes: ids come from `block` (a number from the shared sequence).
    pub fn start_in_block(&self, block: i64) {
        if let Ok(mut state) = self.state.lock() {
            *state = State {
                last: block * BLOCK - 1,
                end: (block + 1) * BLOCK - 1,
                spare: None,
            };
        }
    }

    /// Whether the current block is half used and no next block is reserved yet.
    pub fn wants_block(&self) -> bool {
        self.state.lock().is_ok_and(|state| {
            state.end != i64::MAX && state.spare.is_none() && state.end - state.last < BLOCK / 2
        })
    }

    /// Keeps `block` for when the current one runs out.
    pub fn add_spare(&self, block: i64) {
        if let Ok(mut state) = self.state.lock() {
            state.spare = Some(block);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_node_counts_up_from_the_highest_stored_id() {
        let ids = LogIds::default();
        ids.start_after(41);
        assert_eq!((ids.next(), ids.next()), (42, 43));
        assert!(!ids.wants_block());
    }

    #[test]
    fn nodes_hand_out_ids_from_their_own_blocks_and_move_to_the_spare() {
        let (a, b) = (LogIds::default(), LogIds::default());
        a.start_in_block(3);
        b.start_in_block(4);
        assert_eq!(a.next(), 3 * BLOCK);
        assert_eq!(b.next(), 4 * BLOCK);
        assert!(!a.wants_block());
        a.state.lock().unwrap().last = 3 * BLOCK + BLOCK / 2;
        assert!(a.wants_block());
        a.add_spare(7);
        assert!(!a.wants_block());
        a.state.lock().unwrap().last = 4 * BLOCK - 3;
        assert_eq!((a.next(), a.next()), (4 * BLOCK - 2, 4 * BLOCK - 1));
        assert_eq!(a.next(), 7 * BLOCK, "the spare block follows the used one");
    }
}
