//! What the reports read of candles below a day: the pairs and days a
//! database holds at an interval, the candles of a selection, and each
//! day's task beside the minutes it has candles for (the missing report,
//! the coverage grid and the chart are made from that).
//!
//! The candles are read from `series_candles` by its primary key, (series,
//! minute): a pair's series is found once, then its range of minutes is
//! one scan of the key, in order. `1d` is not read here: its candles are
//! `prices`, read by `reads.rs` as before.

use anyhow::Result;
use chrono::NaiveDate;

use super::{on_backend, Backend, Reason, Store, TaskState};
use crate::interval::Interval;
use crate::price::Candle;
use crate::selection::{Pair, Selection};

/// A day of a pair at an interval below a day, as the missing report,
/// the coverage grid and the chart read it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandleDay<'a> {
    pub pair: &'a Pair,
    pub day: NaiveDate,
    /// The day's task, if one was ever queued.
    pub task: Option<DayTask>,
    /// The open times (Unix minutes) of the day's stored candles, in order.
    pub minutes: &'a [i64],
}

/// A day's task: its state, and the reason the life cycle gives a cell
/// of that state without a price (for a `done` task that reason is
/// meaningless: its day is settled, every slot without a candle proven
/// empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayTask {
    pub state: TaskState,
    pub reason: Reason,
}

/// The Unix minutes of a selection's candles at its interval: from the
/// first slot of its first day to the last slot of its last day.
pub(crate) fn minute_range(sel: &Selection) -> (i64, i64) {
    let first = sel.interval.first_slot(sel.from) * sel.interval.minutes();
    let last = (sel.interval.day_slots(sel.to).end - 1) * sel.interval.minutes();
    (first, last)
}

/// The UTC day a Unix minute falls in.
pub(crate) fn day_of_minute(minute: i64) -> NaiveDate {
    Interval::M1.day_of_slot(minute)
}

on_backend! {
    /// The pairs with tasks or candles at `interval` (below a day), in
    /// name order, each with the sources of its first and of its last task
    /// at that interval (none for a pair that has only candles): what
    /// [`Store::pairs`] is for `1d`.
    fn interval_pairs(&self, interval: Interval) -> Result<Vec<(Pair, Vec<String>)>>;

    /// The first and last day of any task or candle of these pairs at
    /// `interval` (below a day), read in one transaction.
    fn interval_day_bounds(&self, pairs: &[Pair], interval: Interval) -> Result<Option<(NaiveDate, NaiveDate)>>;

    /// Calls `each` with every stored candle of the selection at its
    /// interval (below a day), by exchange, symbol and open time, read in
    /// one transaction; memory stays flat however many there are.
    fn for_each_candle(&self, sel: &Selection, each: impl FnMut(&Pair, Candle) -> Result<()>) -> Result<()>;

    /// Calls `each` with every day of the selection at its interval (below
    /// a day), by exchange, symbol and day: its task, and the minutes it
    /// has candles for. Read in one transaction; memory holds one day.
    fn for_each_candle_day(&self, sel: &Selection, each: impl FnMut(CandleDay<'_>) -> Result<()>) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_selection_spans_the_minutes_of_its_days_first_slot_to_last() {
        let sel = Selection::one("binance", "BTCUSDT", d("1970-01-02"), d("1970-01-03")).at(Interval::H1);
        assert_eq!(minute_range(&sel), (1440, 3 * 1440 - 60));
        let sel = sel.at(Interval::M1);
        assert_eq!(minute_range(&sel), (1440, 3 * 1440 - 1));
        assert_eq!(day_of_minute(1440 * 2 - 1), d("1970-01-02"));
        assert_eq!(day_of_minute(1440 * 2), d("1970-01-03"));
    }
}
