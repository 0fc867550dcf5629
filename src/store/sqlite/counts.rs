//! `task_counts`, kept in step with `tasks` in the same transactions: what
//! `status` reads instead of counting a million tasks.

use std::collections::HashMap;

use anyhow::Result;
use rusqlite::{params, Transaction};

use crate::selection::Selection;
use crate::store::TaskState;

/// Runs `sql`, an UPDATE that moves tasks from state `from` to `to` and
/// returns their exchange and symbol, and keeps `task_counts` in step.
pub(super) fn move_counted(
    tx: &Transaction<'_>,
    sql: &str,
    args: &[&dyn rusqlite::ToSql],
    from: TaskState,
    to: TaskState,
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

/// Runs `update` (an UPDATE ... WHERE ...) on the tasks of the selection,
/// or on every task when `None`, moving them from `from` to `to`.
pub(super) fn in_selection(
    tx: &Transaction<'_>,
    update: &str,
    sel: Option<&Selection>,
    from: TaskState,
    to: TaskState,
) -> Result<usize> {
    let Some(sel) = sel else {
        return move_counted(tx, &format!("{update} RETURNING exchange, symbol"), &[], from, to);
    };
    let sql =
        format!("{update} AND exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 RETURNING exchange, symbol");
    let mut n = 0;
    for p in &sel.pairs {
        n += move_counted(tx, &sql, params![p.exchange, p.symbol, sel.from, sel.to], from, to)?;
    }
    Ok(n)
}

/// Changes to `task_counts`, gathered over a transaction and written once.
#[derive(Default)]
pub(super) struct Counts(HashMap<(String, String, TaskState), i64>);

impl Counts {
    pub(super) fn add(&mut self, exchange: &str, symbol: &str, state: TaskState, n: i64) {
        if n != 0 {
            *self.0.entry((exchange.to_string(), symbol.to_string(), state)).or_insert(0) += n;
        }
    }

    pub(super) fn moved(&mut self, exchange: &str, symbol: &str, from: TaskState, to: TaskState) {
        if from != to {
            self.add(exchange, symbol, from, -1);
            self.add(exchange, symbol, to, 1);
        }
    }

    /// Writes the changes; returns the net change (tasks added).
    pub(super) fn write(self, tx: &Transaction<'_>) -> Result<i64> {
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
