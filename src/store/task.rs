//! What the queue hands out and takes back: claimed tasks, their
//! outcomes, and what an enqueue did. The same on every backend.

use chrono::NaiveDate;

use crate::interval::Interval;
use crate::life::TaskState;
use crate::price::{Candle, Price};

/// A claimed task: one (exchange, symbol, day) to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub exchange: String,
    pub symbol: String,
    pub day: NaiveDate,
    /// The candles the task is for: `1d` is the day's one price (in
    /// `prices`); anything shorter, every candle of the day (in `candles`).
    pub interval: Interval,
    /// The source it is fetched from, by name (`tasks.source`).
    pub source: String,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Rounds of attempts that ended in a cool-down before this one.
    pub rounds: u32,
    /// Fencing token of this claim; only a completion carrying it counts.
    pub token: i64,
}

/// How a claimed task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server sent a price.
    Price(Price),
    /// Every candle of a day below `1d` is settled: these were stored,
    /// every other slot of the day proven empty by the answers (at least
    /// one candle: a day of none is `NoData`).
    Candles(Vec<Candle>),
    /// Today's day below `1d`: these candles have closed and are stored
    /// (with every slot before them settled); the rest of the day waits as
    /// `not_yet_due` until `at`, when the next candle has closed.
    CandlesSoFar { candles: Vec<Candle>, at: i64 },
    /// The server answered `null`: it has no price for that day.
    NoData,
    /// The source cannot serve the day: it is older than its history.
    OutsideHistory,
    /// A day below `1d` that reaches back past the source's history (Kraken
    /// keeps its latest 720 candles): the candles it still has of the day
    /// are stored, and the day is outside its history.
    PartlyOutside(Vec<Candle>),
    /// Not fetchable yet: the day has not come due, or it ended so recently
    /// that a `null` may only mean the price is not published yet. Waits as
    /// `not_yet_due` until `at`; `asked` says whether a request was made.
    NotYet { note: Option<String>, at: i64, asked: bool },
    /// A transient error: queue the task again, due at `at` (ms since epoch).
    Retry { error: String, at: i64 },
    /// The source asked to slow down (a limit, with `Retry-After` or
    /// without); the pause ends at `at`: queue the task again without
    /// counting the attempt.
    Defer { error: String, at: i64 },
    /// A permanent error, or the last attempt of the last round failed.
    Failed { error: String },
    /// The last attempt failed on a transient error, in a round that is
    /// not the last ([`crate::store::RetryPolicy::round_over`]): cooling
    /// down, until a later run queues it again at `at`.
    Cooling { error: String, at: i64 },
    /// Not attempted (the run is stopping): back to the queue as it was.
    Released,
}

impl Outcome {
    /// The state the outcome leads its task to: the one line of the life
    /// cycle each outcome is (`TaskState::EDGES` from `in_progress`), which
    /// `store::state::Transition::of` writes with the rest of the change.
    pub const fn leads_to(&self) -> TaskState {
        match self {
            Outcome::Price(_) | Outcome::Candles(_) => TaskState::Done,
            Outcome::NoData => TaskState::NoData,
            Outcome::OutsideHistory | Outcome::PartlyOutside(_) => TaskState::OutsideHistory,
            Outcome::NotYet { .. } | Outcome::CandlesSoFar { .. } => TaskState::NotYetDue,
            Outcome::Retry { .. } | Outcome::Defer { .. } | Outcome::Released => TaskState::Queued,
            Outcome::Failed { .. } => TaskState::Failed,
            // Until `at`: a later run's promotion queues it again.
            Outcome::Cooling { .. } => TaskState::Cooling,
        }
    }
}

/// The result of one claimed task, ready to be written back.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub task: Task,
    pub outcome: Outcome,
}

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enqueued {
    /// Tasks that were not in the queue before.
    pub added: u64,
    /// Tasks that were already there (in any state) and were left alone.
    pub existing: u64,
    /// Of the new tasks, those whose day has not come due yet.
    pub not_yet_due: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::state::Transition;

    #[test]
    fn each_outcome_leads_where_the_rules_and_the_diagram_say() {
        let error = || "HTTP 503".to_string();
        let outcomes = [
            Outcome::Price(Price { open: 1.0, high: 1.0, low: 1.0, close: 1.0, volume: 0.0 }),
            Outcome::Candles(vec![Candle {
                minute: 0,
                price: Price { open: 1.0, high: 1.0, low: 1.0, close: 1.0, volume: 0.0 },
            }]),
            Outcome::CandlesSoFar { candles: Vec::new(), at: 0 },
            Outcome::NoData,
            Outcome::OutsideHistory,
            Outcome::PartlyOutside(Vec::new()),
            Outcome::NotYet { note: None, at: 0, asked: true },
            Outcome::Retry { error: error(), at: 0 },
            Outcome::Defer { error: error(), at: 0 },
            Outcome::Failed { error: error() },
            Outcome::Cooling { error: error(), at: 0 },
            Outcome::Released,
        ];
        for outcome in &outcomes {
            let to = outcome.leads_to();
            assert_eq!(Transition::of(outcome).to, to, "{outcome:?}");
            let drawn = TaskState::EDGES.iter().any(|(from, t, _)| *from == Some(TaskState::InProgress) && *t == to);
            assert!(drawn, "{outcome:?}: in_progress -> {to} is no edge of the diagram");
        }
    }
}
