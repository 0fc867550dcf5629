//! What a cell of a selection holds, in one word: a price, or the kind of
//! reason it has none. The one list that the reports' codes, the coverage
//! grid's days and columns, the chart's bands and the page's cells derive
//! from: a new kind is a variant here, and the compiler names every match
//! that must say how it is shown.

use super::{Reason, TaskState};

/// What a cell holds: a price, or why it has none, without the details
/// (attempts, errors, times) that a [`Reason`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A stored price: at an interval below a day, every candle of the day.
    Price,
    /// A day below `1d` whose task is done with some of its candles
    /// stored and the rest proven empty (minutes without trades): settled,
    /// but not every slot has a candle.
    Partial,
    /// No task was ever enqueued for it.
    NotQueued,
    /// Waiting in the queue.
    Queued,
    /// A worker holds it right now.
    InProgress,
    /// Its day has not come due (or its price was not published yet).
    NotYetDue,
    /// Its attempts ran out on transient errors: a later run asks again.
    Cooling,
    /// Gave up: a permanent error, or the last attempt of the last round.
    Failed,
    /// The source has no price for the day.
    NoData,
    /// The source cannot serve a day that old.
    OutsideHistory,
    /// A failure given up on for good (`retry --never`).
    Abandoned,
    /// Its task is done but the price row is gone (deleted by hand).
    PriceDeleted,
}

use Kind::*;

impl Kind {
    /// Every kind, in the order reports list them and declared (counts of
    /// days are kept by `kind as usize`).
    pub const ALL: [Kind; 12] = [
        Price,
        Partial,
        NotQueued,
        Queued,
        InProgress,
        NotYetDue,
        Cooling,
        Failed,
        NoData,
        OutsideHistory,
        Abandoned,
        PriceDeleted,
    ];

    /// The kinds of a cell without a price, those a [`Reason`] has:
    /// [`Kind::ALL`] but the price and a partial day (which has candles).
    pub fn missing() -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(|k| !matches!(k, Price | Partial))
    }

    /// A short, stable name, as CSV and JSON carry a reason (and the
    /// chart's legend and the summaries say it). A kind named after a task
    /// state is said as the state is.
    pub const fn code(self) -> &'static str {
        match self {
            Price => "price",
            Partial => "partial",
            NotQueued => "not queued",
            Queued => TaskState::Queued.words(),
            InProgress => TaskState::InProgress.words(),
            NotYetDue => TaskState::NotYetDue.words(),
            Cooling => TaskState::Cooling.words(),
            Failed => TaskState::Failed.words(),
            NoData => TaskState::NoData.words(),
            OutsideHistory => TaskState::OutsideHistory.words(),
            Abandoned => TaskState::Abandoned.words(),
            PriceDeleted => "price deleted",
        }
    }

    /// Whether nothing is left to do for the cell: it has a price, the
    /// source has none for it, or its failure was given up on. A missing
    /// cell of any other kind leaves the selection incomplete.
    pub const fn is_settled(self) -> bool {
        // Every kind named, so that a new one must say.
        match self {
            Price | Partial | NoData | OutsideHistory | Abandoned => true,
            NotQueued | Queued | InProgress | NotYetDue | Cooling | Failed | PriceDeleted => false,
        }
    }

    /// The kind of a cell as [`Store::for_each_cell`](crate::store::Store::for_each_cell)
    /// reports it: `None` has a price, otherwise why it has none.
    pub fn of(reason: Option<&Reason>) -> Kind {
        reason.map_or(Price, Reason::kind)
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_in_declaration_order_with_its_own_code() {
        // Counts of days are kept in an array indexed by `kind as usize`.
        for (i, kind) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, i, "{kind:?}");
        }
        let codes: std::collections::BTreeSet<_> = Kind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(codes.len(), Kind::ALL.len());
        assert_eq!(Kind::missing().count(), Kind::ALL.len() - 2);
        assert!(Kind::missing().all(|k| k != Price && k != Partial));
    }

    #[test]
    fn settled_kinds_leave_nothing_to_do() {
        let settled: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_settled()).collect();
        assert_eq!(settled, [Price, Partial, NoData, OutsideHistory, Abandoned]);
    }
}
