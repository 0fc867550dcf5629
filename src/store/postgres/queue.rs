//! The queue on PostgreSQL: enqueueing, claims and leases, completions,
//! retries, and what every host shares about a price server.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;
use r2d2_postgres::postgres::types::ToSql;

use super::counts::{analyze_if_grown, in_selection, move_counted, Counts};
use super::Db;
use crate::clock;
use crate::selection::Selection;
use crate::store::{Completion, Enqueued, Outcome, Task};

type Param<'a> = &'a (dyn ToSql + Sync);

impl Db {
    pub fn enqueue_days(
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
        // Stored, like every queue time, on the server's clock.
        let due: Vec<i64> = days.iter().map(|d| self.db_time(clock::due_at(*d, grace))).collect();
        let now = self.db_time(now);
        let consecutive = (*last - *first).num_days() + 1 == days.len() as i64;
        let total = (exchanges.len() * symbols.len() * days.len()) as u64;
        let enqueued = self.with(|c| {
            let mut tx = c.transaction()?;
            // A pair already complete (the nightly cron's usual case) is
            // left out: one index count per pair, in one statement.
            let mut have = BTreeMap::new();
            if consecutive {
                for row in tx.query(
                    "SELECT exchange, symbol, count(*) FROM tasks
                     WHERE exchange = ANY($1) AND symbol = ANY($2) AND day BETWEEN $3 AND $4
                     GROUP BY exchange, symbol",
                    &[&exchanges, &symbols, first, last],
                )? {
                    have.insert((row.get::<_, String>(0), row.get::<_, String>(1)), row.get::<_, i64>(2));
                }
            }
            let (mut pair_exchanges, mut pair_symbols) = (vec![], vec![]);
            for e in exchanges {
                for s in symbols {
                    if have.get(&(e.clone(), s.clone())).copied().unwrap_or(0) < days.len() as i64 {
                        pair_exchanges.push(e.as_str());
                        pair_symbols.push(s.as_str());
                    }
                }
            }
            let mut counts = Counts::default();
            let mut later = 0;
            if !pair_exchanges.is_empty() {
                let added = tx.query(
                    "WITH added AS (
                         INSERT INTO tasks (exchange, symbol, day, state, next_attempt_at)
                         SELECT p.e, p.s, d.day,
                                CASE WHEN d.due <= $5 THEN 'queued' ELSE 'not_yet_due' END,
                                CASE WHEN d.due <= $5 THEN 0 ELSE d.due END
                         FROM unnest($1::text[], $2::text[]) AS p(e, s)
                              CROSS JOIN unnest($3::date[], $4::bigint[]) AS d(day, due)
                         ORDER BY p.e COLLATE \"C\", p.s COLLATE \"C\", d.day
                         ON CONFLICT (exchange, symbol, day) DO NOTHING
                         RETURNING exchange, symbol, state)
                     SELECT exchange, symbol, state, count(*) FROM added GROUP BY exchange, symbol, state",
                    &[&pair_exchanges, &pair_symbols, &days, &due, &now],
                )?;
                for row in added {
                    let (state, n): (&str, i64) = (row.get(2), row.get(3));
                    counts.add(row.get(0), row.get(1), state, n);
                    if state == "not_yet_due" {
                        later += n as u64;
                    }
                }
            }
            let added = counts.write(&mut tx)? as u64;
            tx.commit()?;
            Ok(Enqueued { added, existing: total - added, not_yet_due: later })
        })?;
        // Apart: were it to fail and run again, the enqueue would not.
        self.with(|c| analyze_if_grown(&mut **c, enqueued.added))?;
        Ok(enqueued)
    }

    pub fn claim(&self, owner: &str, limit: usize, now: i64, lease_until: i64) -> Result<Vec<Task>> {
        let (now, lease_until) = (self.db_time(now), self.db_time(lease_until));
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
                    "SELECT id, exchange, symbol, day, attempts, claims FROM tasks
                     WHERE state = 'in_progress' AND owner = $1 AND lease_until = $2",
                    &[&owner, &lease_until],
                )?
            } else {
                Vec::new()
            };
            // One statement, so no transaction around it: the claim and its
            // counts commit together. MATERIALIZED: the locking subquery
            // runs once, so the UPDATE takes exactly the rows it locked,
            // never more than `limit`.
            let rows = c.rows(
                "WITH c AS MATERIALIZED (
                     SELECT id FROM tasks WHERE state = 'queued' AND next_attempt_at <= $3
                     ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED),
                 claimed AS (
                     UPDATE tasks t SET state = 'in_progress', owner = $1, lease_until = $2, claims = t.claims + 1
                     FROM c WHERE t.id = c.id
                     RETURNING t.id, t.exchange, t.symbol, t.day, t.attempts, t.claims),
                 counted AS (
                     INSERT INTO task_count_shards (exchange, symbol, state, shard, n)
                     SELECT m.exchange, m.symbol, s.state, pg_backend_pid() % 8, s.sign * m.n
                     FROM (SELECT exchange, symbol, count(*) AS n FROM claimed GROUP BY exchange, symbol) m
                          CROSS JOIN (VALUES ('in_progress', 1), ('queued', -1)) AS s(state, sign)
                     ORDER BY 1, 2, 3
                     ON CONFLICT (exchange, symbol, state, shard) DO UPDATE SET n = task_count_shards.n + excluded.n)
                 SELECT * FROM claimed ORDER BY id",
                &[&owner, &lease_until, &now, &(limit.saturating_sub(earlier.len()) as i64)],
            )?;
            Ok(earlier
                .iter()
                .chain(&rows)
                .map(|r| Task {
                    id: r.get(0),
                    exchange: r.get(1),
                    symbol: r.get(2),
                    day: r.get(3),
                    attempts: r.get::<_, i32>(4) as u32,
                    token: r.get(5),
                })
                .collect())
        })
    }

    pub fn renew(&self, owner: &str, lease_until: i64) -> Result<usize> {
        let lease_until = self.db_time(lease_until);
        self.with(|c| {
            let n = c.exec(
                "UPDATE tasks SET lease_until = $2
                 WHERE state = 'in_progress' AND lease_until IS NOT NULL AND owner = $1",
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
                "SELECT owner, count(*) FROM tasks
                 WHERE state = 'in_progress' AND lease_until IS NOT NULL AND owner IS NOT NULL GROUP BY owner",
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
            "UPDATE tasks SET state = 'queued', owner = NULL, lease_until = NULL
             WHERE state = 'in_progress' AND lease_until IS NOT NULL AND {condition}"
        );
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = move_counted(&mut tx, &update, args, "in_progress", "queued")?;
            tx.commit()?;
            Ok(n as usize)
        })
    }

    pub fn promote_due(&self, now: i64) -> Result<usize> {
        let now = self.db_time(now);
        self.with(|c| {
            let mut tx = c.transaction()?;
            let n = move_counted(
                &mut tx,
                "UPDATE tasks SET state = 'queued' WHERE state = 'not_yet_due' AND next_attempt_at <= $1",
                &[&now],
                "not_yet_due",
                "queued",
            )?;
            tx.commit()?;
            Ok(n as usize)
        })
    }

    pub fn not_yet_due(&self) -> Result<(u64, Option<i64>)> {
        self.with(|c| {
            let r = c.query_one("SELECT count(*), min(next_attempt_at) FROM tasks WHERE state = 'not_yet_due'", &[])?;
            let first: Option<i64> = r.get(1);
            Ok((r.get::<_, i64>(0) as u64, first.map(|t| self.local_time(t))))
        })
    }

    pub fn next_wakeup(&self) -> Result<Option<i64>> {
        self.with(|c| {
            let r = c.one(
                "SELECT (SELECT min(next_attempt_at) FROM tasks WHERE state = 'queued'),
                        (SELECT min(lease_until) FROM tasks WHERE state = 'in_progress' AND lease_until IS NOT NULL)",
                &[],
            )?;
            let (due, lease): (Option<i64>, Option<i64>) = (r.get(0), r.get(1));
            // A queued task's 0 ("due at once") stays 0.
            let lease = lease.map(|t| self.local_time(t));
            let due = due.map(|t| if t == 0 { 0 } else { self.local_time(t) });
            Ok(match (due, lease) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            })
        })
    }

    pub fn complete(&self, done: &[Completion]) -> Result<Vec<bool>> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let batch = Batch::of(done, |t| self.db_time(t));
        self.with(|c| {
            // One statement, so no transaction around it: each task whose
            // claim is still current (the fencing token) gets its new state,
            // its price stored (or, for a refreshed day the server no longer
            // prices, the old one deleted), and the counts follow; the rest
            // are left as they are. A task given twice takes the first of
            // its completions that carries its current claim, as one after
            // the other would.
            let b = &batch;
            let settled = c.rows(
                "WITH i AS (
                     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::int[], $5::text[],
                                          $6::bigint[], $7::bool[], $8::float8[], $9::float8[], $10::float8[],
                                          $11::float8[], $12::float8[]) WITH ORDINALITY
                         AS i(id, token, state, counted, error, at, finished, o, h, l, c, v, ord)),
                 current AS (
                     SELECT DISTINCT ON (i.id) i.* FROM i
                     JOIN tasks t ON t.id = i.id AND t.claims = i.token AND t.state = 'in_progress'
                     ORDER BY i.id, i.ord),
                 settled AS (
                     UPDATE tasks t SET state = i.state, attempts = t.attempts + i.counted,
                            last_error = CASE WHEN i.finished THEN i.error ELSE coalesce(i.error, t.last_error) END,
                            next_attempt_at = coalesce(i.at, t.next_attempt_at),
                            finished_at = CASE WHEN i.finished THEN date_trunc('milliseconds', now())
                                               ELSE t.finished_at END,
                            owner = NULL, lease_until = NULL
                     FROM current i WHERE t.id = i.id AND t.claims = i.token AND t.state = 'in_progress'
                     RETURNING i.ord, t.exchange, t.symbol, t.day, i.state, i.o, i.h, i.l, i.c, i.v),
                 priced AS (
                     INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
                     SELECT exchange, symbol, day, o, h, l, c, v, date_trunc('milliseconds', now())
                     FROM settled WHERE state = 'done' ORDER BY exchange, symbol, day
                     ON CONFLICT (exchange, symbol, day) DO UPDATE SET
                        open = excluded.open, high = excluded.high, low = excluded.low,
                        close = excluded.close, volume = excluded.volume, fetched_at = excluded.fetched_at),
                 unpriced AS (
                     DELETE FROM prices p USING settled s
                     WHERE s.state = 'no_data' AND p.exchange = s.exchange AND p.symbol = s.symbol AND p.day = s.day),
                 moved AS (SELECT exchange, symbol, state, count(*) AS n FROM settled GROUP BY exchange, symbol, state),
                 counted AS (
                     INSERT INTO task_count_shards (exchange, symbol, state, shard, n)
                     SELECT exchange, symbol, state, pg_backend_pid() % 8, sum(n) FROM (
                         SELECT exchange, symbol, state, n FROM moved
                         UNION ALL
                         SELECT exchange, symbol, 'in_progress', -n FROM moved) d
                     GROUP BY exchange, symbol, state HAVING sum(n) <> 0
                     ORDER BY 1, 2, 3
                     ON CONFLICT (exchange, symbol, state, shard) DO UPDATE SET n = task_count_shards.n + excluded.n)
                 SELECT ord FROM settled",
                &[
                    &b.ids,
                    &b.tokens,
                    &b.states,
                    &b.counted,
                    &b.errors,
                    &b.at,
                    &b.finished,
                    &b.prices[0],
                    &b.prices[1],
                    &b.prices[2],
                    &b.prices[3],
                    &b.prices[4],
                ],
            )?;
            // Positions in `done`, from 1.
            let applied: std::collections::HashSet<i64> = settled.iter().map(|r| r.get(0)).collect();
            Ok((1..=done.len() as i64).map(|ord| applied.contains(&ord)).collect())
        })
    }

    pub fn pause(&self, server: &str) -> Result<Option<i64>> {
        let until = self.with(|c| {
            Ok(c.opt("SELECT until FROM server_pauses WHERE server = $1", &[&server])?.map(|r| r.get::<_, i64>(0)))
        })?;
        Ok(until.map(|t| self.local_time(t)))
    }

    pub fn set_pause(&self, server: &str, until: i64) -> Result<()> {
        let until = self.db_time(until);
        self.with(|c| {
            c.exec(
                "INSERT INTO server_pauses (server, until) VALUES ($1, $2)
                 ON CONFLICT (server) DO UPDATE SET until = greatest(server_pauses.until, excluded.until)",
                &[&server, &until],
            )?;
            Ok(())
        })
    }

    pub fn reserve_slots(&self, server: &str, n: u32, interval: i64, now: i64) -> Result<i64> {
        let span = interval.saturating_mul(i64::from(n));
        let now = self.db_time(now);
        let first = self.with(|c| {
            // One statement: the row lock it takes orders every host's claims.
            let r = c.one(
                "INSERT INTO server_slots (server, next_slot) VALUES ($1, $2::bigint + $3::bigint)
                 ON CONFLICT (server) DO UPDATE SET next_slot = greatest(server_slots.next_slot, $2::bigint) + $3::bigint
                 RETURNING next_slot - $3::bigint",
                &[&server, &now, &span],
            )?;
            Ok(r.get::<_, i64>(0))
        })?;
        Ok(self.local_time(first))
    }

    pub fn retry_failed(&self, sel: Option<&Selection>, abandoned: bool) -> Result<usize> {
        let states: &[&str] = if abandoned { &["failed", "abandoned"] } else { &["failed"] };
        self.reset(sel, states, "queued", "SET state = 'queued', attempts = 0, next_attempt_at = 0, finished_at = NULL")
    }

    pub fn abandon(&self, sel: Option<&Selection>) -> Result<usize> {
        self.reset(sel, &["failed"], "abandoned", "SET state = 'abandoned'")
    }

    pub fn refresh(&self, sel: &Selection) -> Result<usize> {
        self.reset(
            Some(sel),
            &["done", "no_data", "failed"],
            "queued",
            "SET state = 'queued', attempts = 0, next_attempt_at = 0, finished_at = NULL",
        )
    }

    /// Moves the tasks of the selection (every task for `None`) in each of
    /// `states` to `to`, as `set` says, in one transaction.
    fn reset(&self, sel: Option<&Selection>, states: &[&str], to: &str, set: &str) -> Result<usize> {
        let (condition, args) = in_selection(sel, 2);
        self.with(|c| {
            let mut tx = c.transaction()?;
            let mut n = 0;
            for from in states {
                let update = format!("UPDATE tasks {set} WHERE state = $1{condition}");
                let mut params: Vec<Param<'_>> = vec![from];
                if let Some(a) = &args {
                    params.extend(a.params());
                }
                n += move_counted(&mut tx, &update, &params, from, to)?;
            }
            tx.commit()?;
            Ok(n as usize)
        })
    }

    pub fn recount(&self) -> Result<()> {
        self.with(|c| {
            // The lock waits for every transaction that changed counts to
            // commit, and holds off new ones until the count is in.
            let mut tx = c.transaction()?;
            tx.batch_execute(
                "LOCK TABLE task_count_shards IN EXCLUSIVE MODE;
                 DELETE FROM task_count_shards;
                 INSERT INTO task_count_shards (exchange, symbol, state, shard, n)
                     SELECT exchange, symbol, state, 0, count(*) FROM tasks GROUP BY exchange, symbol, state;",
            )?;
            tx.commit()
        })
    }
}

