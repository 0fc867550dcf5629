//! Claims and leases: taking due tasks for a worker, keeping them while it
//! works, and taking them back from workers that died; and the days that
//! come due.

use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::{params, TransactionBehavior};

use super::counts::{move_counted, Counts};
use super::Store;

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

impl Store {
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

    /// Whether any task is queued or in progress.
    pub fn has_pending(&self) -> Result<bool> {
        Ok(self.next_wakeup()?.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock;
    use crate::price::Price;
    use crate::store::Create;
    use crate::store::{Completion, Outcome};
    use chrono::NaiveDate;
    use rusqlite::OptionalExtension;
    use std::time::Duration;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&crate::store::Options::new(dir.path().join("q.db"), Create::IfMissing)).unwrap();
        let days: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap().iter_days().take(3).collect();
        store.enqueue_days(&["kraken".into()], &["btc".into()], &days, clock::now_ms(), Duration::ZERO).unwrap();
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
