//! Reads of candles below a day on SQLite (`store/candles.rs` says what
//! each does): a pair's series found once, then its minutes read by the
//! primary key of `series_candles`, in order.

use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, Transaction};

use super::Db;
use crate::interval::Interval;
use crate::price::{Candle, Price};
use crate::selection::{Pair, Selection};
use crate::store::candles::{day_of_minute, minute_range, CandleDay, DayTask};
use crate::store::TaskState;

impl Db {
    pub fn interval_pairs(&self, interval: Interval) -> Result<Vec<(Pair, Vec<String>)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            r#"SELECT e, s,
                      (SELECT source FROM tasks WHERE exchange = e AND symbol = s AND "interval" = ?1
                       ORDER BY day LIMIT 1),
                      (SELECT source FROM tasks WHERE exchange = e AND symbol = s AND "interval" = ?1
                       ORDER BY day DESC LIMIT 1)
               FROM (SELECT exchange AS e, symbol AS s FROM series WHERE "interval" = ?1
                     UNION SELECT exchange, symbol FROM task_counts WHERE "interval" = ?1 AND n <> 0)
               ORDER BY e, s"#,
        )?;
        let mut out = Vec::new();
        let mut rows = stmt.query(params![interval.name()])?;
        while let Some(r) = rows.next()? {
            let (first, last): (Option<String>, Option<String>) = (r.get(2)?, r.get(3)?);
            let mut sources: Vec<String> = first.into_iter().chain(last).collect();
            sources.dedup();
            out.push((Pair::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?), sources));
        }
        Ok(out)
    }

    pub fn interval_day_bounds(&self, pairs: &[Pair], interval: Interval) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut bounds: Option<(NaiveDate, NaiveDate)> = None;
        {
            let mut tasks = tx.prepare_cached(
                r#"SELECT min(day), max(day) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND "interval" = ?3"#,
            )?;
            let mut candles =
                tx.prepare_cached("SELECT min(minute), max(minute) FROM series_candles WHERE series = ?1")?;
            let mut widen = |lo: NaiveDate, hi: NaiveDate| {
                bounds = Some(bounds.map_or((lo, hi), |(a, b)| (lo.min(a), hi.max(b))));
            };
            for p in pairs {
                let (lo, hi): (Option<NaiveDate>, Option<NaiveDate>) =
                    tasks.query_row(params![p.exchange, p.symbol, interval.name()], |r| Ok((r.get(0)?, r.get(1)?)))?;
                if let (Some(lo), Some(hi)) = (lo, hi) {
                    widen(lo, hi);
                }
                if let Some(series) = series_of(&tx, p, interval)? {
                    let (lo, hi): (Option<i64>, Option<i64>) =
                        candles.query_row(params![series], |r| Ok((r.get(0)?, r.get(1)?)))?;
                    if let (Some(lo), Some(hi)) = (lo, hi) {
                        widen(day_of_minute(lo), day_of_minute(hi));
                    }
                }
            }
        }
        Ok(bounds)
    }

    pub fn for_each_candle(&self, sel: &Selection, mut each: impl FnMut(&Pair, Candle) -> Result<()>) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let (first, last) = minute_range(sel);
        let mut stmt = tx.prepare_cached(
            "SELECT minute, open, high, low, close, volume FROM series_candles
             WHERE series = ?1 AND minute BETWEEN ?2 AND ?3 ORDER BY minute",
        )?;
        for p in &sel.pairs {
            let Some(series) = series_of(&tx, p, sel.interval)? else { continue };
            let mut rows = stmt.query(params![series, first, last])?;
            while let Some(r) = rows.next()? {
                let price =
                    Price { open: r.get(1)?, high: r.get(2)?, low: r.get(3)?, close: r.get(4)?, volume: r.get(5)? };
                each(p, Candle { minute: r.get(0)?, price })?;
            }
        }
        Ok(())
    }

    // A pair at a time: its days, its tasks and its candles' minutes, all
    // three in day order, walked side by side.
    pub fn for_each_candle_day(
        &self,
        sel: &Selection,
        mut each: impl FnMut(CandleDay<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let (first, last) = minute_range(sel);
        let now = crate::clock::now_ms();
        let mut tasks = tx.prepare_cached(
            r#"SELECT day, state, attempts, last_error, next_attempt_at, rounds FROM tasks
               WHERE exchange = ?1 AND symbol = ?2 AND "interval" = ?3 AND day BETWEEN ?4 AND ?5 ORDER BY day"#,
        )?;
        let mut candles = tx.prepare_cached(
            "SELECT minute FROM series_candles WHERE series = ?1 AND minute BETWEEN ?2 AND ?3 ORDER BY minute",
        )?;
        let mut minutes: Vec<i64> = Vec::with_capacity(sel.interval.per_day() as usize);
        for p in &sel.pairs {
            let series = series_of(&tx, p, sel.interval)?;
            let mut held = tasks
                .query_map(params![p.exchange, p.symbol, sel.interval.name(), sel.from, sel.to], |r| {
                    let state: TaskState = r.get(1)?;
                    let reason = crate::life::reason(state, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, now);
                    Ok((r.get::<_, NaiveDate>(0)?, DayTask { state, reason }))
                })?
                .peekable();
            let mut stored = match series {
                Some(series) => Some(candles.query_map(params![series, first, last], |r| r.get::<_, i64>(0))?),
                None => None,
            };
            let mut next_minute: Option<i64> = None;
            for day in sel.from.iter_days().take_while(|d| *d <= sel.to) {
                minutes.clear();
                if let Some(rows) = stored.as_mut() {
                    loop {
                        let minute = match next_minute.take() {
                            Some(m) => m,
                            None => match rows.next() {
                                Some(m) => m?,
                                None => break,
                            },
                        };
                        if day_of_minute(minute) > day {
                            next_minute = Some(minute);
                            break;
                        }
                        minutes.push(minute);
                    }
                }
                let mut task = None;
                while let Some(next) = held.peek() {
                    let at = match next {
                        Ok((d, _)) => *d,
                        Err(_) => {
                            held.next().transpose()?;
                            continue;
                        }
                    };
                    if at > day {
                        break;
                    }
                    if let Some((d, t)) = held.next().transpose()? {
                        task = task.or(Some(t).filter(|_| d == day));
                    }
                }
                each(CandleDay { pair: p, day, task, minutes: &minutes })?;
            }
        }
        Ok(())
    }
}

/// The id of a pair's series at `interval`, if it has one.
fn series_of(tx: &Transaction<'_>, p: &Pair, interval: Interval) -> Result<Option<i64>> {
    let mut stmt =
        tx.prepare_cached(r#"SELECT id FROM series WHERE exchange = ?1 AND symbol = ?2 AND "interval" = ?3"#)?;
    Ok(stmt.query_row(params![p.exchange, p.symbol, interval.name()], |r| r.get(0)).optional()?)
}
