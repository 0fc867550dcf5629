//! Why a cell of a selection has no price: the reasons, and the walk over
//! a pair's days that finds them.

use std::iter::Peekable;

use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::{params, Row};

use super::Store;
use crate::price::{Price, PriceRow};
use crate::selection::Selection;

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
    /// Gave up: a permanent error or the last attempt failed.
    Failed { error: String },
    /// The server answered `null`: it has no price for that day.
    NoData,
    /// A failure given up on for good (`retry --never`).
    Abandoned { error: String },
    /// Its task is done but the price row is gone (deleted by hand).
    PriceDeleted,
}

impl Reason {
    /// A short, stable name for the reason, as CSV and JSON carry it.
    pub fn code(&self) -> &'static str {
        match self {
            Reason::NotQueued => "not queued",
            Reason::Queued { .. } => "queued",
            Reason::InProgress => "in progress",
            Reason::NotYetDue { .. } => "not yet due",
            Reason::Failed { .. } => "failed",
            Reason::Abandoned { .. } => "abandoned",
            Reason::NoData => "no data",
            Reason::PriceDeleted => "price deleted",
        }
    }

    /// The error behind the reason, if there is one.
    pub fn error(&self) -> Option<&str> {
        match self {
            Reason::Queued { error, .. } => error.as_deref(),
            Reason::Failed { error } | Reason::Abandoned { error } => Some(error),
            Reason::NotYetDue { note, .. } => note.as_deref(),
            _ => None,
        }
    }

    /// Whether nothing is left to do for the cell: the server has no price
    /// for it, or its failure was given up on. Every other reason means the
    /// selection is incomplete.
    pub fn is_settled(&self) -> bool {
        matches!(self, Reason::NoData | Reason::Abandoned { .. })
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::Queued { attempts, error: Some(e) } if *attempts > 0 => {
                write!(f, "queued (after {attempts} failed attempts, last: {e})")
            }
            Reason::Failed { error } => write!(f, "failed: {error}"),
            Reason::Abandoned { error } => write!(f, "abandoned: {error}"),
            Reason::NotYetDue { at, note } => match note {
                Some(note) => write!(f, "not yet due: {note}; asked again from {}", crate::clock::show(*at)),
                None => write!(f, "not yet due: from {}", crate::clock::show(*at)),
            },
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

impl Store {
    /// Calls `each` with every stored price of the selection, by exchange,
    /// symbol and day, read in one transaction.
    pub fn for_each_price(&self, sel: &Selection, mut each: impl FnMut(PriceRow) -> Result<()>) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut stmt = tx.prepare_cached(
            "SELECT day, open, high, low, close, volume, fetched_at FROM prices
             WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 ORDER BY day",
        )?;
        for (exchange, symbol) in sel.pairs() {
            let mut rows = stmt.query(params![exchange, symbol, sel.from, sel.to])?;
            while let Some(r) = rows.next()? {
                each(PriceRow {
                    exchange: exchange.to_string(),
                    symbol: symbol.to_string(),
                    day: r.get(0)?,
                    price: Price {
                        open: r.get(1)?,
                        high: r.get(2)?,
                        low: r.get(3)?,
                        close: r.get(4)?,
                        volume: r.get(5)?,
                    },
                    fetched_at: r.get(6)?,
                })?;
            }
        }
        Ok(())
    }

    /// Calls `each` with every cell of the selection that has no price,
    /// with the reason, by exchange, symbol and day.
    pub fn for_each_missing(&self, sel: &Selection, mut each: impl FnMut(Missing) -> Result<()>) -> Result<()> {
        self.for_each_cell(sel, |exchange, symbol, day, reason| match reason {
            None => Ok(()),
            Some(reason) => each(Missing { exchange: exchange.to_string(), symbol: symbol.to_string(), day, reason }),
        })
    }

    /// Calls `each` with every cell of the selection, by exchange, symbol
    /// and day: `None` for a day with a price, or why it has none. Read in
    /// one transaction, a pair at a time.
    ///
    /// Streams three sorted sequences side by side (the days, the stored
    /// prices, the tasks), so memory stays flat however long the range.
    pub fn for_each_cell(
        &self,
        sel: &Selection,
        mut each: impl FnMut(&str, &str, NaiveDate, Option<Reason>) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut prices = tx.prepare_cached(
            "SELECT day FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 ORDER BY day",
        )?;
        let mut tasks = tx.prepare_cached(
            "SELECT day, state, attempts, last_error, next_attempt_at FROM tasks
             WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 ORDER BY day",
        )?;
        let now = crate::clock::now_ms();
        for (exchange, symbol) in sel.pairs() {
            let args = params![exchange, symbol, sel.from, sel.to];
            let mut priced = prices.query_map(args, |r| r.get::<_, NaiveDate>(0))?.peekable();
            let mut held = tasks.query_map(args, |r| task_reason(r, now))?.peekable();
            for day in sel.from.iter_days().take_while(|d| *d <= sel.to) {
                let has_price = advance_to(&mut priced, day, |d| *d)?.is_some();
                let task = advance_to(&mut held, day, |(d, _)| *d)?;
                let reason = match (has_price, task) {
                    (true, _) => None,
                    (false, Some((_, reason))) => Some(reason),
                    (false, None) => Some(Reason::NotQueued),
                };
                each(exchange, symbol, day, reason)?;
            }
        }
        Ok(())
    }
}

fn task_reason(r: &Row<'_>, now: i64) -> rusqlite::Result<(NaiveDate, Reason)> {
    let day = r.get(0)?;
    let state: String = r.get(1)?;
    let attempts = r.get(2)?;
    let error: Option<String> = r.get(3)?;
    let at: i64 = r.get(4)?;
    let reason = match state.as_str() {
        "queued" => Reason::Queued { attempts, error },
        // Its time has come: the next run queues it.
        "not_yet_due" if at <= now => Reason::Queued { attempts, error },
        "not_yet_due" => Reason::NotYetDue { at, note: error },
        "in_progress" => Reason::InProgress,
        "no_data" => Reason::NoData,
        "failed" => Reason::Failed { error: error.unwrap_or_default() },
        "abandoned" => Reason::Abandoned { error: error.unwrap_or_default() },
        _ => Reason::PriceDeleted, // done, yet no price row
    };
    Ok((day, reason))
}

/// Moves a day-sorted row stream up to `day` and takes the row of that day.
fn advance_to<T, I>(rows: &mut Peekable<I>, day: NaiveDate, key: impl Fn(&T) -> NaiveDate) -> Result<Option<T>>
where
    I: Iterator<Item = rusqlite::Result<T>>,
{
    while let Some(next) = rows.peek() {
        let at = match next {
            Ok(row) => key(row),
            Err(_) => match rows.next() {
                Some(Err(e)) => return Err(e.into()),
                _ => continue,
            },
        };
        if at > day {
            return Ok(None);
        }
        let row = rows.next().transpose()?;
        if at == day {
            return Ok(row);
        }
    }
    Ok(None)
}
