//! Claims and leases on SQLite: taking due tasks for a worker, keeping
//! them while it works, taking them back from workers that died; and the
//! days that come due.

use anyhow::Result;
use const_format::formatcp;
use rusqlite::params;

use super::counts::{Counted, KEY};
use super::Db;
use crate::selection::Selection;
use crate::store::state::sql::{COOLED, COOLING, IN_PROGRESS, NOT_YET_DUE, QUEUED};
use crate::store::{Task, TaskState};

/// The condition that keeps a task within a scope (`?2` to `?5`, as
/// [`scope`] gives them): any task when there is none.
const IN_SCOPE: &str = "(?2 IS NULL OR ((exchange, symbol) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?2))
                         AND interval = ?5 AND day BETWEEN ?3 AND ?4))";

/// A claim's tasks: queued, due by `?3`, of the sources `?5`, within the
/// scope `?6` to `?9` (as [`scope`] gives them) when there is one.
const DUE: &str = formatcp!(
    "state = {QUEUED} AND next_attempt_at <= ?3 AND source IN (SELECT value FROM json_each(?5))
     AND (?6 IS NULL OR ((exchange, symbol) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?6))
                         AND interval = ?9 AND day BETWEEN ?7 AND ?8))"
);

/// A scope as statement parameters: its pairs as one JSON array of
/// `[exchange, symbol]` (`None` for no scope), its first and last day,
/// its interval.
fn scope(within: Option<&Selection>) -> Result<(Option<String>, String, String, &'static str)> {
    Ok(match within {
        Some(sel) => {
            let pairs: Vec<[&str; 2]> = sel.pairs.iter().map(|p| [p.exchange.as_str(), p.symbol.as_str()]).collect();
            (Some(serde_json::to_string(&pairs)?), sel.from.to_string(), sel.to.to_string(), sel.interval.name())
        }
        None => (None, String::new(), String::new(), ""),
    })
}