/// A batch of completions as column arrays, one element per completion.
struct Batch {
    ids: Vec<i64>,
    tokens: Vec<i64>,
    states: Vec<&'static str>,
    /// 1 where the outcome counts as an attempt.
    counted: Vec<i32>,
    errors: Vec<Option<String>>,
    /// The new `next_attempt_at`, or `None` to keep it.
    at: Vec<Option<i64>>,
    /// Whether the task is finished (its error replaces the last one, and
    /// `finished_at` is set).
    finished: Vec<bool>,
    /// Open, high, low, close and volume of a price (zeros for others).
    prices: [Vec<f64>; 5],
}

impl Batch {
    /// `db_time` puts a time on the database server's clock.
    fn of(done: &[Completion], db_time: impl Fn(i64) -> i64) -> Batch {
        let mut b = Batch {
            ids: vec![],
            tokens: vec![],
            states: vec![],
            counted: vec![],
            errors: vec![],
            at: vec![],
            finished: vec![],
            prices: Default::default(),
        };
        for c in done {
            let (state, counted, error, at, finished) = match &c.outcome {
                Outcome::Price(_) => ("done", 1, None, None, true),
                Outcome::NoData => ("no_data", 1, None, None, true),
                Outcome::Failed { error } => ("failed", 1, Some(error.clone()), None, true),
                Outcome::NotYet { note, at, asked } => {
                    ("not_yet_due", i32::from(*asked), note.clone(), Some(db_time(*at)), false)
                }
                Outcome::Retry { error, at } => ("queued", 1, Some(error.clone()), Some(db_time(*at)), false),
                Outcome::Defer { error, at } => ("queued", 0, Some(error.clone()), Some(db_time(*at)), false),
                Outcome::Released => ("queued", 0, None, Some(0), false),
            };
            b.ids.push(c.task.id);
            b.tokens.push(c.task.token);
            b.states.push(state);
            b.counted.push(counted);
            b.errors.push(error);
            b.at.push(at);
            b.finished.push(finished);
            let price = match &c.outcome {
                Outcome::Price(p) => [p.open, p.high, p.low, p.close, p.volume],
                _ => [0.0; 5],
            };
            for (column, v) in b.prices.iter_mut().zip(price) {
                column.push(v);
            }
        }
        b
    }
}
