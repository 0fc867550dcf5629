//! Completions on SQLite: each claimed task moved as its transition says,
//! with its price or its day's candles, in one transaction, and only for
//! the claim that is still current.

use anyhow::{Context, Result};
use const_format::formatcp;
use rusqlite::params;

use super::counts::{Counted, KEY};
use super::Db;
use crate::store::series;
use crate::store::state::sql::IN_PROGRESS;
use crate::store::state::{PriceChange, Transition};
use crate::store::{iso_now, Task, TaskState};

impl Db {
    pub fn complete(&self, done: &[(&Task, Transition<'_>)]) -> Result<Vec<bool>> {
        let mut conn = self.conn()?;
        // The series of the days with candles, each found or made (and
        // committed) before the completion's transaction: a new series'
        // id is then known to every process, whether or not this commits.
        let mut writes = Vec::with_capacity(done.len());
        for (t, to) in done {
            writes.push(match series::write_of(t, to)? {
                Some(w) => Some((self.series_id(&conn, &t.exchange, &t.symbol, t.interval)?, w)),
                None => None,
            });
        }
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
                 RETURNING {KEY}"
            );
            const PRICE: &str = "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (exchange, symbol, day) DO UPDATE SET
                    open = excluded.open, high = excluded.high, low = excluded.low,
                    close = excluded.close, volume = excluded.volume, fetched_at = excluded.fetched_at";
            const UNPRICE: &str = "DELETE FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3";
            for ((t, to), write) in done.iter().zip(&writes) {
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
                if let Some((id, write)) = write {
                    super::series::write(tx.tx(), *id, t.day, write)?;
                    applied.push(true);
                    continue;
                }
                match to.price {
                    PriceChange::Keep | PriceChange::Candles(_) => {}
                    PriceChange::Store(p) => {
                        tx.tx().prepare_cached(PRICE)?.execute(params![
                            t.exchange, t.symbol, t.day, p.open, p.high, p.low, p.close, p.volume, now
                        ])?;
                    }
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
