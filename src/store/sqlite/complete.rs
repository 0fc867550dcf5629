//! Completions on SQLite: each claimed task moved as its transition says,
//! with its price, in one transaction, and only for the claim that is
//! still current.

use anyhow::{Context, Result};
use const_format::formatcp;
use rusqlite::params;

use super::counts::Counted;
use super::Db;
use crate::store::state::sql::IN_PROGRESS;
use crate::store::state::{PriceChange, Transition};
use crate::store::{iso_now, Task, TaskState};

impl Db {
    pub fn complete(&self, done: &[(&Task, Transition<'_>)]) -> Result<Vec<bool>> {
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        let now = iso_now();
        let mut applied = Vec::with_capacity(done.len());
        {
            // Only the claim that is current (the fencing token) moves the task.
            const SETTLE: &str = formatcp!(
                "UPDATE tasks SET state = ?3, attempts = attempts + ?4,
                        last_error = CASE WHEN ?5 THEN ?6 ELSE coalesce(?6, last_error) END,
                        next_attempt_at = coalesce(?7, next_attempt_at),
                        finished_at = CASE WHEN ?5 THEN ?8 ELSE finished_at END,
                        failure = coalesce(?9, failure), rounds = rounds + ?10,
                        owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = {IN_PROGRESS}
                 RETURNING exchange, symbol, source"
            );
            const PRICE: &str = "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (exchange, symbol, day) DO UPDATE SET
                    open = excluded.open, high = excluded.high, low = excluded.low,
                    close = excluded.close, volume = excluded.volume, fetched_at = excluded.fetched_at";
            const UNPRICE: &str = "DELETE FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3";
            for (t, to) in done {
                let due = to.due.next_attempt_at(|at| at);
                let failure = to.failure();
                let args = params![
                    t.id,
                    t.token,
                    to.to,
                    i64::from(to.attempt),
                    to.finishes(),
                    to.error,
                    due,
                    now,
                    failure,
                    i64::from(to.next_round)
                ];
                if tx.update(SETTLE, args, TaskState::InProgress, to.to)? == 0 {
                    // Fenced off: another claim owns the task now; nothing of this one is written.
                    applied.push(false);
                    continue;
                }
                match to.price {
                    PriceChange::Keep => {}
                    PriceChange::Store(p) => {
                        tx.tx().prepare_cached(PRICE)?.execute(params![
                            t.exchange, t.symbol, t.day, p.open, p.high, p.low, p.close, p.volume, now
                        ])?;
                    }
                    PriceChange::Candles(_) => anyhow::bail!("candles below a day are not stored yet"),
                    PriceChange::Delete => {
                        tx.tx().prepare_cached(UNPRICE)?.execute(params![t.exchange, t.symbol, t.day])?;
                    }
                }
                applied.push(true);
            }
        }
        tx.commit().context("committing finished tasks")?;
        Ok(applied)
    }
}
