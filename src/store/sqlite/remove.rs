//! Removing the tasks of a selection, and their prices when asked, on
//! SQLite: `task_counts` kept in step in the same transaction.

use anyhow::{Context, Result};
use rusqlite::params;

use super::counts::{Counted, KEY};
use super::Db;
use crate::selection::Selection;

/// The cells of one pair over the selection's days at its interval (`?6`),
/// of the sources `?5` names as a JSON array (any source for NULL).
const TASKS: &str = "FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND interval = ?6 AND day BETWEEN ?3 AND ?4
                     AND (?5 IS NULL OR source IN (SELECT value FROM json_each(?5)))";

/// The prices of those cells (the daily candles: none at an interval below
/// a day): with sources, the prices whose task is theirs.
const PRICES: &str = "FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 AND ?6 = '1d'
                      AND (?5 IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.exchange = prices.exchange
                          AND t.symbol = prices.symbol AND t.interval = '1d' AND t.day = prices.day
                          AND t.source IN (SELECT value FROM json_each(?5))))";

/// The candles of those cells (at an interval below a day; none at `1d`):
/// with sources, those of the days whose task is theirs.
const CANDLES: &str = "FROM series_candles
                       WHERE series = (SELECT id FROM series WHERE exchange = ?1 AND symbol = ?2 AND interval = ?6)
                         AND minute >= unixepoch(?3) / 60 AND minute < unixepoch(?4, '+1 day') / 60
                         AND (?5 IS NULL OR EXISTS (SELECT 1 FROM tasks t
                             WHERE t.exchange = ?1 AND t.symbol = ?2 AND t.interval = ?6
                               AND t.day = strftime('%Y-%m-%d', series_candles.minute * 60, 'unixepoch')
                               AND t.source IN (SELECT value FROM json_each(?5))))";

/// The sources as `?5` takes them.
fn sources_param(sources: &[String]) -> Result<Option<String>> {
    Ok(if sources.is_empty() { None } else { Some(serde_json::to_string(sources)?) })
}

impl Db {
    pub fn to_remove(&self, sel: &Selection, sources: &[String]) -> Result<(u64, u64)> {
        let source = sources_param(sources)?;
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let (mut tasks, mut prices) = (0, 0);
        {
            let mut count_tasks = tx.prepare_cached(&format!("SELECT count(*) {TASKS}"))?;
            let mut count_prices = tx.prepare_cached(&format!("SELECT count(*) {PRICES}"))?;
            let mut count_candles = tx.prepare_cached(&format!("SELECT count(*) {CANDLES}"))?;
            for p in &sel.pairs {
                let args = params![p.exchange, p.symbol, sel.from, sel.to, source, sel.interval];
                tasks += count_tasks.query_row(args, |r| r.get::<_, i64>(0))? as u64;
                prices += count_prices.query_row(args, |r| r.get::<_, i64>(0))? as u64;
                prices += count_candles.query_row(args, |r| r.get::<_, i64>(0))? as u64;
            }
        }
        Ok((tasks, prices))
    }

    pub fn remove(&self, sel: &Selection, sources: &[String], prices: bool) -> Result<(u64, u64)> {
        let source = sources_param(sources)?;
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        let (mut tasks, mut priced) = (0, 0);
        {
            // The prices first: with a source, their tasks say which go.
            let delete_prices = format!("DELETE {PRICES}");
            let delete_candles = format!("DELETE {CANDLES}");
            let delete_tasks = format!("DELETE {TASKS} RETURNING {KEY}, state");
            for p in &sel.pairs {
                let (exchange, symbol) = (p.exchange.as_str(), p.symbol.as_str());
                let args = params![exchange, symbol, sel.from, sel.to, source, sel.interval];
                if prices {
                    priced += tx.tx().prepare_cached(&delete_prices)?.execute(args)? as u64;
                    priced += tx.tx().prepare_cached(&delete_candles)?.execute(args)? as u64;
                }
                tasks += tx.delete(&delete_tasks, args)? as u64;
            }
        }
        tx.commit().context("committing the removal")?;
        Ok((tasks, priced))
    }
}
