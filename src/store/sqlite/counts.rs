//! `task_counts` on SQLite: tasks by (exchange, symbol, interval, source, state),
//! what `status` and a run's start read instead of the queue. Every
//! change pricequeue makes to a task goes through [`Counted`], the one
//! place that keeps the counts in step, in the same transaction: no other
//! file writes them. (Triggers would keep them for hand edits too, but
//! made an enqueue of a million tasks 1.6 times as slow: 3.4-3.6 s
//! against 2.1-2.2 s; after changing `tasks` by hand, run
//! `pricequeue status --recount`.)

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::{params, Connection, Row, Transaction, TransactionBehavior};

use crate::interval::Interval;
use crate::selection::Selection;
use crate::store::{Task, TaskState};

/// What a task is counted under, as a `RETURNING` list gives it to
/// [`Counted::update`] (with the state after it, for [`Counted::delete`]).
pub(super) const KEY: &str = "exchange, symbol, interval, source";

/// A count's key: exchange, symbol, interval, source, state.
type CountKey = (String, String, Interval, String, TaskState);

/// A write transaction on `tasks`: each statement that adds, moves or
/// removes tasks runs through it, and the counts it gathers are written
/// at [`Counted::commit`]. Statements that touch no task's state (prices,
/// leases) run on [`Counted::tx`].
pub(super) struct Counted<'c> {
    tx: Transaction<'c>,
    tally: HashMap<CountKey, i64>,
}

impl<'c> Counted<'c> {
    /// Begins an IMMEDIATE transaction: a writer that reads first must see
    /// the snapshot it writes to.
    pub(super) fn begin(conn: &'c mut Connection) -> Result<Counted<'c>> {
        Ok(Counted { tx: conn.transaction_with_behavior(TransactionBehavior::Immediate)?, tally: HashMap::new() })
    }

    /// The transaction, for statements that change no task's state.
    pub(super) fn tx(&self) -> &Transaction<'c> {
        &self.tx
    }

    fn add(&mut self, (exchange, symbol, interval, source): (&str, &str, Interval, &str), state: TaskState, n: i64) {
        if n != 0 {
            let key = (exchange.to_string(), symbol.to_string(), interval, source.to_string(), state);
            *self.tally.entry(key).or_insert(0) += n;
        }
    }

    /// Runs `sql`, an INSERT of tasks of one (exchange, symbol, interval,
    /// source) in `state`; returns how many it added.
    pub(super) fn insert(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        key: (&str, &str, Interval, &str),
        state: TaskState,
    ) -> Result<usize> {
        let n = self.tx.prepare_cached(sql)?.execute(args)?;
        self.add(key, state, n as i64);
        Ok(n)
    }

    /// Runs `sql`, an UPDATE of tasks in state `from` to `to` that returns
    /// each moved task's [`KEY`]; returns how many moved.
    pub(super) fn update(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        from: TaskState,
        to: TaskState,
    ) -> Result<usize> {
        let moved: Vec<(String, String, Interval, String)> =
            self.update_returning(sql, args, from, to, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        Ok(moved.len())
    }

    /// Runs `sql`, an UPDATE of tasks in state `from` to `to` that returns
    /// rows `read` makes into what it returns, each of them keyed.
    pub(super) fn update_returning<T: Keyed>(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        from: TaskState,
        to: TaskState,
        read: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let moved: Vec<T> = {
            let mut stmt = self.tx.prepare_cached(sql)?;
            let rows = stmt.query_map(args, read)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        if from != to {
            for t in &moved {
                self.add(t.key(), from, -1);
                self.add(t.key(), to, 1);
            }
        }
        Ok(moved)
    }

    /// Runs `update` (an UPDATE ... WHERE ... of tasks in state `from`, to
    /// `to`) on the tasks of the selection (at its interval), or on every
    /// task for `None`.
    pub(super) fn update_in(
        &mut self,
        update: &str,
        sel: Option<&Selection>,
        from: TaskState,
        to: TaskState,
    ) -> Result<usize> {
        let Some(sel) = sel else {
            return self.update(&format!("{update} RETURNING {KEY}"), &[], from, to);
        };
        let sql = format!(
            "{update} AND exchange = ?1 AND symbol = ?2 AND interval = ?5 AND day BETWEEN ?3 AND ?4 RETURNING {KEY}"
        );
        let mut n = 0;
        for p in &sel.pairs {
            n += self.update(&sql, params![p.exchange, p.symbol, sel.from, sel.to, sel.interval], from, to)?;
        }
        Ok(n)
    }

    /// Runs `sql`, a DELETE of tasks that returns each one's [`KEY`] and
    /// state; returns how many went.
    pub(super) fn delete(&mut self, sql: &str, args: &[&dyn rusqlite::ToSql]) -> Result<usize> {
        let gone: Vec<CountKey> = {
            let mut stmt = self.tx.prepare_cached(sql)?;
            let rows = stmt.query_map(args, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        for (e, s, i, src, state) in &gone {
            self.add((e, s, *i, src), *state, -1);
        }
        Ok(gone.len())
    }

    /// Runs `sql`, a change of any tasks of the pairs `pairs` selects
    /// (a query of exchange and symbol, with `args`), and counts those
    /// pairs again: for `copy`, whose rows arrive in any state.
    pub(super) fn any_change(&mut self, sql: &str, pairs: &str, args: &[&dyn rusqlite::ToSql]) -> Result<usize> {
        let n = self.tx.execute(sql, args)?;
        self.tx.execute(&format!("DELETE FROM task_counts WHERE (exchange, symbol) IN ({pairs})"), args)?;
        self.tx.execute(
            &format!(
                "INSERT INTO task_counts (exchange, symbol, interval, source, state, n)
                 SELECT exchange, symbol, interval, source, state, count(*) FROM tasks
                 WHERE (exchange, symbol) IN ({pairs})
                 GROUP BY exchange, symbol, interval, source, state"
            ),
            args,
        )?;
        Ok(n)
    }

    /// Writes the counts gathered, then commits.
    pub(super) fn commit(self) -> Result<()> {
        {
            let mut upsert = self.tx.prepare_cached(
                "INSERT INTO task_counts (exchange, symbol, interval, source, state, n) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (exchange, symbol, interval, source, state) DO UPDATE SET n = n + excluded.n",
            )?;
            for ((e, s, i, src, state), n) in &self.tally {
                if *n != 0 {
                    upsert.execute(params![e, s, i, src, state, n])?;
                }
            }
        }
        self.tx.commit()?;
        Ok(())
    }
}

/// Counts every task again, for after hand edits.
pub(super) fn recount(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute_batch(
        "DELETE FROM task_counts;
         INSERT INTO task_counts (exchange, symbol, interval, source, state, n)
             SELECT exchange, symbol, interval, source, state, count(*) FROM tasks
             GROUP BY exchange, symbol, interval, source, state;",
    )?;
    tx.commit()?;
    Ok(())
}

/// What a task is counted under: its exchange, symbol, interval and source.
pub(super) trait Keyed {
    fn key(&self) -> (&str, &str, Interval, &str);
}

impl Keyed for Task {
    fn key(&self) -> (&str, &str, Interval, &str) {
        (&self.exchange, &self.symbol, self.interval, &self.source)
    }
}

impl Keyed for (String, String, Interval, String) {
    fn key(&self) -> (&str, &str, Interval, &str) {
        (&self.0, &self.1, self.2, &self.3)
    }
}
