//! Claims and leases: taking due tasks for a worker, keeping them while it
//! works, and taking them back from workers that died; and the days that
//! come due.

use anyhow::Result;
use rusqlite::{params, TransactionBehavior};

use super::counts::{move_counted, Counts};
use super::Db;
use crate::store::Task;

impl Db {
    /// Claims up to `limit` tasks that are due at `now` for `owner`, leased
    /// until `lease_until`. Each claim bumps the task's fencing token.
    pub fn claim(&self, owner: &str, limit: usize, now: i64, lease_until: i64) -> Result<Vec<Task>> {
        let mut conn = self.conn()?;
        // IMMEDIATE: the SELECT inside must see the same snapshot the UPDATE
        // writes to, or two claimers could take the same rows.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let tasks = {
            let mut claim = tx.prepare_cached(
                // INDEXED BY: without statistics the planner may scan and
                // sort every queued row on every claim.
                "UPDATE tasks SET state = 'in_progress', owner = ?1, lease_until = ?2, claims = claims + 1
                 WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_due
                              WHERE state = 'queued' AND next_attempt_at <= ?3
                              ORDER BY next_attempt_at, id LIMIT ?4)
                 RETURNING id, exchange, symbol, day, attempts, claims",
            )?;
            let rows = claim.query_map(params![owner, lease_until, now, limit as i64], |r| {
                Ok(Task {
                    id: r.get(0)?,
                    exchange: r.get(1)?,
                    symbol: r.get(2)?,
                    day: r.get(3)?,
                    attempts: r.get(4)?,
                    token: r.get(5)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let mut counts = Counts::default();
        for t in &tasks {
            counts.moved(&t.exchange, &t.symbol, "queued", "in_progress");
        }
        counts.write(&tx)?;
        tx.commit()?;
        Ok(tasks)
    }

    /// Extends the lease of every task `owner` holds, while its fetches run.
    pub fn renew(&self, owner: &str, lease_until: i64) -> Result<usize> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached(
                "UPDATE tasks INDEXED BY tasks_leased SET lease_until = ?2 WHERE state = 'in_progress' AND owner = ?1",
            )?
            .execute(params![owner, lease_until])?;
        Ok(n)
    }

    /// Puts back in the queue the tasks whose lease ran out before `now`
    /// (their worker died or hung); returns how many.
    pub fn recover_expired(&self, now: i64) -> Result<usize> {
        self.requeue_where("lease_until < ?1", params![now])
    }

    /// The owners of tasks in progress, each with how many it holds.
    pub fn owners(&self) -> Result<Vec<(String, u64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT owner, count(*) FROM tasks INDEXED BY tasks_leased
             WHERE state = 'in_progress' AND owner IS NOT NULL GROUP BY owner",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Puts every task `owner` holds back in the queue, as if never
    /// claimed (its process is gone); returns how many.
    pub fn release_owner(&self, owner: &str) -> Result<usize> {
        self.requeue_where("owner = ?1", params![owner])
    }

    /// Moves tasks in progress that match `condition` back to the queue.
    fn requeue_where(&self, condition: &str, args: &[&dyn rusqlite::ToSql]) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = format!(
            "UPDATE tasks INDEXED BY tasks_leased SET state = 'queued', owner = NULL, lease_until = NULL
             WHERE state = 'in_progress' AND {condition} RETURNING exchange, symbol"
        );
        let n = move_counted(&tx, &sql, args, "in_progress", "queued")?;
        tx.commit()?;
        Ok(n)
    }

    /// Queues the `not_yet_due` tasks whose time has come by `now`; returns how many.
    pub fn promote_due(&self, now: i64) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = move_counted(
            &tx,
            "UPDATE tasks INDEXED BY tasks_not_yet_due SET state = 'queued'
             WHERE state = 'not_yet_due' AND next_attempt_at <= ?1 RETURNING exchange, symbol",
            params![now],
            "not_yet_due",
            "queued",
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// How many tasks are not yet due, and when the first of them comes due.
    pub fn not_yet_due(&self) -> Result<(u64, Option<i64>)> {
        let conn = self.conn()?;
        let (n, first): (i64, Option<i64>) = conn
            .prepare_cached(
                "SELECT count(*), min(next_attempt_at) FROM tasks INDEXED BY tasks_not_yet_due
                 WHERE state = 'not_yet_due'",
            )?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((n as u64, first))
    }

    /// When the queue next has work: `Some(t)` is the earliest time (ms) a
    /// queued task comes due, or a lease held by someone else runs out;
    /// `None` when nothing is queued or in progress.
    pub fn next_wakeup(&self) -> Result<Option<i64>> {
        let conn = self.conn()?;
        let due: Option<i64> = conn
            .prepare_cached("SELECT min(next_attempt_at) FROM tasks INDEXED BY tasks_due WHERE state = 'queued'")?
            .query_row([], |r| r.get(0))?;
        let lease: Option<i64> = conn
            .prepare_cached("SELECT min(lease_until) FROM tasks INDEXED BY tasks_leased WHERE state = 'in_progress'")?
            .query_row([], |r| r.get(0))?;
        Ok(match (due, lease) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        })
    }
}
