//! Moves of many tasks on SQLite (retry, abandon, refresh, as
//! [`Move`] says), and counting the tasks afresh.

use anyhow::Result;
use rusqlite::TransactionBehavior;

use super::counts::in_selection;
use super::Db;
use crate::selection::Selection;
use crate::store::state::{sql, Move};

impl Db {
    pub fn move_tasks(&self, sel: Option<&Selection>, m: Move) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        for &from in m.from {
            // The states as literals, so a move of every failed task walks
            // the `tasks_failed` index rather than the whole table.
            let update = format!("UPDATE tasks SET {} WHERE state = '{from}'", sql::set(m));
            n += in_selection(&tx, &update, sel, from, m.to)?;
        }
        tx.commit()?;
        Ok(n)
    }

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
}
