//! How long a failing task is tried, in one place: attempts per round
//! (`--max-attempts`), then a cool-down, for [`ROUNDS`] rounds; after the
//! last, a person is needed. The work loop asks it what an error makes of
//! a task; the schedule itself ([`ROUNDS`], [`cool_down`]) is the life
//! cycle's vocabulary, which the reports read too.

use std::time::Duration;

use super::Outcome;
pub use crate::life::retry::{cool_down, ROUNDS};

/// Attempts per round and rounds per task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in a round: after the last, the task cools down (or, after
    /// the last round, fails for good).
    pub max_attempts: u32,
}

impl RetryPolicy {
    pub const fn new(max_attempts: u32) -> RetryPolicy {
        RetryPolicy { max_attempts }
    }

    /// Whether the attempt a task with `attempts` made before ends its round.
    pub const fn last_attempt(&self, attempts: u32) -> bool {
        attempts + 1 >= self.max_attempts
    }

    /// What a transient error on the attempt of a task with `attempts`
    /// and `rounds` makes of it at `now`: queued again at `at`, or, its
    /// round over, what [`RetryPolicy::round_over`] says.
    pub fn transient(&self, attempts: u32, rounds: u32, error: String, at: i64, now: i64) -> Outcome {
        if self.last_attempt(attempts) {
            return Self::round_over(with_attempts(&error, attempts + 1), rounds, now);
        }
        Outcome::Retry { error, at }
    }

    /// What a task whose round ended on transient errors at `now`
    /// becomes, after `rounds` earlier rounds: it cools down until a later
    /// run asks again, or after its last round fails for good, saying for
    /// how long it has been failing (at least the cool-downs it waited).
    pub fn round_over(error: String, rounds: u32, now: i64) -> Outcome {
        if rounds + 1 < ROUNDS {
            return Outcome::Cooling { error, at: crate::clock::after(now, cool_down(rounds)) };
        }
        let waited: Duration = (0..rounds).map(cool_down).sum();
        Outcome::Failed {
            error: format!(
                "{error}; failing for at least {} over {} rounds of attempts",
                humantime::format_duration(waited),
                rounds + 1
            ),
        }
    }

    /// What an error no cool-down mends (a panic: a bug) makes of a task
    /// with `attempts`: queued again after `delay`, or failed after its
    /// last attempt.
    pub fn for_good(&self, attempts: u32, error: String, at: impl FnOnce() -> i64) -> Outcome {
        if self.last_attempt(attempts) {
            return Outcome::Failed { error: with_attempts(&error, attempts + 1) };
        }
        Outcome::Retry { error, at: at() }
    }
}

/// A task's last error, with how many attempts it had.
fn with_attempts(error: &str, attempts: u32) -> String {
    format!("{error} (gave up after {})", crate::words::plural(u64::from(attempts), "attempt", "attempts"))
}
