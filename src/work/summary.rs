//! What a run did: the counts a command reports, and the tasks a run
//! leaves waiting for a later one.

use std::time::Duration;

use crate::store::Outcome;

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    /// Prices fetched and stored.
    pub fetched: u64,
    /// Days the server has no price for.
    pub no_data: u64,
    /// Days older than the source's history.
    pub outside_history: u64,
    /// Tasks that failed for good in this run: a person is needed.
    pub failed: u64,
    /// Tasks whose attempts ran out on transient errors in this run: they
    /// cool down, and a later run asks again.
    pub cooling: u64,
    /// Attempts that failed and were queued again.
    pub retried: u64,
    /// Answers that asked us to come back later (Retry-After).
    pub deferred: u64,
    /// Results thrown away because another worker had taken the task over.
    pub discarded: u64,
    /// Tasks taken back from dead workers or expired leases.
    pub recovered: u64,
    /// Time every worker spent paused for Retry-After.
    pub paused: Duration,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Whether the run was stopped (Ctrl-C, SIGTERM) before the queue was empty.
    pub interrupted: bool,
    /// Whether `deadline` stopped the run.
    pub deadline_reached: bool,
    /// Tasks whose day turned out not to be due, or had no price yet, in this run.
    pub not_yet: u64,
    /// Tasks of the queue waiting for their day to come due when the run ended,
    /// and when the first of them does.
    pub waiting: u64,
    pub next_due: Option<i64>,
    /// Failed tasks cooling down after transient errors when the run ended
    /// (of this run or earlier ones), and when the first is asked again.
    pub cooled: u64,
    pub next_cooled: Option<i64>,
}

impl Summary {
    /// Counts a committed outcome; the error it carries, if any, for the
    /// run's last error.
    pub(super) fn tally(&mut self, outcome: Outcome) -> Option<String> {
        match outcome {
            Outcome::Price(_) => self.fetched += 1,
            Outcome::NoData => self.no_data += 1,
            Outcome::OutsideHistory => self.outside_history += 1,
            Outcome::Failed { error } => {
                self.failed += 1;
                return Some(error);
            }
            Outcome::Cooling { error, .. } => {
                self.cooling += 1;
                return Some(error);
            }
            Outcome::Retry { error, .. } => {
                self.retried += 1;
                return Some(error);
            }
            Outcome::Defer { .. } => self.deferred += 1,
            Outcome::NotYet { .. } => self.not_yet += 1,
            Outcome::Released => {}
        }
        None
    }

    /// Tasks finished (fetched, no data, failed, cooling down) per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.fetched + self.no_data + self.outside_history + self.failed + self.cooling) as f64 / secs
        } else {
            0.0
        }
    }
}
