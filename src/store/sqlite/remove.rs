//! Removing the tasks of a selection, and their prices when asked, on
//! SQLite: `task_counts` kept in step in the same transaction.

use anyhow::{Context, Result};
use rusqlite::{params, TransactionBehavior};

use super::counts::Counts;
use super::Db;
use crate::selection::Selection;
use crate::store::TaskState;

/// The cells of one pair over the selection's days, of the source `?5`
/// names (any source for NULL).
const TASKS: &str = "FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4
                     AND (?5 IS NULL OR source = ?5)";

/// The prices of those cells: with a source, the prices whose task it is.
const PRICES: &str = "FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4
                      AND (?5 IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.exchange = prices.exchange
                          AND t.symbol = prices.symbol AND t.day = prices.day AND t.source = ?5))";

impl Db {
    pub fn to_remove(&self, sel: &Selection, source: Option<&str>) -> Result<(u64, u64)> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let (mut tasks, mut prices) = (0, 0);
        {
            let mut count_tasks = tx.prepare_cached(&format!("SELECT count(*) {TASKS}"))?;
            let mut count_prices = tx.prepare_cached(&format!("SELECT count(*) {PRICES}"))?;
            for (exchange, symbol) in sel.pairs() {
                let args = params![exchange, symbol, sel.from, sel.to, source];
                tasks += count_tasks.query_row(args, |r| r.get::<_, i64>(0))? as u64;
                prices += count_prices.query_row(args, |r| r.get::<_, i64>(0))? as u64;
            }
        }
        Ok((tasks, prices))
    }

    pub fn remove(&self, sel: &Selection, source: Option<&str>, prices: bool) -> Result<(u64, u64)> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut counts = Counts::default();
        let (mut tasks, mut priced) = (0, 0);
        {
            // The prices first: with a source, their tasks say which go.
            let mut delete_prices = tx.prepare_cached(&format!("DELETE {PRICES}"))?;
            let mut by_state = tx.prepare_cached(&format!("SELECT state, count(*) {TASKS} GROUP BY state"))?;
            let mut delete_tasks = tx.prepare_cached(&format!("DELETE {TASKS}"))?;
            for (exchange, symbol) in sel.pairs() {
                let args = params![exchange, symbol, sel.from, sel.to, source];
                if prices {
                    priced += delete_prices.execute(args)? as u64;
                }
                let mut rows = by_state.query(args)?;
                while let Some(r) = rows.next()? {
                    counts.add(exchange, symbol, r.get::<_, TaskState>(0)?, -r.get::<_, i64>(1)?);
                }
                tasks += delete_tasks.execute(args)? as u64;
            }
        }
        counts.write(&tx)?;
        tx.commit().context("committing the removal")?;
        Ok((tasks, priced))
    }
}
