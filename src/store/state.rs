//! The rules of a task's life, decided once for every backend (River's
//! way): the states a task goes through, where a new task starts, what
//! each outcome of a fetch makes of it, which states `retry`, `retry
//! --never` and a refresh take and what they reset, and when the queue
//! next has work. The backends only turn these into SQL;
//! `docs/state-machine.md` draws them, and a test (`state/tests.rs`)
//! checks the drawing against [`TaskState::EDGES`].

use std::time::Duration;

use chrono::NaiveDate;

use crate::interval::Interval;
use crate::price::{Candle, Price};

use super::Outcome;

pub use crate::life::TaskState;
use TaskState::*;

/// The states as SQL literals, for statements written with
/// `const_format::formatcp!("... WHERE state = {QUEUED}")`.
pub mod sql {
    use const_format::formatcp;

    use super::TaskState::*;

    pub const QUEUED: &str = formatcp!("'{}'", Queued.name());
    pub const NOT_YET_DUE: &str = formatcp!("'{}'", NotYetDue.name());
    pub const IN_PROGRESS: &str = formatcp!("'{}'", InProgress.name());
    pub const DONE: &str = formatcp!("'{}'", Done.name());
    pub const NO_DATA: &str = formatcp!("'{}'", NoData.name());
    pub const FAILED: &str = formatcp!("'{}'", Failed.name());
    pub const COOLING: &str = formatcp!("'{}'", Cooling.name());
    pub const ABANDONED: &str = formatcp!("'{}'", Abandoned.name());
    pub const OUTSIDE_HISTORY: &str = formatcp!("'{}'", OutsideHistory.name());
    /// The finished states, as a list for `IN`.
    pub const FINISHED: &str = formatcp!("({DONE}, {NO_DATA}, {OUTSIDE_HISTORY}, {COOLING}, {FAILED}, {ABANDONED})");

    /// What `m` sets on each task it moves, as an `UPDATE`'s `SET` list:
    /// the state, and for a move afresh the columns it resets.
    pub fn set(m: super::Move) -> String {
        let afresh = if m.afresh { ", attempts = 0, next_attempt_at = 0, finished_at = NULL, rounds = 0" } else { "" };
        format!("state = '{}'{afresh}", m.to)
    }

    /// What the promotion of a task whose cool-down ended sets: queued with
    /// a fresh set of attempts; its `rounds` stay, to count on.
    pub const COOLED: &str = formatcp!("state = {QUEUED}, attempts = 0, finished_at = NULL");
}

/// When a task is next due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// As it was.
    Keep,
    /// At once: `next_attempt_at` 0, on every clock.
    AtOnce,
    /// At this time (ms since the epoch, on this machine's clock).
    At(i64),
}

impl Due {
    /// The task's `next_attempt_at` after it: `None` to keep the one it
    /// has, else a time put on the database's clock by `on_clock` (0, due
    /// at once, is 0 on every clock).
    pub fn next_attempt_at(self, on_clock: impl Fn(i64) -> i64) -> Option<i64> {
        match self {
            Due::Keep => None,
            Due::AtOnce => Some(0),
            Due::At(at) => Some(on_clock(at)),
        }
    }
}

/// What becomes of the day's price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PriceChange<'a> {
    /// Left as it is.
    Keep,
    /// Stored, replacing an older one.
    Store(&'a Price),
    /// The day's candles below `1d`, stored in `candles`, replacing any
    /// the day had.
    Candles(&'a [Candle]),
    /// Deleted: a refreshed day the price server no longer prices.
    Delete,
}

/// What a completion does to its claimed task: decided here from the
/// outcome, written by each backend (only where the claim is still the
/// current one). The task's owner and lease always go.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition<'a> {
    pub to: TaskState,
    /// Whether the outcome counts as an attempt: a request was made.
    pub attempt: bool,
    /// The task's error (or note). A finished task's replaces the last
    /// one, `None` clearing it; an unfinished task's replaces it only when
    /// `Some`, so a task waiting again still says why it waits.
    pub error: Option<&'a str>,
    pub due: Due,
    pub price: PriceChange<'a>,
    /// Whether a round of attempts ended in a cool-down (`tasks.rounds` + 1).
    pub next_round: bool,
}

