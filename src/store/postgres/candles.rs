//! Reads of candles below a day on PostgreSQL (`store/candles.rs` says
//! what each does): a pair's series found once, then its minutes streamed
//! by the primary key of `series_candles`, in order, in one read-only
//! snapshot.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use r2d2_postgres::postgres::fallible_iterator::FallibleIterator;
use r2d2_postgres::postgres::types::ToSql;
use r2d2_postgres::postgres::{IsolationLevel, Transaction};

use super::{describe, Db};
use crate::interval::Interval;
use crate::price::{Candle, Price};
use crate::selection::{Pair, Selection};
use crate::store::candles::{day_of_minute, minute_range, CandleDay, DayTask};
use crate::store::TaskState;

impl Db {
    pub fn interval_pairs(&self, interval: Interval) -> Result<Vec<(Pair, Vec<String>)>> {
        self.with(|c| {
            let rows = c.query(
                r#"SELECT e, s,
                          (SELECT source FROM tasks WHERE exchange = e AND symbol = s AND "interval" = $1
                           ORDER BY day LIMIT 1),
                          (SELECT source FROM tasks WHERE exchange = e AND symbol = s AND "interval" = $1
                           ORDER BY day DESC LIMIT 1)
                   FROM (SELECT exchange AS e, symbol AS s FROM series WHERE "interval" = $1
                         UNION SELECT exchange, symbol FROM task_counts WHERE "interval" = $1 AND n <> 0) p
                   ORDER BY e, s"#,
                &[&interval.name()],
            )?;
            Ok(rows
                .iter()
                .map(|r| {
                    let mut sources: Vec<String> =
                        r.get::<_, Option<String>>(2).into_iter().chain(r.get::<_, Option<String>>(3)).collect();
                    sources.dedup();
                    (Pair::new(r.get::<_, String>(0), r.get::<_, String>(1)), sources)
                })
                .collect())
        })
    }

