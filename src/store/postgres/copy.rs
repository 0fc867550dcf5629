//! `copy` on PostgreSQL: reading tasks and prices a chunk at a time in key
//! order, and importing chunks as arrays (new rows added, existing ones
//! replaced by more finished or newer ones); the counts follow by
//! trigger.

use anyhow::{Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use r2d2_postgres::postgres::types::ToSql;

use super::counts::analyze_if_grown;
use super::Db;
use crate::price::{Price, PriceRow};
use crate::store::copy::{key_params, Imported, Key, TaskRecord};
use crate::store::state::sql::FINISHED;
use crate::store::{iso, TaskState};

/// An ISO 8601 time as stored in SQLite, or an error naming the row.
fn time(text: &str, row: &impl std::fmt::Debug) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .with_context(|| format!("{text:?} is not an ISO 8601 time (in {row:?}); fix it in the source and copy again"))
}

impl Db {
    pub fn tasks_after(&self, after: Option<&Key>, limit: usize) -> Result<Vec<TaskRecord>> {
        let (e, s, i, d) = key_params(after);
        self.with(|c| {
            let rows = c.query(
                "SELECT exchange, symbol, day, state, attempts, last_error, next_attempt_at, enqueued_at, finished_at,
                        source, failure, rounds, interval
                 FROM tasks WHERE $3::date IS NULL OR (exchange, symbol, interval, day) > ($1, $2, $5, $3)
                 ORDER BY exchange, symbol, interval, day LIMIT $4",
                &[&e, &s, &d, &(limit as i64), &i],
            )?;
            Ok(rows
                .iter()
                .map(|r| TaskRecord {
                    exchange: r.get(0),
                    symbol: r.get(1),
                    day: r.get(2),
                    state: r.get::<_, TaskState>(3).arriving(),
                    attempts: r.get::<_, i32>(4) as u32,
                    last_error: r.get(5),
                    next_attempt_at: r.get(6),
                    enqueued_at: iso(r.get(7)),
                    finished_at: r.get::<_, Option<DateTime<Utc>>>(8).map(iso),
                    source: r.get(9),
                    failure: r.get(10),
                    rounds: r.get::<_, i32>(11) as u32,
                    interval: r.get(12),
                })
                .collect())
        })
    }

