//! How long a failing task is tried: rounds of attempts, with a cool-down
//! between each two.

use std::time::Duration;

/// Rounds of attempts a task gets for transient errors, a cool-down
/// between each two: the cool-downs add up to 55 h, after which a failure
/// that is still there needs a person.
pub const ROUNDS: u32 = 7;

/// The cool-down after round `rounds + 1` ran out of attempts: 1 h,
/// doubling with each round, at most 24 h.
pub fn cool_down(rounds: u32) -> Duration {
    Duration::from_secs(3600 << rounds.min(5)).min(Duration::from_secs(24 * 3600))
}
