//! What a run did: the counts a command reports, and the tasks a run
//! leaves waiting for a later one.

use std::time::Duration;

use crate::store::{Outcome, StateCounts, Task};

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Prices fetched and stored: days (a day's candles below `1d` count once).
    pub fetched: u64,
    /// Candles below a day stored, today's closed ones among them.
    pub candles: u64,
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
    /// Requests sent to the sources (a batch of days is one, or a few when
    /// an answer stops short).
    pub requests: u64,
    /// Tasks put off because their source asked to slow down (a limit,
    /// with `Retry-After` or without), their attempt not counted.
    pub deferred: u64,
    /// Pauses begun because a source asked to slow down or banned this
    /// address: one line said each.
    pub slowdowns: u64,
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
    /// The tasks of the run's selection by state when it ended (none for a
    /// run over the whole queue): what the user asked for, and how much of
    /// it is done.
    pub tasks: Option<StateCounts>,
    /// What each source's answers came to in this run, in the order it first answered.
    pub sources: Vec<SourceRun>,
}

/// What one source's answers came to in a run: whether anything usable
/// came back, and the tasks that ran out of attempts a second round in a
/// row. Both come from the tasks themselves (their `rounds` are in the
/// database), so processes and hosts sharing the queue need no state of
/// their own to tell a blip from a source that stays broken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceRun {
    pub source: String,
    /// Requests sent to it.
    pub requests: u64,
    /// Tasks it answered for: a price or candles (today's so far too), no
    /// data, outside its history, not final yet.
    pub answered: u64,
    /// Tasks whose attempts ran out on transient errors after an earlier
    /// round had ended so too (a cool-down of at least an hour between):
    /// failing for over an hour.
    pub failing_again: u64,
    /// The last of their errors.
    pub last_error: Option<String>,
}

impl SourceRun {
    /// Whether the source answered nothing usable in the run while tasks
    /// failed a second round in a row: broken for over an hour, not a blip.
    pub fn broken(&self) -> bool {
        self.answered == 0 && self.failing_again > 0
    }
}

impl Summary {
    /// The entry of `source`, added when it has none yet.
    pub(super) fn source(&mut self, source: &str) -> &mut SourceRun {
        let at = match self.sources.iter().position(|s| s.source == source) {
            Some(i) => i,
            None => {
                self.sources.push(SourceRun { source: source.to_string(), ..SourceRun::default() });
                self.sources.len() - 1
            }
        };
        &mut self.sources[at]
    }

    /// Counts a committed outcome against its task's source, before [`Summary::tally`].
    pub(super) fn by_source(&mut self, task: &Task, outcome: &Outcome) {
        let run = self.source(&task.source);
        match outcome {
            Outcome::Price(_)
            | Outcome::Candles(_)
            | Outcome::NoData
            | Outcome::OutsideHistory
            | Outcome::CandlesSoFar { .. }
            | Outcome::NotYet { asked: true, .. } => run.answered += 1,
            Outcome::Cooling { error, .. } | Outcome::Failed { error } if task.rounds > 0 => {
                run.failing_again += 1;
                run.last_error = Some(error.clone());
            }
            _ => {}
        }
    }

    /// Counts a committed outcome; the error it carries, if any, for the
    /// run's last error.
    pub(super) fn tally(&mut self, outcome: Outcome) -> Option<String> {
        match outcome {
            Outcome::Price(_) => self.fetched += 1,
            Outcome::Candles(candles) => {
                self.fetched += 1;
                self.candles += candles.len() as u64;
            }
            Outcome::CandlesSoFar { candles, .. } => {
                self.not_yet += 1;
                self.candles += candles.len() as u64;
            }
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

    /// Tasks of the selection failed for good, in this run or an earlier
    /// one: prices the command did not get, for which a person is needed.
    /// Failures cooling down (their own state) are not among them: a later
    /// run asks again. For a run over the whole queue, this run's failures.
    pub fn failed_in_all(&self) -> u64 {
        match &self.tasks {
            Some(tasks) => tasks.failed,
            None => self.failed,
        }
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
