//! Completions on PostgreSQL: a batch of claimed tasks moved as their
//! transitions say, with their prices, in one statement (and their days'
//! candles below a day, in the same transaction), each only for the claim
//! that is still current.

use std::collections::HashSet;

use anyhow::Result;
use const_format::formatcp;
use r2d2_postgres::postgres::types::ToSql;

use super::series::{self as pg_series, DayWrite};
use super::Db;
use crate::store::series;
use crate::store::state::sql::IN_PROGRESS;
use crate::store::state::{PriceChange, Transition};
use crate::store::Task;

/// Moves each task whose claim is still current (the fencing token) to its
/// new state, with its price stored (or, for a refreshed day the server no
/// longer prices, the old one deleted; the counts follow by trigger); the
/// rest are left as they are. A task given twice takes the first of its
/// completions that carries its current claim, as one after the other
/// would. Returns the positions (from 1) of the completions applied.
const SETTLE: &str = formatcp!(
    "WITH i AS (
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[],
                              $6::bigint[], $7::bool[], $8::float8[], $9::float8[], $10::float8[],
                              $11::float8[], $12::float8[], $13::int[], $14::text[], $15::int[]) WITH ORDINALITY
             AS i(id, token, state, counted, error, at, finished, o, h, l, c, v, price, failure,
                  round, ord)),
     current AS (
         SELECT DISTINCT ON (i.id) i.* FROM i
         JOIN tasks t ON t.id = i.id AND t.claims = i.token AND t.state = {IN_PROGRESS}
         ORDER BY i.id, i.ord),
     applied AS (
         UPDATE tasks t SET state = i.state, attempts = t.attempts + i.counted,
                last_error = CASE WHEN i.finished THEN i.error ELSE coalesce(i.error, t.last_error) END,
                next_attempt_at = coalesce(i.at, t.next_attempt_at),
                finished_at = CASE WHEN i.finished THEN date_trunc('milliseconds', now())
                                   ELSE t.finished_at END,
                failure = coalesce(i.failure, t.failure), rounds = t.rounds + i.round,
                owner = NULL, lease_until = NULL
         FROM current i WHERE t.id = i.id AND t.claims = i.token AND t.state = {IN_PROGRESS}
         RETURNING i.ord, t.exchange, t.symbol, t.day, i.state, i.o, i.h, i.l, i.c, i.v, i.price),
     priced AS (
         INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
         SELECT exchange, symbol, day, o, h, l, c, v, date_trunc('milliseconds', now())
         FROM applied WHERE price = 1 ORDER BY exchange, symbol, day
         ON CONFLICT (exchange, symbol, day) DO UPDATE SET
            open = excluded.open, high = excluded.high, low = excluded.low,
            close = excluded.close, volume = excluded.volume, fetched_at = excluded.fetched_at),
     unpriced AS (
         DELETE FROM prices p USING applied s
         WHERE s.price = -1 AND p.exchange = s.exchange AND p.symbol = s.symbol AND p.day = s.day)
     SELECT ord FROM applied"
);

impl Db {
    pub fn complete(&self, done: &[(&Task, Transition<'_>)]) -> Result<Vec<bool>> {
        let mut writes = Vec::with_capacity(done.len());
        for (t, to) in done {
            writes.push(series::write_of(t, to)?.map(|w| DayWrite::of(t, w)).transpose()?);
        }
        let batch = Batch::of(done, |t| self.db_time(t));
        let applied: HashSet<i64> = if writes.iter().all(Option::is_none) {
            // One statement, so no transaction around it.
            self.with(|c| Ok(c.rows(SETTLE, &batch.params())?.iter().map(|r| r.get(0)).collect()))?
        } else {
            // Days with candles: their series found or made first (each
            // committed at once), then the tasks and the candles of those
            // whose claim is current in one transaction.
            self.with(|c| {
                let mut ids = Vec::with_capacity(writes.len());
                for w in &writes {
                    ids.push(match w {
                        Some(w) => Some(pg_series::series_id(c, &self.series, w.key())?),
                        None => None,
                    });
                }
                let settle = c.prepared(SETTLE)?;
                let statements = pg_series::prepare(c)?;
                let mut tx = c.transaction()?;
                let applied = tx.query(&settle, &batch.params())?.iter().map(|r| r.get(0)).collect();
                pg_series::write(&mut tx, &statements, &writes, &ids, &applied)?;
                tx.commit()?;
                Ok(applied)
            })?
        };
        Ok((1..=done.len() as i64).map(|ord| applied.contains(&ord)).collect())
    }
}

/// A batch of completions as column arrays, one element per completion.
struct Batch {
    ids: Vec<i64>,
    tokens: Vec<i64>,
    states: Vec<&'static str>,
    /// 1 where the outcome counts as an attempt.
    counted: Vec<i32>,
    errors: Vec<Option<String>>,
    /// The new `next_attempt_at`, or `None` to keep it.
    at: Vec<Option<i64>>,
    /// Whether the task is finished (its error replaces the last one, and
    /// `finished_at` is set).
    finished: Vec<bool>,
    /// Open, high, low, close and volume of a price (zeros for others).
    prices: [Vec<f64>; 5],
    /// 1 where the price is stored, -1 where it is deleted, 0 where kept.
    price_changes: Vec<i32>,
    /// The kind of failure of a task that failed, `None` to keep it.
    failures: Vec<Option<&'static str>>,
    /// 1 where a round of attempts ended in a cool-down.
    rounds: Vec<i32>,
}

impl Batch {
    /// `db_time` puts a time on the database server's clock.
    fn of(done: &[(&Task, Transition<'_>)], db_time: impl Fn(i64) -> i64) -> Batch {
        let mut b = Batch {
            ids: vec![],
            tokens: vec![],
            states: vec![],
            counted: vec![],
            errors: vec![],
            at: vec![],
            finished: vec![],
            prices: Default::default(),
            price_changes: vec![],
            failures: vec![],
            rounds: vec![],
        };
        for (task, to) in done {
            b.ids.push(task.id);
            b.tokens.push(task.token);
            b.states.push(to.to.name());
            b.counted.push(i32::from(to.attempt));
            b.errors.push(to.error.map(str::to_string));
            b.at.push(to.due.next_attempt_at(&db_time));
            b.finished.push(to.finishes());
            b.failures.push(to.failure());
            b.rounds.push(i32::from(to.next_round));
            // A day's price only: below a day, the candles are written apart.
            let (price, change) = match to.price {
                PriceChange::Store(p) if task.interval.is_day() => ([p.open, p.high, p.low, p.close, p.volume], 1),
                PriceChange::Delete if task.interval.is_day() => ([0.0; 5], -1),
                _ => ([0.0; 5], 0),
            };
            b.price_changes.push(change);
            for (column, v) in b.prices.iter_mut().zip(price) {
                column.push(v);
            }
        }
        b
    }

    /// The arrays as [`SETTLE`]'s parameters.
    fn params(&self) -> [&(dyn ToSql + Sync); 15] {
        [
            &self.ids,
            &self.tokens,
            &self.states,
            &self.counted,
            &self.errors,
            &self.at,
            &self.finished,
            &self.prices[0],
            &self.prices[1],
            &self.prices[2],
            &self.prices[3],
            &self.prices[4],
            &self.price_changes,
            &self.failures,
            &self.rounds,
        ]
    }
}
