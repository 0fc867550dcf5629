//! What the reports and `copy` read: counts by state, failures, the names
//! and days a database holds, its prices, why a cell has none; and the
//! chunks `copy` carries between two databases.

use anyhow::Result;
use chrono::NaiveDate;

use super::copy::{CandleKey, CandleRecord, Imported, Key, TaskRecord};
use super::{on_backend, Backend, FailedTask, Missing, Reason, StateCounts, Store};
use crate::price::PriceRow;
use crate::selection::{Pair, Selection};

impl Store {
    /// Calls `each` with every cell of the selection that has no price,
    /// with the reason, by exchange, symbol and day.
    pub fn for_each_missing(&self, sel: &Selection, mut each: impl FnMut(Missing) -> Result<()>) -> Result<()> {
        self.for_each_cell(sel, |exchange, symbol, day, reason| match reason {
            None => Ok(()),
            Some(reason) => each(Missing { exchange: exchange.to_string(), symbol: symbol.to_string(), day, reason }),
        })
    }
}

on_backend! {
    /// Task counts by state over the whole queue.
    fn counts(&self) -> Result<StateCounts>;

    /// Task counts by state of the selection's tasks, read in one transaction.
    fn counts_in(&self, sel: &Selection) -> Result<StateCounts>;

    /// Task counts by state for each (exchange, symbol), in name order.
    fn counts_by_pair(&self) -> Result<Vec<(String, String, StateCounts)>>;

    /// The most recently failed tasks, newest first, at most `limit`: of
    /// the selection, or of the whole queue for `None`.
    fn failures(&self, sel: Option<&Selection>, limit: usize) -> Result<Vec<FailedTask>>;

    /// The failed tasks cooling down after transient errors (of the
    /// selection, or every one for `None`), and when a run first asks one
    /// of them again.
    fn cooling(&self, sel: Option<&Selection>) -> Result<(u64, Option<i64>)>;

    /// Every pair of the database: those with tasks and those with prices,
    /// in name order, each with the sources of its first and of its last
    /// task (by day; one source, or two for a pair whose tasks moved from
    /// one source to another; none for a pair that has only prices). Read
    /// by probes of the indexes, a few per pair, however many tasks.
    fn pairs(&self) -> Result<Vec<(Pair, Vec<String>)>>;

    /// The (exchange, symbol) fetched last: of the pairs with prices, the
    /// one whose last day's price was stored last. What the page opens on.
    fn latest_pair(&self) -> Result<Option<(String, String)>>;

    /// Each (exchange, symbol) of the queue with the source its tasks are
    /// fetched from (its first day's), in name order.
    fn pair_sources(&self) -> Result<Vec<(String, String, String)>>;

    /// The first and last day of any task or price of these pairs, read in
    /// one transaction.
    fn day_bounds(&self, pairs: &[Pair]) -> Result<Option<(NaiveDate, NaiveDate)>>;

    /// Calls `each` with every stored price of the selection, by exchange,
    /// symbol and day, read in one transaction.
    fn for_each_price(&self, sel: &Selection, each: impl FnMut(PriceRow) -> Result<()>) -> Result<()>;

    /// Calls `each` with every cell of the selection, by exchange, symbol
    /// and day: `None` for a day with a price, or why it has none. Read in
    /// one transaction; memory stays flat however long the range.
    fn for_each_cell(
        &self,
        sel: &Selection,
        each: impl FnMut(&str, &str, NaiveDate, Option<Reason>) -> Result<()>
    ) -> Result<()>;

    /// The sources of the selection's tasks, for each pair that has tasks
    /// in the range: which API its prices come from, for the reports.
    fn sources_in(&self, sel: &Selection) -> Result<Vec<(String, String, Vec<String>)>>;

    /// What tells this database from every other: the file's full path;
    /// for PostgreSQL the server's system identifier, its database and the
    /// schema the tables are in (however the URL names them).
    fn identity(&self) -> Result<String>;

    /// Up to `limit` tasks after the key `after` (from the first, for
    /// `None`), in key order: `copy` reads a database a chunk at a time.
    fn tasks_after(&self, after: Option<&Key>, limit: usize) -> Result<Vec<TaskRecord>>;

    /// Up to `limit` prices after the key `after`, in key order.
    fn prices_after(&self, after: Option<&Key>, limit: usize) -> Result<Vec<PriceRow>>;

    /// Adds the tasks the database lacks, and replaces those it has with
    /// ones more finished (done, no data, failed or abandoned, where it
    /// has another state, or finished later); counts again the pairs
    /// touched. One transaction: run again, it changes nothing.
    fn import_tasks(&self, tasks: &[TaskRecord]) -> Result<Imported>;

    /// Adds the prices the database lacks, and replaces those fetched
    /// earlier than the ones given. One transaction.
    fn import_prices(&self, prices: &[PriceRow]) -> Result<Imported>;

    /// Up to `limit` candles below a day after the key `after`, in key order.
    fn candles_after(&self, after: Option<&CandleKey>, limit: usize) -> Result<Vec<CandleRecord>>;

    /// Adds the candles the database lacks (its own series made as
    /// needed); a candle it has stays. One transaction.
    fn import_candles(&self, candles: &[CandleRecord]) -> Result<Imported>;
}
