//! Claims and leases on PostgreSQL: taking due tasks for a worker (each
//! claim one statement), keeping them while it works, taking them back
//! from workers that died; and the days that come due.

use anyhow::Result;
use const_format::formatcp;
use r2d2_postgres::postgres::types::ToSql;

use chrono::NaiveDate;

use super::counts::SelectionParams;
use super::Db;
use crate::selection::Selection;
use crate::store::state::sql::{COOLED, COOLING, IN_PROGRESS, NOT_YET_DUE, QUEUED};
use crate::store::Task;

type Param<'a> = &'a (dyn ToSql + Sync);

/// The condition that keeps a task within a scope (`$2` to `$6`, as
/// [`Scope`] gives them): any task when there is none.
const IN_SCOPE: &str = "($2::text[] IS NULL OR ((exchange, symbol) IN (SELECT * FROM unnest($2::text[], $3::text[]))
                        AND interval = $6 AND day BETWEEN $4 AND $5))";

/// A claim's tasks: queued, due by `$3`, of the sources `$5`, within the
/// scope `$6` to `$10` when there is one.
const DUE: &str = formatcp!(
    "state = {QUEUED} AND next_attempt_at <= $3 AND source = ANY($5)
     AND ($6::text[] IS NULL OR ((exchange, symbol) IN (SELECT * FROM unnest($6::text[], $7::text[]))
                                 AND interval = $10 AND day BETWEEN $8 AND $9))"
);

/// A claim's scope as statement parameters, all `NULL` for none: the
/// pairs as two arrays (the i-th exchange and the i-th symbol one pair),
/// the first and last day, the interval.
struct Scope {
    exchanges: Option<Vec<String>>,
    symbols: Option<Vec<String>>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    interval: Option<&'static str>,
}

