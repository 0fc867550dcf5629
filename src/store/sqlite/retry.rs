//! Moves of many tasks on SQLite (retry, abandon, refresh, as
//! [`Move`] says), and counting the tasks afresh.

use super::counts::{self, Counted};
use super::Db;
use crate::selection::Selection;
use crate::store::state::{sql, Move};
use anyhow::Result;

impl Db {
    pub fn move_tasks(&self, sel: Option<&Selection>, m: Move) -> Result<usize> {
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        let mut n = 0;
        for &from in m.from {
            // The states as literals, so a move of every failed task walks
            // the `tasks_failed` index rather than the whole table.
            let update = format!("UPDATE tasks SET {} WHERE state = '{from}'", sql::set(m));
            n += tx.update_in(&update, sel, from, m.to)?;
        }
        tx.commit()?;
        Ok(n)
    }

    pub fn recount(&self) -> Result<()> {
        let mut conn = self.conn()?;
        counts::recount(&mut conn)
    }
}
