//! Why a cell of a selection has no price, the same on every backend.

use chrono::NaiveDate;

use super::{Kind, TaskState};

/// Why a cell of a selection has no price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// No task was ever enqueued for it.
    NotQueued,
    /// Waiting in the queue; `attempts` failed so far, the last with `error`.
    Queued { attempts: u32, error: Option<String> },
    /// A worker holds it right now.
    InProgress,
    /// Its day has not come due (or its price was not published yet):
    /// queued from `at` (ms since the epoch); `note` says why, if asked before.
    NotYetDue { at: i64, note: Option<String> },
    /// Gave up: a permanent error, or the last attempt of the last round failed.
    Failed { error: String },
    /// Its attempts ran out on transient errors: it cools down, and a run
    /// from `at` on asks again; `rounds` of attempts have ended so.
    Cooling { error: String, at: i64, rounds: u32 },
    /// The server answered `null`: it has no price for that day.
    NoData,
    /// The source cannot serve the day at all: older than the history it
    /// keeps (Kraken's latest 720 daily candles).
    OutsideHistory,
    /// A failure given up on for good (`retry --never`).
    Abandoned { error: String },
    /// Its task is done but the price row is gone (deleted by hand).
    PriceDeleted,
}

impl Reason {
    /// The kind of reason, without its details: what the reports' codes,
    /// the grid, the chart and the page are derived from.
    pub const fn kind(&self) -> Kind {
        match self {
            Reason::NotQueued => Kind::NotQueued,
            Reason::Queued { .. } => Kind::Queued,
            Reason::InProgress => Kind::InProgress,
            Reason::NotYetDue { .. } => Kind::NotYetDue,
            Reason::Failed { .. } => Kind::Failed,
            Reason::Cooling { .. } => Kind::Cooling,
            Reason::NoData => Kind::NoData,
            Reason::OutsideHistory => Kind::OutsideHistory,
            Reason::Abandoned { .. } => Kind::Abandoned,
            Reason::PriceDeleted => Kind::PriceDeleted,
        }
    }

    /// A short, stable name for the reason, as CSV and JSON carry it: its
    /// kind's [`Kind::code`].
    pub const fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The error behind the reason, if there is one.
    pub fn error(&self) -> Option<&str> {
        match self {
            Reason::Queued { error, .. } => error.as_deref(),
            Reason::Failed { error } | Reason::Abandoned { error } | Reason::Cooling { error, .. } => Some(error),
            Reason::NotYetDue { note, .. } => note.as_deref(),
            _ => None,
        }
    }

    /// Whether nothing is left to do for the cell: see [`Kind::is_settled`].
    /// Every other reason means the selection is incomplete.
    pub const fn is_settled(&self) -> bool {
        self.kind().is_settled()
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Queued { attempts, error: Some(e) } if *attempts > 0 => {
                let attempts = crate::words::plural(u64::from(*attempts), "failed attempt", "failed attempts");
                write!(f, "queued (after {attempts}, last: {e})")
            }
            Reason::Failed { error } => write!(f, "failed: {error}"),
            Reason::Cooling { error, at, rounds } => write!(
                f,
                "failed for now, on transient errors: {error}; asked again from {} (after round {rounds} of {})",
                crate::clock::show(*at),
                super::retry::ROUNDS
            ),
            Reason::Abandoned { error } => write!(f, "abandoned: {error}"),
            Reason::NotYetDue { at, note } => match note {
                Some(note) => write!(f, "not yet due: {note}; asked again from {}", crate::clock::show(*at)),
                None => write!(f, "not yet due: from {}", crate::clock::show(*at)),
            },
            Reason::OutsideHistory => {
                write!(f, "{}: the source no longer serves days this old; another source may have them", self.code())
            }
            other => f.write_str(other.code()),
        }
    }
}

/// A cell of a selection without a price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing {
    pub exchange: String,
    pub symbol: String,
    pub day: NaiveDate,
    pub reason: Reason,
}

/// Why a cell whose task is in `state` has no price, at `now` (ms): the
/// task's attempts, last error, `next_attempt_at` and rounds tell the rest.
pub fn reason(state: TaskState, attempts: u32, error: Option<String>, at: i64, rounds: u32, now: i64) -> Reason {
    match state {
        TaskState::Queued => Reason::Queued { attempts, error },
        // Its time has come: the next run queues it.
        TaskState::NotYetDue | TaskState::Cooling if at <= now => Reason::Queued { attempts, error },
        TaskState::NotYetDue => Reason::NotYetDue { at, note: error },
        TaskState::Cooling => Reason::Cooling { error: error.unwrap_or_default(), at, rounds },
        TaskState::InProgress => Reason::InProgress,
        TaskState::NoData => Reason::NoData,
        TaskState::OutsideHistory => Reason::OutsideHistory,
        TaskState::Failed => Reason::Failed { error: error.unwrap_or_default() },
        TaskState::Abandoned => Reason::Abandoned { error: error.unwrap_or_default() },
        TaskState::Done => Reason::PriceDeleted, // yet no price row
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_failed_attempt_is_said_in_the_singular() {
        let queued = |attempts| Reason::Queued { attempts, error: Some("HTTP 502".into()) }.to_string();
        assert_eq!(queued(1), "queued (after 1 failed attempt, last: HTTP 502)");
        assert_eq!(queued(2), "queued (after 2 failed attempts, last: HTTP 502)");
    }
}
