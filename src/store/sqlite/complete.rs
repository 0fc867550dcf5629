//! Completing claimed tasks: each task's new state and its price, written
//! together, and only for the claim that is still current.

use anyhow::{Context, Result};
use rusqlite::{params, CachedStatement, Transaction, TransactionBehavior};

use super::counts::Counts;
use super::Db;
use crate::store::{iso_now, Completion, Outcome};

impl Db {
    /// Writes back finished tasks in one transaction: each task's new state
    /// and its price commit together. A completion whose claim is no longer
    /// current (its lease expired and another worker took the task) is
    /// ignored; returns, for each completion, whether it was applied.
    pub fn complete(&self, done: &[Completion]) -> Result<Vec<bool>> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = iso_now();
        let mut counts = Counts::default();
        let mut applied = Vec::with_capacity(done.len());
        {
            let mut write = Writes::prepare(&tx)?;
            for c in done {
                // Fenced off: another claim owns the task now; nothing of this one is written.
                let Some(state) = write.settle_task(c, &now)? else {
                    applied.push(false);
                    continue;
                };
                counts.moved(&c.task.exchange, &c.task.symbol, "in_progress", state);
                write.store_answer(c, &now)?;
                applied.push(true);
            }
        }
        counts.write(&tx)?;
        tx.commit().context("committing finished tasks")?;
        Ok(applied)
    }
}

/// The statements a batch of completions runs, prepared once per batch.
struct Writes<'t> {
    finish: CachedStatement<'t>,
    requeue: CachedStatement<'t>,
    later: CachedStatement<'t>,
    price: CachedStatement<'t>,
    unprice: CachedStatement<'t>,
}

impl<'t> Writes<'t> {
    fn prepare(tx: &'t Transaction<'_>) -> Result<Writes<'t>> {
        Ok(Writes {
            finish: tx.prepare_cached(
                "UPDATE tasks SET state = ?3, attempts = attempts + 1, last_error = ?4,
                        finished_at = ?5, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = 'in_progress'",
            )?,
            // Back to the queue: after a failed attempt (?5 = 1), or not
            // counted: deferred by Retry-After, or released unstarted.
            requeue: tx.prepare_cached(
                "UPDATE tasks SET state = 'queued', attempts = attempts + ?5, last_error = coalesce(?3, last_error),
                        next_attempt_at = ?4, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = 'in_progress'",
            )?,
            // Not due yet: wait as not_yet_due, counting the request if one was made.
            later: tx.prepare_cached(
                "UPDATE tasks SET state = 'not_yet_due', attempts = attempts + ?5, last_error = coalesce(?3, last_error),
                        next_attempt_at = ?4, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = 'in_progress'",
            )?,
            price: tx.prepare_cached(
                "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (exchange, symbol, day) DO UPDATE SET
                    open = excluded.open, high = excluded.high, low = excluded.low,
                    close = excluded.close, volume = excluded.volume, fetched_at = excluded.fetched_at",
            )?,
            // A refreshed day the server no longer prices: the old price goes.
            unprice: tx.prepare_cached("DELETE FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3")?,
        })
    }

    /// Moves a claimed task to the state its outcome calls for, if its
    /// claim is still the current one (the fencing token); returns that
    /// state, or `None` when the claim was fenced off.
    fn settle_task(&mut self, c: &Completion, now: &str) -> Result<Option<&'static str>> {
        let (id, token) = (c.task.id, c.task.token);
        let no_error = None::<&str>;
        let (state, changed) = match &c.outcome {
            Outcome::Price(_) => ("done", self.finish.execute(params![id, token, "done", no_error, now])?),
            Outcome::NoData => ("no_data", self.finish.execute(params![id, token, "no_data", no_error, now])?),
            Outcome::Failed { error } => ("failed", self.finish.execute(params![id, token, "failed", error, now])?),
            Outcome::NotYet { note, at, asked } => {
                ("not_yet_due", self.later.execute(params![id, token, note, at, i64::from(*asked)])?)
            }
            Outcome::Retry { error, at } => ("queued", self.requeue.execute(params![id, token, error, at, 1])?),
            Outcome::Defer { error, at } => ("queued", self.requeue.execute(params![id, token, error, at, 0])?),
            Outcome::Released => ("queued", self.requeue.execute(params![id, token, no_error, 0, 0])?),
        };
        Ok((changed > 0).then_some(state))
    }

    /// Writes what an answer says of the price: stored (or replacing an
    /// older one), or, for a refreshed day the server no longer prices, the
    /// old one deleted. Other outcomes leave the prices alone.
    fn store_answer(&mut self, c: &Completion, now: &str) -> Result<()> {
        let t = &c.task;
        match &c.outcome {
            Outcome::Price(p) => {
                self.price
                    .execute(params![t.exchange, t.symbol, t.day, p.open, p.high, p.low, p.close, p.volume, now])?;
            }
            Outcome::NoData => {
                self.unprice.execute(params![t.exchange, t.symbol, t.day])?;
            }
            _ => {}
        }
        Ok(())
    }
}
