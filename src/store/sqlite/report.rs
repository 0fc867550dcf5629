//! Reads for the reports on SQLite: counts by state, failures, the names
//! and days a database holds, prices, and why cells have none.

use std::iter::Peekable;

use anyhow::Result;
use chrono::NaiveDate;
use const_format::formatcp;
use rusqlite::{params, Row};

use super::pairs::PRICE_PAIRS;
use super::Db;
use crate::price::{Price, PriceRow};
use crate::selection::{Pair, Selection};
use crate::store::state::sql::{COOLING, FAILED, NOT_YET_DUE};
use crate::store::{FailedTask, Reason, StateCounts, TaskState};

impl Db {
    pub fn counts(&self) -> Result<StateCounts> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT state, sum(n) FROM task_counts GROUP BY state")?;
        let mut counts = StateCounts::default();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            counts[r.get::<_, TaskState>(0)?] += r.get::<_, i64>(1)?.max(0) as u64;
        }
        counts.came_due(self.came_due()?.iter().map(|(_, _, n)| n).sum());
        Ok(counts)
    }

    /// The `not_yet_due` tasks whose time has come, by (exchange, symbol):
    /// reports show them as queued, which the next run makes them.
    fn came_due(&self) -> Result<Vec<(String, String, u64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(formatcp!(
            "SELECT exchange, symbol, count(*) FROM tasks INDEXED BY tasks_not_yet_due
             WHERE state = {NOT_YET_DUE} AND next_attempt_at <= ?1 GROUP BY exchange, symbol"
        ))?;
        let rows = stmt
            .query_map(params![crate::clock::now_ms()], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn counts_in(&self, sel: &Selection) -> Result<StateCounts> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut counts = StateCounts::default();
        {
            // A pair whose every task is in the range (its first and last
            // day, two probes of the index) is read from the counts; the
            // others' tasks are counted.
            let mut bounds = tx.prepare_cached(
                "SELECT (SELECT min(day) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND interval = ?3),
                        (SELECT max(day) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND interval = ?3)",
            )?;
            let mut kept = tx.prepare_cached(
                "SELECT state, sum(n) FROM task_counts WHERE exchange = ?1 AND symbol = ?2 AND interval = ?3
                 GROUP BY state",
            )?;
            let mut stmt = tx.prepare_cached(
                "SELECT state, count(*) FROM tasks
                 WHERE exchange = ?1 AND symbol = ?2 AND interval = ?5 AND day BETWEEN ?3 AND ?4 GROUP BY state",
            )?;
            let interval = sel.interval;
            for p in &sel.pairs {
                let (lo, hi): (Option<NaiveDate>, Option<NaiveDate>) =
                    bounds.query_row(params![p.exchange, p.symbol, interval], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let whole = matches!((lo, hi), (Some(lo), Some(hi)) if sel.from <= lo && hi <= sel.to);
                let mut rows = match whole {
                    true => kept.query(params![p.exchange, p.symbol, interval])?,
                    false => stmt.query(params![p.exchange, p.symbol, sel.from, sel.to, interval])?,
                };
                while let Some(r) = rows.next()? {
                    counts[r.get::<_, TaskState>(0)?] += r.get::<_, i64>(1)? as u64;
                }
            }
        }
        Ok(counts)
    }

    pub fn counts_by_pair(&self) -> Result<Vec<(String, String, StateCounts)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT exchange, symbol, state, n FROM task_counts WHERE n <> 0 ORDER BY exchange, symbol",
        )?;
        let mut out: Vec<(String, String, StateCounts)> = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (exchange, symbol): (String, String) = (r.get(0)?, r.get(1)?);
            if !matches!(out.last(), Some((e, s, _)) if *e == exchange && *s == symbol) {
                out.push((exchange, symbol, StateCounts::default()));
            }
            if let Some((_, _, counts)) = out.last_mut() {
                counts[r.get::<_, TaskState>(2)?] += r.get::<_, i64>(3)?.max(0) as u64;
            }
        }
        for (exchange, symbol, n) in self.came_due()? {
            if let Some((_, _, counts)) = out.iter_mut().find(|(e, s, _)| *e == exchange && *s == symbol) {
                counts.came_due(n);
            }
        }
        Ok(out)
    }

    pub fn failures(&self, sel: Option<&Selection>, limit: usize) -> Result<Vec<FailedTask>> {
        let conn = self.conn()?;
        // The pairs as one JSON array of [exchange, symbol]; without a
        // selection, every pair and day.
        let (pairs, from, to, interval) = match sel {
            Some(sel) => {
                let pairs: Vec<[&str; 2]> =
                    sel.pairs.iter().map(|p| [p.exchange.as_str(), p.symbol.as_str()]).collect();
                (Some(serde_json::to_string(&pairs)?), sel.from.to_string(), sel.to.to_string(), sel.interval.name())
            }
            None => (None, "0000-01-01".to_string(), "9999-12-31".to_string(), ""),
        };
        let mut stmt = conn.prepare_cached(formatcp!(
            "SELECT exchange, symbol, day, attempts, coalesce(last_error, ''),
                    CASE WHEN state = {COOLING} THEN next_attempt_at END, rounds FROM tasks INDEXED BY tasks_failed
             WHERE (state = {FAILED} OR state = {COOLING})
               AND (?2 IS NULL OR ((exchange, symbol) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))
                                   AND interval = ?5))
               AND day BETWEEN ?3 AND ?4
             ORDER BY finished_at DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit as i64, pairs, from, to, interval], |r| {
            Ok(FailedTask {
                exchange: r.get(0)?,
                symbol: r.get(1)?,
                day: r.get(2)?,
                attempts: r.get(3)?,
                error: r.get(4)?,
                again_at: r.get(5)?,
                rounds: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn cooling(&self, sel: Option<&Selection>) -> Result<(u64, Option<i64>)> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(formatcp!(
            "SELECT count(*), min(next_attempt_at) FROM tasks INDEXED BY tasks_cooling
             WHERE state = {COOLING} AND exchange = ?1 AND symbol = ?2 AND interval = ?5 AND day BETWEEN ?3 AND ?4"
        ))?;
        // Every one: how many from the counts, the first by one probe of the index.
        let mut all = conn.prepare_cached(formatcp!(
            "SELECT (SELECT coalesce(sum(n), 0) FROM task_counts WHERE state = {COOLING}),
                    (SELECT min(next_attempt_at) FROM tasks INDEXED BY tasks_cooling WHERE state = {COOLING})"
        ))?;
        let read = |r: &Row<'_>| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, Option<i64>>(1)?));
        let Some(sel) = sel else { return Ok(all.query_row([], read)?) };
        let (mut n, mut first) = (0, None::<i64>);
        for p in &sel.pairs {
            let (k, at) = stmt.query_row(params![p.exchange, p.symbol, sel.from, sel.to, sel.interval], read)?;
            n += k;
            first = match (first, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        Ok((n, first))
    }

    pub fn pairs(&self) -> Result<Vec<(Pair, Vec<String>)>> {
        let conn = self.conn()?;
        // The queue's pairs (with their intervals) are in task_counts, the
        // prices' are found by a skip scan of their primary key (one probe
        // per distinct pair, so a million prices cost no more than a few);
        // each pair's first and last task at each interval by the
        // (exchange, symbol, interval, day) index, and of those the first
        // and last by day. A pair whose count rows are all that is left of
        // its tasks has no first task.
        let mut stmt = conn.prepare_cached(formatcp!(
            "{PRICE_PAIRS}
             SELECT e, s,
                    (SELECT day FROM tasks WHERE exchange = e AND symbol = s AND interval = i ORDER BY day LIMIT 1),
                    (SELECT source FROM tasks WHERE exchange = e AND symbol = s AND interval = i
                     ORDER BY day LIMIT 1),
                    (SELECT day FROM tasks WHERE exchange = e AND symbol = s AND interval = i
                     ORDER BY day DESC LIMIT 1),
                    (SELECT source FROM tasks WHERE exchange = e AND symbol = s AND interval = i
                     ORDER BY day DESC LIMIT 1),
                    max(priced)
             FROM (SELECT e, s, NULL AS i, 1 AS priced FROM pairs WHERE e IS NOT NULL
                   UNION ALL SELECT exchange, symbol, interval, 0 FROM task_counts)
             GROUP BY e, s, i ORDER BY e, s"
        ))?;
        type Ends = Option<(String, String)>;
        let mut found: Vec<(Pair, Ends, Ends, bool)> = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let pair = Pair::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?);
            let first: Ends = r.get::<_, Option<String>>(2)?.zip(r.get(3)?);
            let last: Ends = r.get::<_, Option<String>>(4)?.zip(r.get(5)?);
            let priced = r.get::<_, i64>(6)? == 1;
            match found.last_mut() {
                Some((p, f, l, had)) if *p == pair => {
                    // The earliest first day and the latest last day, of any interval.
                    if first.is_some() && (f.is_none() || first < *f) {
                        *f = first;
                    }
                    if last > *l {
                        *l = last;
                    }
                    *had |= priced;
                }
                _ => found.push((pair, first, last, priced)),
            }
        }
        let mut out = Vec::new();
        for (pair, first, last, priced) in found {
            let mut sources: Vec<String> = first.into_iter().chain(last).map(|(_, source)| source).collect();
            sources.dedup();
            if priced || !sources.is_empty() {
                out.push((pair, sources));
            }
        }
        Ok(out)
    }

    pub fn day_bounds(&self, pairs: &[Pair]) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut bounds: Option<(NaiveDate, NaiveDate)> = None;
        for p in pairs {
            if let Some((lo, hi)) = pair_bounds(&tx, &p.exchange, &p.symbol)? {
                bounds = Some(bounds.map_or((lo, hi), |(a, b)| (lo.min(a), hi.max(b))));
            }
        }
        Ok(bounds)
    }

    pub fn for_each_price(&self, sel: &Selection, mut each: impl FnMut(PriceRow) -> Result<()>) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut stmt = tx.prepare_cached(
            "SELECT day, open, high, low, close, volume, fetched_at FROM prices
             WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 ORDER BY day",
        )?;
        // `prices` holds the daily candles; below a day, there are none here.
        let pairs = if sel.interval.is_day() { sel.pairs.as_slice() } else { &[] };
        for p in pairs {
            let mut rows = stmt.query(params![p.exchange, p.symbol, sel.from, sel.to])?;
            while let Some(r) = rows.next()? {
                each(PriceRow {
                    exchange: p.exchange.clone(),
                    symbol: p.symbol.clone(),
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

    // A pair at a time, three sorted sequences side by side (the days,
    // the stored prices, the tasks), so memory stays flat however long
    // the range.
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
            "SELECT day, state, attempts, last_error, next_attempt_at, rounds FROM tasks
             WHERE exchange = ?1 AND symbol = ?2 AND interval = ?5 AND day BETWEEN ?3 AND ?4 ORDER BY day",
        )?;
        let now = crate::clock::now_ms();
        // `prices` holds the daily candles; below a day, none is a price here.
        let (from, to) = if sel.interval.is_day() { (sel.from, sel.to) } else { (sel.to, sel.from) };
        for p in &sel.pairs {
            let (exchange, symbol) = (p.exchange.as_str(), p.symbol.as_str());
            let mut priced =
                prices.query_map(params![exchange, symbol, from, to], |r| r.get::<_, NaiveDate>(0))?.peekable();
            let args = params![exchange, symbol, sel.from, sel.to, sel.interval];
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

/// The first and last day of any task (at any interval, a probe of the
/// index each) or price of (exchange, symbol).
fn pair_bounds(tx: &rusqlite::Transaction<'_>, exchange: &str, symbol: &str) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT min(lo), max(hi) FROM (
             SELECT (SELECT min(day) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND interval = i.interval) AS lo,
                    (SELECT max(day) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND interval = i.interval) AS hi
             FROM (SELECT value AS interval FROM json_each(?3)) i
             UNION ALL
             SELECT min(day), max(day) FROM prices WHERE exchange = ?1 AND symbol = ?2)",
    )?;
    let intervals = serde_json::to_string(&crate::interval::Interval::ALL)?;
    let (lo, hi): (Option<NaiveDate>, Option<NaiveDate>) =
        stmt.query_row(params![exchange, symbol, intervals], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(lo.zip(hi))
}

fn task_reason(r: &Row<'_>, now: i64) -> rusqlite::Result<(NaiveDate, Reason)> {
    Ok((r.get(0)?, crate::life::reason(r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, now)))
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
