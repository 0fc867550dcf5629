//! Moves of many tasks on PostgreSQL (retry, abandon, refresh, as
//! [`Move`] says), and counting the tasks afresh.

use anyhow::Result;
use r2d2_postgres::postgres::types::ToSql;

use super::counts::in_selection;
use super::Db;
use crate::selection::Selection;
use crate::store::state::{sql, Move};

type Param<'a> = &'a (dyn ToSql + Sync);

impl Db {
    pub fn move_tasks(&self, sel: Option<&Selection>, m: Move) -> Result<usize> {
        let (condition, args) = in_selection(sel, 2);
        let update = format!("UPDATE tasks SET {} WHERE state = $1{condition}", sql::set(m));
        self.with(|c| {
            let mut tx = c.transaction()?;
            let mut n = 0;
            for from in m.from {
                let name = from.name();
                let mut params: Vec<Param<'_>> = vec![&name];
                if let Some(a) = &args {
                    params.extend(a.params());
                }
                n += tx.execute(&update, &params)?;
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
                 INSERT INTO task_count_shards (exchange, symbol, interval, source, state, shard, n)
                     SELECT exchange, symbol, interval, source, state, 0, count(*) FROM tasks
                     GROUP BY exchange, symbol, interval, source, state;",
            )?;
            tx.commit()
        })
    }
}
