//! A workflow's retry policy, written once: a run that ended in failure (failed, crashed,
//! killed, exception or lost) runs again while attempts remain, after a backoff that
//! doubles with each attempt; never when its input is gone or the project erases payloads.

use bolt_shared::model::RunState;

/// What decides whether a run is retried.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// The attempt that just ended (1 for the first run).
    pub attempt: i64,
    pub max_attempts: i64,
    pub backoff_secs: i64,
    /// `erase_all` retention: the input is not kept, so it can't run again.
    pub erase_all: bool,
    pub has_input: bool,
}

/// The next attempt's number and the time (µs since the epoch) before which it must not
/// start, if the policy asks for one after a run that ended in `state` at `now`.
pub fn next_attempt(policy: &Policy, state: RunState, now: i64) -> Option<(i64, i64)> {
    let failed = matches!(
        state,
        RunState::Failed
            | RunState::Crashed
            | RunState::Killed
            | RunState::Exception
            | RunState::Lost
    );
    if !failed || policy.attempt >= policy.max_attempts || policy.erase_all || !policy.has_input {
        return None;
    }
    let delay_secs = policy
        .backoff_secs
        .max(0)
        .saturating_mul(1 << (policy.attempt - 1).clamp(0, 16));
    Some((
        policy.attempt + 1,
        now.saturating_add(delay_secs.saturating_mul(1_000_000)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(attempt: i64) -> Policy {
        Policy {
            attempt,
            max_attempts: 3,
            backoff_secs: 10,
            erase_all: false,
            has_input: true,
        }
    }

    #[test]
    fn failures_retry_with_doubling_backoff_until_attempts_run_out() {
        assert_eq!(
            next_attempt(&policy(1), RunState::Failed, 0),
            Some((2, 10_000_000))
        );
        assert_eq!(
            next_attempt(&policy(2), RunState::Lost, 0),
            Some((3, 20_000_000))
        );
        assert_eq!(next_attempt(&policy(3), RunState::Failed, 0), None);
    }

    #[test]
    fn success_erased_or_missing_input_never_retries() {
        assert_eq!(next_attempt(&policy(1), RunState::Success, 0), None);
        let erased = Policy {
            erase_all: true,
            ..policy(1)
        };
        assert_eq!(next_attempt(&erased, RunState::Failed, 0), None);
        let wiped = Policy {
            has_input: false,
            ..policy(1)
        };
        assert_eq!(next_attempt(&wiped, RunState::Crashed, 0), None);
    }
}