impl Db {
    pub fn claim(
        &self,
        owner: &str,
        limit: usize,
        now: i64,
        lease_until: i64,
        sources: &[String],
        within: Option<&Selection>,
    ) -> Result<Vec<Task>> {
        let sources = serde_json::to_string(sources)?;
        let (pairs, from, to, interval) = scope(within)?;
        let mut conn = self.conn()?;
        // IMMEDIATE: the SELECT inside must see the same snapshot the UPDATE
        // writes to, or two claimers could take the same rows.
        let mut tx = Counted::begin(&mut conn)?;
        let tasks = tx.update_returning(
            formatcp!(
                // INDEXED BY: without statistics the planner may scan and
                // sort every queued row on every claim. One interval a
                // claim, the first due task's: a worker's batch is days of
                // one pair at one interval.
                "UPDATE tasks SET state = {IN_PROGRESS}, owner = ?1, lease_until = ?2, claims = claims + 1
                 WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_due
                              WHERE {DUE}
                                AND interval = (SELECT interval FROM tasks INDEXED BY tasks_due WHERE {DUE}
                                                ORDER BY next_attempt_at, id LIMIT 1)
                              ORDER BY next_attempt_at, id LIMIT ?4)
                 RETURNING id, exchange, symbol, day, attempts, claims, source, rounds, interval"
            ),
            params![owner, lease_until, now, limit as i64, sources, pairs, from, to, interval],
            TaskState::Queued,
            TaskState::InProgress,
            |r| {
                Ok(Task {
                    id: r.get(0)?,
                    exchange: r.get(1)?,
                    symbol: r.get(2)?,
                    day: r.get(3)?,
                    interval: r.get(8)?,
                    attempts: r.get(4)?,
                    token: r.get(5)?,
                    source: r.get(6)?,
                    rounds: r.get(7)?,
                })
            },
        )?;
        tx.commit()?;
        Ok(tasks)
    }

    pub fn renew(&self, owner: &str, lease_until: i64) -> Result<usize> {
        let conn = self.conn()?;
        let n = conn
            .prepare_cached(formatcp!(
                "UPDATE tasks INDEXED BY tasks_leased SET lease_until = ?2 WHERE state = {IN_PROGRESS} AND owner = ?1"
            ))?
            .execute(params![owner, lease_until])?;
        Ok(n)
    }

    pub fn recover_expired(&self, now: i64) -> Result<usize> {
        self.requeue_where("lease_until < ?1", params![now])
    }

    pub fn owners(&self) -> Result<Vec<(String, u64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(formatcp!(
            "SELECT owner, count(*) FROM tasks INDEXED BY tasks_leased
             WHERE state = {IN_PROGRESS} AND owner IS NOT NULL GROUP BY owner"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn release_owner(&self, owner: &str) -> Result<usize> {
        self.requeue_where("owner = ?1", params![owner])
    }

    /// Moves tasks in progress that match `condition` back to the queue.
    fn requeue_where(&self, condition: &str, args: &[&dyn rusqlite::ToSql]) -> Result<usize> {
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        let sql = format!(
            "UPDATE tasks INDEXED BY tasks_leased SET state = {QUEUED}, owner = NULL, lease_until = NULL
             WHERE state = {IN_PROGRESS} AND {condition} RETURNING {KEY}"
        );
        let n = tx.update(&sql, args, TaskState::InProgress, TaskState::Queued)?;
        tx.commit()?;
        Ok(n)
    }

    pub fn promote_due(&self, now: i64) -> Result<usize> {
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        let n = tx.update(
            formatcp!(
                "UPDATE tasks INDEXED BY tasks_not_yet_due SET state = {QUEUED}
                 WHERE state = {NOT_YET_DUE} AND next_attempt_at <= ?1 RETURNING {KEY}"
            ),
            params![now],
            TaskState::NotYetDue,
            TaskState::Queued,
        )?;
        let cooled = tx.update(
            formatcp!(
                "UPDATE tasks INDEXED BY tasks_cooling SET {COOLED}
                 WHERE state = {COOLING} AND next_attempt_at <= ?1 RETURNING {KEY}"
            ),
            params![now],
            TaskState::Cooling,
            TaskState::Queued,
        )?;
        tx.commit()?;
        Ok(n + cooled)
    }

    pub fn not_yet_due_in(&self, sel: &Selection) -> Result<(u64, Option<i64>)> {
        let conn = self.conn()?;
        let (pairs, from, to, interval) = scope(Some(sel))?;
        let (n, first): (i64, Option<i64>) = conn
            .prepare_cached(formatcp!(
                "SELECT count(*), min(next_attempt_at) FROM tasks INDEXED BY tasks_not_yet_due
                 WHERE state = {NOT_YET_DUE}
                   AND (exchange, symbol) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?1))
                   AND interval = ?4 AND day BETWEEN ?2 AND ?3"
            ))?
            .query_row(params![pairs, from, to, interval], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((n as u64, first))
    }

    pub fn not_yet_due(&self) -> Result<(u64, Option<i64>)> {
        let conn = self.conn()?;
        let (n, first): (i64, Option<i64>) = conn
            .prepare_cached(formatcp!(
                // How many from the counts, the first by one probe of the index.
                "SELECT (SELECT coalesce(sum(n), 0) FROM task_counts WHERE state = {NOT_YET_DUE}),
                        (SELECT min(next_attempt_at) FROM tasks INDEXED BY tasks_not_yet_due
                         WHERE state = {NOT_YET_DUE})"
            ))?
            .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok((n as u64, first))
    }

    /// The earliest time a queued task comes due, and the earliest end of
    /// a lease: what [`crate::store::state::next_wakeup`] decides from.
    pub fn first_due_and_lease(
        &self,
        sources: Option<&[String]>,
        within: Option<&Selection>,
    ) -> Result<(Option<i64>, Option<i64>)> {
        let conn = self.conn()?;
        let sources = sources.map(serde_json::to_string).transpose()?;
        let (pairs, from, to, interval) = scope(within)?;
        let due: Option<i64> = conn
            .prepare_cached(formatcp!(
                "SELECT min(next_attempt_at) FROM tasks INDEXED BY tasks_due
                 WHERE state = {QUEUED} AND (?1 IS NULL OR source IN (SELECT value FROM json_each(?1)))
                   AND {IN_SCOPE}"
            ))?
            .query_row(params![sources, pairs, from, to, interval], |r| r.get(0))?;
        let lease: Option<i64> = conn
            .prepare_cached(formatcp!(
                "SELECT min(lease_until) FROM tasks INDEXED BY tasks_leased
                 WHERE state = {IN_PROGRESS} AND (?1 IS NULL OR source IN (SELECT value FROM json_each(?1)))
                   AND {IN_SCOPE}"
            ))?
            .query_row(params![sources, pairs, from, to, interval], |r| r.get(0))?;
        Ok((due, lease))
    }
}