impl<'a> Transition<'a> {
    /// The rule: what `outcome` makes of a claimed task.
    pub fn of(outcome: &'a Outcome) -> Transition<'a> {
        // Where it leads is the outcome's own word (`Outcome::leads_to`);
        // what it writes on the way is decided here.
        let to = outcome.leads_to();
        let t = |attempt, error, due, price| Transition { to, attempt, error, due, price, next_round: false };
        match outcome {
            Outcome::Price(p) => t(true, None, Due::Keep, PriceChange::Store(p)),
            Outcome::Candles(c) => t(true, None, Due::Keep, PriceChange::Candles(c)),
            Outcome::CandlesSoFar { candles, at } => t(true, None, Due::At(*at), PriceChange::Candles(candles)),
            Outcome::NoData => t(true, None, Due::Keep, PriceChange::Delete),
            // A price fetched before the source's history moved past the
            // day stays: it is still the day's price.
            Outcome::OutsideHistory => t(true, None, Due::Keep, PriceChange::Keep),
            // The candles it still has, stored beside any it had.
            Outcome::PartlyOutside(c) => t(true, None, Due::Keep, PriceChange::Candles(c)),
            Outcome::Failed { error } => t(true, Some(error), Due::Keep, PriceChange::Keep),
            // Until `at`: then a run's promotion queues it again.
            Outcome::Cooling { error, at } => {
                Transition { next_round: true, ..t(true, Some(error), Due::At(*at), PriceChange::Keep) }
            }
            Outcome::NotYet { note, at, asked } => t(*asked, note.as_deref(), Due::At(*at), PriceChange::Keep),
            Outcome::Retry { error, at } => t(true, Some(error), Due::At(*at), PriceChange::Keep),
            // A rate limit (Retry-After, or a limit said with no time):
            // the server's pace, not the task's failure.
            Outcome::Defer { error, at } => t(false, Some(error), Due::At(*at), PriceChange::Keep),
            // Not attempted: back as it was, due at once.
            Outcome::Released => t(false, None, Due::AtOnce, PriceChange::Keep),
        }
    }

    /// What `tasks.failure` records where the task fails: `transient` when
    /// it cools down, `permanent` when it fails; `None` keeps what it had.
    /// The state says as much (a task whose rounds all ended on transient
    /// errors fails as `permanent` too): the column is written as before,
    /// for `copy` and older readers, until a migration drops it.
    pub const fn failure(&self) -> Option<&'static str> {
        match self.to {
            Cooling => Some("transient"),
            Failed => Some("permanent"),
            _ => None,
        }
    }

    /// Whether the task ends finished (`finished_at` is set).
    pub fn finishes(&self) -> bool {
        self.to.is_finished()
    }

    /// The task's error afterwards, where it had `before`.
    pub fn error_after(&self, before: Option<&str>) -> Option<String> {
        match (self.finishes(), self.error) {
            (true, error) | (false, error @ Some(_)) => error.map(str::to_string),
            (false, None) => before.map(str::to_string),
        }
    }
}

/// A change of many tasks at once, made by a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    /// The states it takes tasks from.
    pub from: &'static [TaskState],
    pub to: TaskState,
    /// Whether the tasks start afresh: no attempts made, due at once, not
    /// finished. Their last error stays, for the record.
    pub afresh: bool,
}

impl Move {
    /// `retry`: failed tasks (and those cooling down) queued again with a
    /// fresh set of attempts; with `abandoned`, the abandoned ones too.
    pub const fn retry(abandoned: bool) -> Move {
        let from: &[TaskState] = if abandoned { &[Failed, Cooling, Abandoned] } else { &[Failed, Cooling] };
        Move { from, to: Queued, afresh: true }
    }

    /// `retry --never`: failures (and those cooling down) given up on for
    /// good. They keep their error.
    pub const ABANDON: Move = Move { from: &[Failed, Cooling], to: Abandoned, afresh: false };

    /// A refresh: finished tasks (but the abandoned) queued afresh, to be
    /// fetched again. Their prices stay until the new answers replace them.
    pub const REFRESH: Move = Move { from: &[Done, NoData, OutsideHistory, Cooling, Failed], to: Queued, afresh: true };
}

pub use super::retry_policy::{cool_down, ROUNDS};

/// Where a task enqueued at `now` for `day` at `interval` starts: queued,
/// or not yet due until the day's first candle has closed and `grace` has
/// passed. At `1d` that candle is the day itself (see
/// [`crate::clock::due_at`]); below a day, today's task is fetched as its
/// candles close, each stored once closed (`Outcome::CandlesSoFar`).
pub fn start(day: NaiveDate, interval: Interval, now: i64, grace: Duration) -> (TaskState, Due) {
    let first_close = interval.slot_start_ms(interval.first_slot(day) + 1);
    match crate::clock::after(first_close, grace) {
        due if due <= now => (Queued, Due::AtOnce),
        due => (NotYetDue, Due::At(due)),
    }
}

/// When the queue next has work, from the earliest time a queued task
/// comes due (`due`) and the earliest end of a lease held (`lease`): a
/// task comes due, or a lease runs out and its task can be taken back.
/// `None` when nothing is queued or in progress.
pub fn next_wakeup(due: Option<i64>, lease: Option<i64>) -> Option<i64> {
    match (due, lease) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests;
