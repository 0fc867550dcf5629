//! The queue: enqueue, claim, complete, and the leases that keep claims honest.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use rusqlite::{params, OptionalExtension, Transaction, TransactionBehavior};

use super::{iso_now, Store};
use crate::clock;
use crate::price::Price;

/// What `enqueue` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Enqueued {
    /// Tasks that were not in the queue before.
    pub added: u64,
    /// Tasks that were already there (in any state) and were left alone.
    pub existing: u64,
    /// Of the new tasks, those whose day has not come due yet.
    pub not_yet_due: u64,
}

/// A claimed task: one (exchange, symbol, day) to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub id: i64,
    pub exchange: String,
    pub symbol: String,
    pub day: NaiveDate,
    /// Attempts made before this one.
    pub attempts: u32,
    /// Fencing token of this claim; only a completion carrying it counts.
    pub token: i64,
}

/// How a claimed task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The server sent a price.
    Price(Price),
    /// The server answered `null`: it has no price for that day.
    NoData,
    /// Not fetchable yet: the day has not come due, or it ended so recently
    /// that a `null` may only mean the price is not published yet. Waits as
    /// `not_yet_due` until `at`; `asked` says whether a request was made.
    NotYet { note: Option<String>, at: i64, asked: bool },
    /// A transient error: queue the task again, due at `at` (ms since epoch).
    Retry { error: String, at: i64 },
    /// The server asked us to come back at `at` (Retry-After): queue the
    /// task again without counting the attempt.
    Defer { error: String, at: i64 },
    /// A permanent error, or the last attempt failed.
    Failed { error: String },
    /// Not attempted (the run is stopping): back to the queue as it was.
    Released,
}

/// The result of one claimed task, ready to be written back.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub task: Task,
    pub outcome: Outcome,
}

