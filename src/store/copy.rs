//! What `pricequeue copy` carries between two databases: tasks and prices
//! as plain values, read in key order a chunk at a time.

use chrono::NaiveDate;

use super::TaskState;
use crate::interval::Interval;
use crate::price::PriceRow;

/// An (exchange, symbol, interval, day): where a chunk ends, and the next
/// begins (a price's interval is `1d`).
pub type Key = (String, String, Interval, NaiveDate);

/// A price's key.
pub fn price_key(p: &PriceRow) -> Key {
    (p.exchange.clone(), p.symbol.clone(), Interval::D1, p.day)
}

/// A task as it moves between databases: its cell and where it stands,
/// without its claim (a lease belongs to the database it was taken in).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskRecord {
    pub exchange: String,
    pub symbol: String,
    pub day: NaiveDate,
    /// The interval of its candles (`1d`: the day's price).
    pub interval: Interval,
    /// Its state; a task in progress arrives queued.
    pub state: TaskState,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt_at: i64,
    /// ISO 8601 in UTC, as SQLite stores it.
    pub enqueued_at: String,
    pub finished_at: Option<String>,
    /// The source it is fetched from.
    pub source: String,
    /// The kind of its latest failure (`transient`, `permanent`), if any.
    pub failure: Option<String>,
    /// Rounds of attempts that ended in a cool-down.
    pub rounds: u32,
}

impl TaskRecord {
    /// The task's key.
    pub fn key(&self) -> Key {
        (self.exchange.clone(), self.symbol.clone(), self.interval, self.day)
    }
}

/// A key as four statement parameters: after it, or from the start
/// (empty names and no day) for `None`.
pub(crate) fn key_params(after: Option<&Key>) -> (String, String, &'static str, Option<NaiveDate>) {
    after.cloned().map_or((String::new(), String::new(), "", None), |(e, s, i, d)| (e, s, i.name(), Some(d)))
}

/// What importing a chunk did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    /// Rows the destination did not have.
    pub added: u64,
    /// Rows it had, replaced by a more finished task or a newer price.
    pub updated: u64,
}

impl std::ops::AddAssign for Imported {
    fn add_assign(&mut self, o: Imported) {
        self.added += o.added;
        self.updated += o.updated;
    }
}

/// A candle below a day as `copy` carries it: its series' names with it.
#[derive(Debug, Clone, PartialEq)]
pub struct CandleRecord {
    pub exchange: String,
    pub symbol: String,
    pub interval: Interval,
    pub candle: crate::price::Candle,
}

/// An (exchange, symbol, interval, minute): where a chunk of candles ends.
pub type CandleKey = (String, String, Interval, i64);

impl CandleRecord {
    /// The candle's key.
    pub fn key(&self) -> CandleKey {
        (self.exchange.clone(), self.symbol.clone(), self.interval, self.candle.minute)
    }
}

/// Where a series' candles start for the chunk after `after`: `None` for a
/// series wholly before it, else the minute they come after.
pub(crate) fn series_from(series: (&str, &str, Interval), after: Option<&CandleKey>) -> Option<i64> {
    let Some((e, s, i, minute)) = after else { return Some(i64::MIN) };
    match series.cmp(&(e.as_str(), s.as_str(), *i)) {
        std::cmp::Ordering::Less => None,
        std::cmp::Ordering::Equal => Some(*minute),
        std::cmp::Ordering::Greater => Some(i64::MIN),
    }
}
