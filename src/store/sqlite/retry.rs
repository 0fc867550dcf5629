//! Sending finished tasks back to the queue (retry, refresh), giving up on
//! failures for good, and counting the tasks afresh.

use anyhow::Result;
use rusqlite::{params, TransactionBehavior};

use super::counts::{in_selection, Counts};
use super::Db;
use crate::selection::Selection;

impl Db {
    /// Queues failed tasks again with a fresh set of attempts: those of the
    /// selection, or every one when `None`; with `abandoned`, the abandoned
    /// ones too. One transaction.
    pub fn retry_failed(&self, sel: Option<&Selection>, abandoned: bool) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut n = 0;
        let states: &[&'static str] = if abandoned { &["failed", "abandoned"] } else { &["failed"] };
        for from in states {
            let reset = format!(
                "UPDATE tasks SET state = 'queued', attempts = 0, next_attempt_at = 0, finished_at = NULL
                 WHERE state = '{from}'"
            );
            n += in_selection(&tx, &reset, sel, from, "queued")?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Gives up on failed tasks for good (`retry --never`): those of the
    /// selection, or every one when `None`. They keep their error, and no
    /// run fetches them again or counts them as failures.
    pub fn abandon(&self, sel: Option<&Selection>) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let n = in_selection(
            &tx,
            "UPDATE tasks SET state = 'abandoned' WHERE state = 'failed'",
            sel,
            "failed",
            "abandoned",
        )?;
        tx.commit()?;
        Ok(n)
    }

    /// Queues the finished tasks of the selection again (done, no data or
    /// failed), to fetch them afresh; returns how many. One transaction.
    pub fn refresh(&self, sel: &Selection) -> Result<usize> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut counts = Counts::default();
        let mut total = 0;
        {
            let mut stmt = tx.prepare_cached(
                "UPDATE tasks SET state = 'queued', attempts = 0, next_attempt_at = 0, finished_at = NULL
                 WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 AND state = ?5",
            )?;
            for (exchange, symbol) in sel.pairs() {
                for state in ["done", "no_data", "failed"] {
                    let n = stmt.execute(params![exchange, symbol, sel.from, sel.to, state])?;
                    counts.add(exchange, symbol, state, -(n as i64));
                    counts.add(exchange, symbol, "queued", n as i64);
                    total += n;
                }
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
}