    pub fn interval_day_bounds(&self, pairs: &[Pair], interval: Interval) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let (exchanges, symbols): (Vec<&str>, Vec<&str>) =
            pairs.iter().map(|p| (p.exchange.as_str(), p.symbol.as_str())).unzip();
        let row = self.with(|c| {
            c.query_one(
                r#"WITH p AS (SELECT * FROM unnest($1::text[], $2::text[]) AS p(e, s))
                   SELECT min(lo), max(hi) FROM (
                       SELECT (SELECT min(day) FROM tasks WHERE exchange = e AND symbol = s AND "interval" = $3) AS lo,
                              (SELECT max(day) FROM tasks WHERE exchange = e AND symbol = s AND "interval" = $3) AS hi
                       FROM p
                       UNION ALL
                       SELECT to_timestamp(min(c.minute)::bigint * 60)::date, to_timestamp(max(c.minute)::bigint * 60)::date
                       FROM p JOIN series ON exchange = e AND symbol = s AND "interval" = $3
                       JOIN series_candles c ON c.series = series.id) b"#,
                &[&exchanges, &symbols, &interval.name()],
            )
        })?;
        let (lo, hi): (Option<NaiveDate>, Option<NaiveDate>) = (row.get(0), row.get(1));
        Ok(lo.zip(hi))
    }

    pub fn for_each_candle(&self, sel: &Selection, mut each: impl FnMut(&Pair, Candle) -> Result<()>) -> Result<()> {
        let (first, last) = minute_range(sel);
        let (first, last) = (minute_param(first)?, minute_param(last)?);
        self.snapshot(|tx| {
            for p in &sel.pairs {
                let Some(series) = series_of(tx, p, sel.interval)? else { continue };
                let params: [&(dyn ToSql + Sync); 3] = [&series, &first, &last];
                let mut rows = tx
                    .query_raw(
                        "SELECT minute, open, high, low, close, volume FROM series_candles
                         WHERE series = $1 AND minute BETWEEN $2 AND $3 ORDER BY minute",
                        params,
                    )
                    .map_err(|e| describe(e, ""))?;
                while let Some(r) = rows.next().map_err(|e| describe(e, ""))? {
                    let price =
                        Price { open: r.get(1), high: r.get(2), low: r.get(3), close: r.get(4), volume: r.get(5) };
                    each(p, Candle { minute: i64::from(r.get::<_, i32>(0)), price })?;
                }
            }
            Ok(())
        })
    }

    // A pair at a time: its tasks read whole (a row a day), then its
    // candles' minutes streamed beside its days.
    pub fn for_each_candle_day(
        &self,
        sel: &Selection,
        mut each: impl FnMut(CandleDay<'_>) -> Result<()>,
    ) -> Result<()> {
        let (first, last) = minute_range(sel);
        let (first, last) = (minute_param(first)?, minute_param(last)?);
        let now = crate::clock::now_ms();
        self.snapshot(|tx| {
            let mut minutes: Vec<i64> = Vec::with_capacity(sel.interval.per_day() as usize);
            for p in &sel.pairs {
                let tasks = tx
                    .query(
                        r#"SELECT day, state, attempts, last_error, next_attempt_at, rounds FROM tasks
                           WHERE exchange = $1 AND symbol = $2 AND "interval" = $3 AND day BETWEEN $4 AND $5
                           ORDER BY day"#,
                        &[&p.exchange, &p.symbol, &sel.interval.name(), &sel.from, &sel.to],
                    )
                    .map_err(|e| describe(e, ""))?;
                let mut tasks = tasks.iter().peekable();
                let series = series_of(tx, p, sel.interval)?;
                let mut stored = match series {
                    Some(series) => {
                        let params: [&(dyn ToSql + Sync); 3] = [&series, &first, &last];
                        Some(
                            tx.query_raw(
                                "SELECT minute FROM series_candles WHERE series = $1 AND minute BETWEEN $2 AND $3
                                 ORDER BY minute",
                                params,
                            )
                            .map_err(|e| describe(e, ""))?,
                        )
                    }
                    None => None,
                };
                let mut next_minute: Option<i64> = None;
                // A stream read to its end is not asked again: the server
                // has closed its portal.
                let mut ended = stored.is_none();
                for day in sel.from.iter_days().take_while(|d| *d <= sel.to) {
                    minutes.clear();
                    if let Some(rows) = stored.as_mut() {
                        loop {
                            let minute = match next_minute.take() {
                                Some(m) => m,
                                None if ended => break,
                                None => match rows.next().map_err(|e| describe(e, ""))? {
                                    Some(r) => i64::from(r.get::<_, i32>(0)),
                                    None => {
                                        ended = true;
                                        break;
                                    }
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
                    while let Some(r) = tasks.next_if(|r| r.get::<_, NaiveDate>(0) <= day) {
                        if r.get::<_, NaiveDate>(0) == day {
                            let state: TaskState = r.try_get(1).map_err(|e| describe(e, ""))?;
                            let attempts = r.get::<_, i32>(2) as u32;
                            let at = self.local_time(r.get(4));
                            let rounds = r.get::<_, i32>(5) as u32;
                            let reason = crate::life::reason(state, attempts, r.get(3), at, rounds, now);
                            task = Some(DayTask { state, reason });
                        }
                    }
                    each(CandleDay { pair: p, day, task, minutes: &minutes })?;
                }
            }
            Ok(())
        })
    }

    /// Runs `op` in one read-only, repeatable-read transaction. Not run
    /// again on a lost connection: rows already passed on would be passed
    /// twice.
    fn snapshot(&self, op: impl FnOnce(&mut Transaction<'_>) -> Result<()>) -> Result<()> {
        let mut client = self.pool.get().context("connecting to PostgreSQL")?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| describe(e, ""))?;
        op(&mut tx)?;
        tx.commit().map_err(|e| describe(e, ""))
    }
}

/// A Unix minute as `series_candles.minute` holds it (int4: good to the
/// year 6053).
fn minute_param(minute: i64) -> Result<i32> {
    i32::try_from(minute).with_context(|| format!("the minute {minute} is past what the candles table holds"))
}

/// The id of a pair's series at `interval`, if it has one.
fn series_of(tx: &mut Transaction<'_>, p: &Pair, interval: Interval) -> Result<Option<i32>> {
    let row = tx
        .query_opt(
            r#"SELECT id FROM series WHERE exchange = $1 AND symbol = $2 AND "interval" = $3"#,
            &[&p.exchange, &p.symbol, &interval.name()],
        )
        .map_err(|e| describe(e, ""))?;
    Ok(row.map(|r| r.get(0)))
}