impl Scope {
    fn of(within: Option<&Selection>) -> Scope {
        match within {
            Some(sel) => {
                let p = SelectionParams::of(sel);
                Scope {
                    exchanges: Some(p.exchanges),
                    symbols: Some(p.symbols),
                    from: Some(p.from),
                    to: Some(p.to),
                    interval: Some(p.interval),
                }
            }
            None => Scope { exchanges: None, symbols: None, from: None, to: None, interval: None },
        }
    }
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
        let (now, lease_until) = (self.db_time(now), self.db_time(lease_until));
        let scope = Scope::of(within);
        let mut tries = 0;
        self.with(|c| {
            tries += 1;
            // Run again after a lost connection: the first run may have
            // committed before its answer was lost. Its tasks are this
            // owner's with this very lease end (no renewal runs meanwhile:
            // the same thread renews), so they are handed out now, with
            // whatever this run adds; else no one would fetch them until
            // this process ends.
            let earlier = if tries > 1 {
                c.rows(
                    formatcp!(
                        "SELECT id, exchange, symbol, day, attempts, claims, source, rounds, interval FROM tasks
                         WHERE state = {IN_PROGRESS} AND owner = $1 AND lease_until = $2"
                    ),
                    &[&owner, &lease_until],
                )?
            } else {
                Vec::new()
            };
            // One statement, so no transaction around it (its counts follow
            // by trigger, in the same statement). MATERIALIZED: the locking subquery
            // runs once, so the UPDATE takes exactly the rows it locked,
            // never more than `limit`. One interval a claim, the first due
            // task's (which the claim then takes): a worker's batch is days
            // of one pair at one interval.
            let rows = c.rows(
                formatcp!(
                    "WITH first AS MATERIALIZED (
                     SELECT interval FROM tasks WHERE {DUE}
                     ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED),
                 c AS MATERIALIZED (
                     SELECT id FROM tasks WHERE {DUE} AND interval = (SELECT interval FROM first)
                     ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED),
                 claimed AS (
                     UPDATE tasks t SET state = {IN_PROGRESS}, owner = $1, lease_until = $2, claims = t.claims + 1
                     FROM c WHERE t.id = c.id
                     RETURNING t.id, t.exchange, t.symbol, t.day, t.attempts, t.claims, t.source, t.rounds, t.interval)
                 SELECT * FROM claimed ORDER BY id"
                ),
                &[
                    &owner,
                    &lease_until,
                    &now,
                    &(limit.saturating_sub(earlier.len()) as i64),
                    &sources,
                    &scope.exchanges,
                    &scope.symbols,
                    &scope.from,
                    &scope.to,
                    &scope.interval,
                ],
            )?;
            Ok(earlier
                .iter()
                .chain(&rows)
                .map(|r| Task {
                    id: r.get(0),
                    exchange: r.get(1),
                    symbol: r.get(2),
                    day: r.get(3),
                    interval: r.get(8),
                    attempts: r.get::<_, i32>(4) as u32,
                    token: r.get(5),
                    source: r.get(6),
                    rounds: r.get::<_, i32>(7) as u32,
                })
                .collect())
        })
    }

    pub fn renew(&self, owner: &str, lease_until: i64) -> Result<usize> {
        let lease_until = self.db_time(lease_until);
        self.with(|c| {
            let n = c.exec(
                formatcp!(
                    "UPDATE tasks SET lease_until = $2
                     WHERE state = {IN_PROGRESS} AND lease_until IS NOT NULL AND owner = $1"
                ),
                &[&owner, &lease_until],
            )?;
            Ok(n as usize)
        })
    }

    pub fn recover_expired(&self, now: i64) -> Result<usize> {
        self.requeue_where("lease_until < $1", &[&self.db_time(now)])
    }

    pub fn owners(&self) -> Result<Vec<(String, u64)>> {
        self.with(|c| {
            let rows = c.query(
                formatcp!(
                    "SELECT owner, count(*) FROM tasks
                     WHERE state = {IN_PROGRESS} AND lease_until IS NOT NULL AND owner IS NOT NULL GROUP BY owner"
                ),
                &[],
            )?;
            Ok(rows.iter().map(|r| (r.get(0), r.get::<_, i64>(1) as u64)).collect())
        })
    }

    pub fn release_owner(&self, owner: &str) -> Result<usize> {
        self.requeue_where("owner = $1", &[&owner])
    }

    /// Moves tasks in progress that match `condition` back to the queue.
    fn requeue_where(&self, condition: &str, args: &[Param<'_>]) -> Result<usize> {
        let update = format!(
            "UPDATE tasks SET state = {QUEUED}, owner = NULL, lease_until = NULL
             WHERE state = {IN_PROGRESS} AND lease_until IS NOT NULL AND {condition}"
        );
        self.with(|c| Ok(c.execute(&update, args)? as usize))
    }

    pub fn promote_due(&self, now: i64) -> Result<usize> {
        let now = self.db_time(now);
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = tx.execute(
                formatcp!("UPDATE tasks SET state = {QUEUED} WHERE state = {NOT_YET_DUE} AND next_attempt_at <= $1"),
                &[&now],
            )?;
            let cooled = tx.execute(
                formatcp!("UPDATE tasks SET {COOLED} WHERE state = {COOLING} AND next_attempt_at <= $1"),
                &[&now],
            )?;
            tx.commit()?;
            Ok((n + cooled) as usize)
        })
    }

    pub fn not_yet_due_in(&self, sel: &Selection) -> Result<(u64, Option<i64>)> {
        let p = SelectionParams::of(sel);
        self.with(|c| {
            let r = c.one(
                formatcp!(
                    "SELECT count(*), min(next_attempt_at) FROM tasks
                     WHERE state = {NOT_YET_DUE}
                       AND (exchange, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                       AND day BETWEEN $3 AND $4 AND interval = $5"
                ),
                &p.params(),
            )?;
            let first: Option<i64> = r.get(1);
            Ok((r.get::<_, i64>(0) as u64, first.map(|t| self.local_time(t))))
        })
    }

    pub fn not_yet_due(&self) -> Result<(u64, Option<i64>)> {
        self.with(|c| {
            let r = c.query_one(
                // How many from the counts, the first by one probe of the index.
                formatcp!(
                    "SELECT (SELECT coalesce(sum(n), 0)::bigint FROM task_count_shards WHERE state = {NOT_YET_DUE}),
                            (SELECT min(next_attempt_at) FROM tasks WHERE state = {NOT_YET_DUE})"
                ),
                &[],
            )?;
            let first: Option<i64> = r.get(1);
            Ok((r.get::<_, i64>(0) as u64, first.map(|t| self.local_time(t))))
        })
    }

    pub fn first_due_and_lease(
        &self,
        sources: Option<&[String]>,
        within: Option<&Selection>,
    ) -> Result<(Option<i64>, Option<i64>)> {
        let scope = Scope::of(within);
        self.with(|c| {
            let r = c.one(
                formatcp!(
                    "SELECT (SELECT min(next_attempt_at) FROM tasks
                             WHERE state = {QUEUED} AND ($1::text[] IS NULL OR source = ANY($1)) AND {IN_SCOPE}),
                            (SELECT min(lease_until) FROM tasks
                             WHERE state = {IN_PROGRESS} AND lease_until IS NOT NULL
                               AND ($1::text[] IS NULL OR source = ANY($1)) AND {IN_SCOPE})"
                ),
                &[&sources, &scope.exchanges, &scope.symbols, &scope.from, &scope.to, &scope.interval],
            )?;
            let (due, lease): (Option<i64>, Option<i64>) = (r.get(0), r.get(1));
            // A queued task's 0 ("due at once") stays 0.
            let due = due.map(|t| if t == 0 { 0 } else { self.local_time(t) });
            Ok((due, lease.map(|t| self.local_time(t))))
        })
    }
}