impl Store {
    /// Adds one task per (exchange, symbol, day) of the cross product; tasks
    /// already queued (in any state) are left as they are. `days` are in
    /// order, and usually consecutive (a range). A day not due at `now`
    /// (see [`clock::due_at`]) is queued as `not_yet_due` until it is.
    pub fn enqueue(
        &self,
        exchanges: &[String],
        symbols: &[String],
        days: &[NaiveDate],
        now: i64,
        grace: Duration,
    ) -> Result<Enqueued> {
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Ok(Enqueued::default());
        };
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut counts = Counts::default();
        let mut later = 0;
        {
            // The days go in as one JSON array per pair, so SQLite loops
            // over them itself: a million rows cost a thousand statements.
            let (due, not_due): (Vec<&NaiveDate>, Vec<&NaiveDate>) =
                days.iter().partition(|d| clock::due_at(**d, grace) <= now);
            let due_json = serde_json::to_string(&due.iter().map(|d| d.to_string()).collect::<Vec<_>>())?;
            let not_due_json = serde_json::to_string(
                &not_due.iter().map(|d| (d.to_string(), clock::due_at(**d, grace))).collect::<Vec<_>>(),
            )?;
            let enqueued_at = iso_now();
            let mut present = tx.prepare_cached(
                "SELECT count(*) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO tasks (exchange, symbol, day, enqueued_at)
                 SELECT ?1, ?2, value, ?3 FROM json_each(?4) WHERE true
                 ON CONFLICT (exchange, symbol, day) DO NOTHING",
            )?;
            let mut insert_later = tx.prepare_cached(
                "INSERT INTO tasks (exchange, symbol, day, state, next_attempt_at, enqueued_at)
                 SELECT ?1, ?2, value ->> 0, 'not_yet_due', value ->> 1, ?3 FROM json_each(?4) WHERE true
                 ON CONFLICT (exchange, symbol, day) DO NOTHING",
            )?;
            let consecutive = (*last - *first).num_days() + 1 == days.len() as i64;
            for exchange in exchanges {
                for symbol in symbols {
                    // A pair already complete (the nightly cron's usual case) costs one index count.
                    if consecutive {
                        let have: i64 = present.query_row(params![exchange, symbol, first, last], |r| r.get(0))?;
                        if have as usize >= days.len() {
                            continue;
                        }
                    }
                    if !due.is_empty() {
                        let added = insert.execute(params![exchange, symbol, enqueued_at, due_json])?;
                        counts.add(exchange, symbol, "queued", added as i64);
                    }
                    if !not_due.is_empty() {
                        let added = insert_later.execute(params![exchange, symbol, enqueued_at, not_due_json])?;
                        counts.add(exchange, symbol, "not_yet_due", added as i64);
                        later += added as u64;
                    }
                }
            }
        }
        let added = counts.write(&tx)? as u64;
        tx.commit().context("committing the new tasks")?;
        let total = (exchanges.len() * symbols.len() * days.len()) as u64;
        Ok(Enqueued { added, existing: total - added, not_yet_due: later })
    }

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
        let mut applied = Vec::with_capacity(done.len());
        let mut counts = Counts::default();
        {
            let now = iso_now();
            let mut finish = tx.prepare_cached(
                "UPDATE tasks SET state = ?3, attempts = attempts + 1, last_error = ?4,
                        finished_at = ?5, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = 'in_progress'",
            )?;
            // Back to the queue: after a failed attempt (?5 = 1), or not
            // counted: deferred by Retry-After, or released unstarted.
            let mut requeue = tx.prepare_cached(
                "UPDATE tasks SET state = 'queued', attempts = attempts + ?5, last_error = coalesce(?3, last_error),
                        next_attempt_at = ?4, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = 'in_progress'",
            )?;
            // Not due yet: wait as not_yet_due, counting the request if one was made.
            let mut later = tx.prepare_cached(
                "UPDATE tasks SET state = 'not_yet_due', attempts = attempts + ?5, last_error = coalesce(?3, last_error),
                        next_attempt_at = ?4, owner = NULL, lease_until = NULL
                 WHERE id = ?1 AND claims = ?2 AND state = 'in_progress'",
            )?;
            // A refreshed day the server no longer prices: the old price goes.
            let mut unprice =
                tx.prepare_cached("DELETE FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3")?;
            let mut price = tx.prepare_cached(
                "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (exchange, symbol, day) DO UPDATE SET
                    open = excluded.open, high = excluded.high, low = excluded.low,
                    close = excluded.close, volume = excluded.volume, fetched_at = excluded.fetched_at",
            )?;
            for Completion { task, outcome } in done {
                let (id, token) = (task.id, task.token);
                let no_error = None::<&str>;
                let (state, changed) = match outcome {
                    Outcome::Price(_) => ("done", finish.execute(params![id, token, "done", no_error, now])?),
                    Outcome::NoData => ("no_data", finish.execute(params![id, token, "no_data", no_error, now])?),
                    Outcome::Failed { error } => ("failed", finish.execute(params![id, token, "failed", error, now])?),
                    Outcome::NotYet { note, at, asked } => {
                        ("not_yet_due", later.execute(params![id, token, note, at, i64::from(*asked)])?)
                    }
                    Outcome::Retry { error, at } => ("queued", requeue.execute(params![id, token, error, at, 1])?),
                    Outcome::Defer { error, at } => ("queued", requeue.execute(params![id, token, error, at, 0])?),
                    Outcome::Released => ("queued", requeue.execute(params![id, token, no_error, 0, 0])?),
                };
                applied.push(changed > 0);
                if changed == 0 {
                    continue; // fenced off: someone else owns this task now
                }
                counts.moved(&task.exchange, &task.symbol, "in_progress", state);
                if let Outcome::NoData = outcome {
                    unprice.execute(params![task.exchange, task.symbol, task.day])?;
                }
                if let Outcome::Price(p) = outcome {
                    price.execute(params![
                        task.exchange,
                        task.symbol,
                        task.day,
                        p.open,
                        p.high,
                        p.low,
                        p.close,
                        p.volume,
                        now
                    ])?;
                }
            }
        }
        counts.write(&tx)?;
        tx.commit().context("committing finished tasks")?;
        Ok(applied)
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

    /// Queues failed tasks again with a fresh set of attempts: those of
    /// (exchange, symbol) from `from` to `to`, or every one when `None`;
    /// with `abandoned`, the abandoned ones too.
    pub fn retry_failed(&self, cell: Option<(&str, &str, NaiveDate, NaiveDate)>, abandoned: bool) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        let states: &[&'static str] = if abandoned { &["failed", "abandoned"] } else { &["failed"] };
        for from in states {
            let reset = format!(
                "UPDATE tasks SET state = 'queued', attempts = 0, next_attempt_at = 0, finished_at = NULL
                 WHERE state = '{from}'"
            );
            n += in_cell(&tx, &reset, cell, from, "queued")?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Gives up on failed tasks for good (`retry --never`): those of the
    /// cell, or every one when `None`. They keep their error, and no run
    /// fetches them again or counts them as failures.
    pub fn abandon(&self, cell: Option<(&str, &str, NaiveDate, NaiveDate)>) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n =
            in_cell(&tx, "UPDATE tasks SET state = 'abandoned' WHERE state = 'failed'", cell, "failed", "abandoned")?;
        tx.commit()?;
        Ok(n)
    }

    /// Takes `n` request slots for `server`, `interval` ms apart, none
    /// before `now`, from the sequence every process on this database
    /// shares; returns the first (the others follow at `interval` steps).
    pub fn reserve_slots(&self, server: &str, n: u32, interval: i64, now: i64) -> Result<i64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let first: i64 = {
            let next: Option<i64> = tx
                .prepare_cached("SELECT next_slot FROM server_slots WHERE server = ?1")?
                .query_row(params![server], |r| r.get(0))
                .optional()?;
            next.unwrap_or(now).max(now)
        };
        let after = first.saturating_add(interval.saturating_mul(i64::from(n)));
        tx.prepare_cached(
            "INSERT INTO server_slots (server, next_slot) VALUES (?1, ?2)
             ON CONFLICT (server) DO UPDATE SET next_slot = excluded.next_slot",
        )?
        .execute(params![server, after])?;
        tx.commit()?;
        Ok(first)
    }

    /// Marks the database as the demo's own (or no longer): only a demo's
    /// database may be replaced by `pricequeue demo`.
    pub fn set_demo(&self, demo: bool) -> Result<bool> {
        let conn = self.conn()?;
        let changed = if demo {
            conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', ?1)")?.execute([iso_now()])?
        } else {
            conn.prepare_cached("DELETE FROM meta WHERE key = 'demo'")?.execute([])?
        };
        Ok(changed > 0)
    }

    /// Whether `pricequeue demo` made this database (and nothing else added to it).
    pub fn is_demo(&self) -> Result<bool> {
        let conn = self.conn()?;
        let found: Option<String> =
            conn.prepare_cached("SELECT value FROM meta WHERE key = 'demo'")?.query_row([], |r| r.get(0)).optional()?;
        Ok(found.is_some())
    }

    /// Queues the finished tasks of (exchange, symbol) from `from` to `to`
    /// again (done, no data or failed), to fetch them afresh; returns how many.
    pub fn refresh(&self, exchange: &str, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut counts = Counts::default();
        let mut total = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE tasks SET state = 'queued', attempts = 0, next_attempt_at = 0, finished_at = NULL
                 WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 AND state = ?5",
            )?;
            for state in ["done", "no_data", "failed"] {
                let n = stmt.execute(params![exchange, symbol, from, to, state])?;
                counts.add(exchange, symbol, state, -(n as i64));
                counts.add(exchange, symbol, "queued", n as i64);
                total += n;
            }
        }
        counts.write(&tx)?;
        tx.commit()?;
        Ok(total)
    }

    /// Counts the tasks again into `task_counts`, for after hand edits.
    pub fn recount(&self) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "DELETE FROM task_counts;
             INSERT INTO task_counts (exchange, symbol, state, n)
                 SELECT exchange, symbol, state, count(*) FROM tasks GROUP BY exchange, symbol, state;",
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Until when (ms since epoch) `server` asked not to be sent requests.
    pub fn pause(&self, server: &str) -> Result<Option<i64>> {
        let conn = self.conn()?;
        let until = conn
            .prepare_cached("SELECT until FROM server_pauses WHERE server = ?1")?
            .query_row(params![server], |r| r.get(0))
            .optional()?;
        Ok(until)
    }

    /// Records that `server` asked for no requests before `until`; a later
    /// pause already recorded is kept.
    pub fn set_pause(&self, server: &str, until: i64) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO server_pauses (server, until) VALUES (?1, ?2)
             ON CONFLICT (server) DO UPDATE SET until = max(until, excluded.until)",
        )?
        .execute(params![server, until])?;
        Ok(())
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

    /// How many tasks lie outside the days `from` to `to`.
    pub fn count_outside(&self, from: NaiveDate, to: NaiveDate) -> Result<u64> {
        let conn = self.conn()?;
        let n: i64 = conn
            .prepare_cached("SELECT count(*) FROM tasks WHERE day < ?1 OR day > ?2")?
            .query_row(params![from, to], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Whether any task is queued or in progress.
    pub fn has_pending(&self) -> Result<bool> {
        Ok(self.next_wakeup()?.is_some())
    }
}

/// Runs `sql`, an UPDATE that moves tasks from state `from` to `to` and
/// returns their exchange and symbol, and keeps `task_counts` in step.
fn move_counted(
    tx: &Transaction<'_>,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
    from: &'static str,
    to: &'static str,
) -> Result<usize> {
    let moved: Vec<(String, String)> = {
        let mut stmt = tx.prepare_cached(sql)?;
        let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut counts = Counts::default();
    for (e, s) in &moved {
        counts.moved(e, s, from, to);
    }
    counts.write(tx)?;
    Ok(moved.len())
}

/// Runs `update` (an UPDATE ... WHERE ...) on the tasks of `cell`, or on
/// every task when `None`, moving them from `from` to `to`.
fn in_cell(
    tx: &Transaction<'_>,
    update: &str,
    cell: Option<(&str, &str, NaiveDate, NaiveDate)>,
    from: &'static str,
    to: &'static str,
) -> Result<usize> {
    match cell {
        None => move_counted(tx, &format!("{update} RETURNING exchange, symbol"), &[], from, to),
        Some((exchange, symbol, first, last)) => move_counted(
            tx,
            &format!("{update} AND exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 RETURNING exchange, symbol"),
            params![exchange, symbol, first, last],
            from,
            to,
        ),
    }
}

/// Changes to `task_counts`, gathered over a transaction and written once.
#[derive(Default)]
struct Counts(HashMap<(String, String, &'static str), i64>);

impl Counts {
    fn add(&mut self, exchange: &str, symbol: &str, state: &'static str, n: i64) {
        if n != 0 {
            *self.0.entry((exchange.to_string(), symbol.to_string(), state)).or_insert(0) += n;
        }
    }

    fn moved(&mut self, exchange: &str, symbol: &str, from: &'static str, to: &'static str) {
        if from != to {
            self.add(exchange, symbol, from, -1);
            self.add(exchange, symbol, to, 1);
        }
    }

    /// Writes the changes; returns the net change (tasks added).
    fn write(self, tx: &Transaction<'_>) -> Result<i64> {
        let mut upsert = tx.prepare_cached(
            "INSERT INTO task_counts (exchange, symbol, state, n) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (exchange, symbol, state) DO UPDATE SET n = n + excluded.n",
        )?;
        let mut net = 0;
        for ((e, s, state), n) in self.0 {
            if n != 0 {
                upsert.execute(params![e, s, state, n])?;
                net += n;
            }
        }
        Ok(net)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Create, Synchronous};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("q.db"), Create::IfMissing, Synchronous::Normal).unwrap();
        let days: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap().iter_days().take(3).collect();
        store.enqueue(&["kraken".into()], &["btc".into()], &days, clock::now_ms(), Duration::ZERO).unwrap();
        (dir, store)
    }

    fn price(close: f64) -> Outcome {
        Outcome::Price(Price { open: 1.0, high: 2.0, low: 0.5, close, volume: 10.0 })
    }

    fn stored_close(store: &Store, day: NaiveDate) -> Option<f64> {
        let conn = store.conn().unwrap();
        conn.query_row("SELECT close FROM prices WHERE day = ?1", params![day], |r| r.get(0)).optional().unwrap()
    }

    #[test]
    fn a_claim_is_exclusive_and_a_lapsed_claim_is_fenced_off() {
        let (_dir, store) = store();
        let a = store.claim("a", 10, 1_000, 2_000).unwrap();
        assert_eq!(a.len(), 3);
        assert!(store.claim("b", 10, 1_000, 2_000).unwrap().is_empty(), "claimed twice");

        assert_eq!(store.recover_expired(1_500).unwrap(), 0, "the lease still runs");
        assert_eq!(store.recover_expired(2_500).unwrap(), 3);
        let b = store.claim("b", 10, 2_500, 3_500).unwrap();
        assert_eq!(b.len(), 3);
        assert!(b[0].token > a[0].token);

        // `a` comes back late: its result must not count, before or after b's.
        let late = |close| Completion { task: a[0].clone(), outcome: price(close) };
        assert_eq!(store.complete(&[late(1.0)]).unwrap(), [false]);
        assert_eq!(stored_close(&store, a[0].day), None);
        assert_eq!(store.complete(&[Completion { task: b[0].clone(), outcome: price(2.0) }]).unwrap(), [true]);
        assert_eq!(store.complete(&[late(3.0)]).unwrap(), [false]);
        assert_eq!(stored_close(&store, a[0].day), Some(2.0));
        // A renewal by the old owner touches nothing of b's.
        assert_eq!(store.renew("a", 9_999).unwrap(), 0);
        assert_eq!(store.renew("b", 9_999).unwrap(), 2);
    }

    #[test]
    fn a_retry_waits_until_it_is_due() {
        let (_dir, store) = store();
        let t = store.claim("a", 1, 1_000, 2_000).unwrap().remove(0);
        let retry = Outcome::Retry { error: "HTTP 500".into(), at: 5_000 };
        assert_eq!(store.complete(&[Completion { task: t.clone(), outcome: retry }]).unwrap(), [true]);
        let others = store.claim("a", 10, 4_000, 6_000).unwrap();
        assert!(others.iter().all(|o| o.id != t.id), "claimed before it was due");
        store
            .complete(
                &others.into_iter().map(|task| Completion { task, outcome: Outcome::Released }).collect::<Vec<_>>(),
            )
            .unwrap();
        assert_eq!(store.next_wakeup().unwrap(), Some(0), "the released tasks are due now");
        let again = store.claim("a", 10, 5_000, 6_000).unwrap();
        let t2 = again.iter().find(|o| o.id == t.id).expect("due at 5000");
        assert_eq!(t2.attempts, 1, "the failed attempt counts");
        assert!(again.iter().filter(|o| o.id != t.id).all(|o| o.attempts == 0), "a release is not an attempt");
    }

    #[test]
    fn dead_owners_tasks_are_released_and_failures_retried() {
        let (_dir, store) = store();
        let mine = store.claim("dead:1:x", 2, 0, i64::MAX).unwrap();
        assert_eq!(store.owners().unwrap(), vec![("dead:1:x".to_string(), 2)]);
        assert_eq!(store.release_owner("dead:1:x").unwrap(), 2);
        assert!(store.owners().unwrap().is_empty());
        let t = store.claim("b", 1, 0, 10).unwrap().remove(0);
        assert_eq!(t.id, mine[0].id);
        store.complete(&[Completion { task: t, outcome: Outcome::Failed { error: "HTTP 404".into() } }]).unwrap();
        assert_eq!(store.counts().unwrap().failed, 1);
        assert_eq!(store.retry_failed(None, false).unwrap(), 1);
        assert_eq!(store.counts().unwrap().failed, 0);
        let t = store.claim("b", 1, 0, 10).unwrap().remove(0);
        assert_eq!(t.attempts, 0, "a retried task gets its attempts back");
    }
}
