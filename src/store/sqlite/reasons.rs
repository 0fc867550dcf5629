//! Why a cell of a selection has no price: the reasons, and the walk over
//! a pair's days that finds them.

use std::iter::Peekable;

use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::{params, Row};

use super::Db;
use crate::price::{Price, PriceRow};
use crate::selection::Selection;
use crate::store::{reason, Reason};

impl Db {
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
    let state: String = r.get(1)?;
    Ok((r.get(0)?, reason::reason(&state, r.get(2)?, r.get(3)?, r.get(4)?, now)))
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