    pub fn prices_after(&self, after: Option<&Key>, limit: usize) -> Result<Vec<PriceRow>> {
        let (e, s, _, d) = key_params(after);
        self.with(|c| {
            let rows = c.query(
                "SELECT exchange, symbol, day, open, high, low, close, volume, fetched_at
                 FROM prices WHERE $3::date IS NULL OR (exchange, symbol, day) > ($1, $2, $3)
                 ORDER BY exchange, symbol, day LIMIT $4",
                &[&e, &s, &d, &(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| PriceRow {
                    exchange: r.get(0),
                    symbol: r.get(1),
                    day: r.get(2),
                    price: Price { open: r.get(3), high: r.get(4), low: r.get(5), close: r.get(6), volume: r.get(7) },
                    fetched_at: iso(r.get(8)),
                })
                .collect())
        })
    }

    pub fn import_tasks(&self, tasks: &[TaskRecord]) -> Result<Imported> {
        let exchanges: Vec<&str> = tasks.iter().map(|t| t.exchange.as_str()).collect();
        let symbols: Vec<&str> = tasks.iter().map(|t| t.symbol.as_str()).collect();
        let days: Vec<NaiveDate> = tasks.iter().map(|t| t.day).collect();
        let states: Vec<&str> = tasks.iter().map(|t| t.state.name()).collect();
        let attempts: Vec<i32> = tasks.iter().map(|t| t.attempts.min(i32::MAX as u32) as i32).collect();
        let errors: Vec<Option<&str>> = tasks.iter().map(|t| t.last_error.as_deref()).collect();
        let at: Vec<i64> = tasks.iter().map(|t| t.next_attempt_at).collect();
        let enqueued: Vec<DateTime<Utc>> = tasks.iter().map(|t| time(&t.enqueued_at, t)).collect::<Result<_>>()?;
        let finished: Vec<Option<DateTime<Utc>>> =
            tasks.iter().map(|t| t.finished_at.as_deref().map(|f| time(f, t)).transpose()).collect::<Result<_>>()?;
        let sources: Vec<&str> = tasks.iter().map(|t| t.source.as_str()).collect();
        let failures: Vec<Option<&str>> = tasks.iter().map(|t| t.failure.as_deref()).collect();
        let rounds: Vec<i32> = tasks.iter().map(|t| t.rounds.min(i32::MAX as u32) as i32).collect();
        let intervals: Vec<&str> = tasks.iter().map(|t| t.interval.name()).collect();
        let params: [&(dyn ToSql + Sync); 13] = [
            &exchanges, &symbols, &days, &states, &attempts, &errors, &at, &enqueued, &finished, &sources, &failures,
            &rounds, &intervals,
        ];
        const SOURCE: &str = "SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::int[],
                 $6::text[], $7::bigint[], $8::timestamptz[], $9::timestamptz[], $10::text[], $11::text[], $12::int[],
                 $13::text[])
                 AS c(e, s, d, state, attempts, error, at, enqueued, finished, source, failure, rounds, interval)";
        let imported = self.with(|c| {
            let mut tx = c.transaction()?;
            let updated = tx.execute(
                &format!(
                    "UPDATE tasks SET state = c.state, attempts = c.attempts, last_error = c.error,
                            next_attempt_at = c.at, finished_at = c.finished, owner = NULL, lease_until = NULL,
                            source = c.source, failure = c.failure, rounds = c.rounds
                     FROM ({SOURCE}) AS c
                     WHERE tasks.exchange = c.e AND tasks.symbol = c.s AND tasks.interval = c.interval
                       AND tasks.day = c.d
                       AND c.state IN {FINISHED}
                       AND (tasks.state NOT IN {FINISHED} OR tasks.finished_at IS NULL OR c.finished > tasks.finished_at)"
                ),
                &params,
            )?;
            let added = tx.execute(
                &format!(
                    "INSERT INTO tasks (exchange, symbol, day, state, attempts, last_error, next_attempt_at,
                                        enqueued_at, finished_at, source, failure, rounds, interval)
                     SELECT e, s, d, state, attempts, error, at, enqueued, finished, source, failure, rounds, interval
                     FROM ({SOURCE}) AS c
                     ORDER BY e COLLATE \"C\", s COLLATE \"C\", interval COLLATE \"C\", d
                     ON CONFLICT (exchange, symbol, interval, day) DO NOTHING"
                ),
                &params,
            )?;
            tx.commit()?;
            Ok(Imported { added, updated })
        })?;
        self.with(|c| analyze_if_grown(&mut **c, imported.added))?;
        Ok(imported)
    }

    pub fn import_prices(&self, prices: &[PriceRow]) -> Result<Imported> {
        let exchanges: Vec<&str> = prices.iter().map(|p| p.exchange.as_str()).collect();
        let symbols: Vec<&str> = prices.iter().map(|p| p.symbol.as_str()).collect();
        let days: Vec<NaiveDate> = prices.iter().map(|p| p.day).collect();
        let column = |f: fn(&Price) -> f64| prices.iter().map(|p| f(&p.price)).collect::<Vec<f64>>();
        let (open, high, low) = (column(|p| p.open), column(|p| p.high), column(|p| p.low));
        let (close, volume) = (column(|p| p.close), column(|p| p.volume));
        let fetched: Vec<DateTime<Utc>> =
            prices.iter().map(|p| time(&p.fetched_at, &(&p.exchange, &p.symbol, p.day))).collect::<Result<_>>()?;
        let params: [&(dyn ToSql + Sync); 9] =
            [&exchanges, &symbols, &days, &open, &high, &low, &close, &volume, &fetched];
        const SOURCE: &str = "SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::float8[], $5::float8[],
                 $6::float8[], $7::float8[], $8::float8[], $9::timestamptz[]) AS n(e, s, d, o, h, l, c, v, f)";
        self.with(|c| {
            let mut tx = c.transaction()?;
            let updated = tx.execute(
                &format!(
                    "UPDATE prices SET open = n.o, high = n.h, low = n.l, close = n.c, volume = n.v, fetched_at = n.f
                     FROM ({SOURCE}) AS n
                     WHERE prices.exchange = n.e AND prices.symbol = n.s AND prices.day = n.d
                       AND n.f > prices.fetched_at"
                ),
                &params,
            )?;
            let added = tx.execute(
                &format!(
                    "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                     SELECT * FROM ({SOURCE}) AS n ORDER BY e COLLATE \"C\", s COLLATE \"C\", d
                     ON CONFLICT (exchange, symbol, day) DO NOTHING"
                ),
                &params,
            )?;
            tx.commit()?;
            Ok(Imported { added, updated })
        })
    }
}
