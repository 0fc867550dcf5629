//! `copy` on SQLite: reading tasks and prices a chunk at a time in key
//! order, and importing chunks (new rows added, existing ones replaced by
//! more finished or newer ones), the counts of the pairs touched redone.

use anyhow::Result;
use rusqlite::{params, TransactionBehavior};

use super::counts::Counted;
use super::Db;
use crate::price::{Price, PriceRow};
use crate::store::copy::{key_params, Imported, Key, TaskRecord};
use crate::store::state::sql::FINISHED;
use crate::store::TaskState;

impl Db {
    pub fn tasks_after(&self, after: Option<&Key>, limit: usize) -> Result<Vec<TaskRecord>> {
        let conn = self.conn()?;
        let (e, s, i, d) = key_params(after);
        let mut stmt = conn.prepare_cached(
            "SELECT exchange, symbol, day, state, attempts, last_error, next_attempt_at, enqueued_at, finished_at,
                    source, failure, rounds, interval
             FROM tasks WHERE ?3 IS NULL OR (exchange, symbol, interval, day) > (?1, ?2, ?5, ?3)
             ORDER BY exchange, symbol, interval, day LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![e, s, d, limit as i64, i], |r| {
            Ok(TaskRecord {
                exchange: r.get(0)?,
                symbol: r.get(1)?,
                day: r.get(2)?,
                state: r.get::<_, TaskState>(3)?.arriving(),
                attempts: r.get(4)?,
                last_error: r.get(5)?,
                next_attempt_at: r.get(6)?,
                enqueued_at: r.get(7)?,
                finished_at: r.get(8)?,
                source: r.get(9)?,
                failure: r.get(10)?,
                rounds: r.get(11)?,
                interval: r.get(12)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn prices_after(&self, after: Option<&Key>, limit: usize) -> Result<Vec<PriceRow>> {
        let conn = self.conn()?;
        let (e, s, _, d) = key_params(after);
        let mut stmt = conn.prepare_cached(
            "SELECT exchange, symbol, day, open, high, low, close, volume, fetched_at
             FROM prices WHERE ?3 IS NULL OR (exchange, symbol, day) > (?1, ?2, ?3)
             ORDER BY exchange, symbol, day LIMIT ?4",
        )?;
        let rows = stmt.query_map(params![e, s, d, limit as i64], |r| {
            Ok(PriceRow {
                exchange: r.get(0)?,
                symbol: r.get(1)?,
                day: r.get(2)?,
                price: Price { open: r.get(3)?, high: r.get(4)?, low: r.get(5)?, close: r.get(6)?, volume: r.get(7)? },
                fetched_at: r.get(8)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn import_tasks(&self, tasks: &[TaskRecord]) -> Result<Imported> {
        let rows: Vec<serde_json::Value> = tasks
            .iter()
            .map(|t| {
                serde_json::json!([
                    t.exchange,
                    t.symbol,
                    t.day.to_string(),
                    t.state.name(),
                    t.attempts,
                    t.last_error,
                    t.next_attempt_at,
                    t.enqueued_at,
                    t.finished_at,
                    t.source,
                    t.failure,
                    t.rounds,
                    t.interval.name()
                ])
            })
            .collect();
        let json = serde_json::to_string(&rows)?;
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        const SOURCE: &str = "SELECT value ->> 0 AS e, value ->> 1 AS s, value ->> 2 AS d, value ->> 3 AS state,
                    value ->> 4 AS attempts, value ->> 5 AS error, value ->> 6 AS at, value ->> 7 AS enqueued,
                    value ->> 8 AS finished, value ->> 9 AS source, value ->> 10 AS failure,
                    value ->> 11 AS rounds, value ->> 12 AS interval FROM json_each(?1)";
        // Existing rows first, so a row added now is not counted as updated
        // too. The rows arrive in any state: the pairs touched are counted
        // again.
        let pairs = "SELECT DISTINCT value ->> 0, value ->> 1 FROM json_each(?1)";
        let updated = tx.any_change(
            &format!(
                "UPDATE tasks SET state = c.state, attempts = c.attempts, last_error = c.error,
                        next_attempt_at = c.at, finished_at = c.finished, owner = NULL, lease_until = NULL,
                        source = c.source, failure = c.failure, rounds = c.rounds
                 FROM ({SOURCE}) AS c
                 WHERE tasks.exchange = c.e AND tasks.symbol = c.s AND tasks.interval = c.interval AND tasks.day = c.d
                   AND c.state IN {FINISHED}
                   AND (tasks.state NOT IN {FINISHED} OR c.finished > coalesce(tasks.finished_at, ''))"
            ),
            pairs,
            params![json],
        )?;
        let added = tx.any_change(
            &format!(
                "INSERT INTO tasks (exchange, symbol, day, state, attempts, last_error, next_attempt_at,
                                    enqueued_at, finished_at, source, failure, rounds, interval)
                 SELECT e, s, d, state, attempts, error, at, enqueued, finished, source, failure, rounds, interval
                 FROM ({SOURCE}) WHERE true
                 ON CONFLICT (exchange, symbol, interval, day) DO NOTHING"
            ),
            pairs,
            params![json],
        )?;
        tx.commit()?;
        Ok(Imported { added: added as u64, updated: updated as u64 })
    }

    pub fn import_prices(&self, prices: &[PriceRow]) -> Result<Imported> {
        let rows: Vec<serde_json::Value> = prices
            .iter()
            .map(|p| {
                let v = &p.price;
                serde_json::json!([
                    p.exchange,
                    p.symbol,
                    p.day.to_string(),
                    v.open,
                    v.high,
                    v.low,
                    v.close,
                    v.volume,
                    p.fetched_at
                ])
            })
            .collect();
        let json = serde_json::to_string(&rows)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        const SOURCE: &str = "SELECT value ->> 0 AS e, value ->> 1 AS s, value ->> 2 AS d, value ->> 3 AS o,
                    value ->> 4 AS h, value ->> 5 AS l, value ->> 6 AS c, value ->> 7 AS v, value ->> 8 AS f
                    FROM json_each(?1)";
        let updated = tx.execute(
            &format!(
                "UPDATE prices SET open = n.o, high = n.h, low = n.l, close = n.c, volume = n.v, fetched_at = n.f
                 FROM ({SOURCE}) AS n
                 WHERE prices.exchange = n.e AND prices.symbol = n.s AND prices.day = n.d AND n.f > prices.fetched_at"
            ),
            params![json],
        )?;
        let added = tx.execute(
            &format!(
                "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                 SELECT e, s, d, o, h, l, c, v, f FROM ({SOURCE}) WHERE true
                 ON CONFLICT (exchange, symbol, day) DO NOTHING"
            ),
            params![json],
        )?;
        tx.commit()?;
        Ok(Imported { added: added as u64, updated: updated as u64 })
    }
}
