//! Reads for the reports: task counts by state, failures, and the names
//! and days a database holds.

use anyhow::Result;
use chrono::NaiveDate;
use rusqlite::params;

use super::Db;
use crate::selection::Selection;
use crate::store::{FailedTask, StateCounts};

impl Db {
    /// Task counts by state over the whole queue.
    pub fn counts(&self) -> Result<StateCounts> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT state, sum(n) FROM task_counts GROUP BY state")?;
        let mut counts = StateCounts::default();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            counts.add(&r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64);
        }
        counts.came_due(self.came_due()?.iter().map(|(_, _, n)| n).sum());
        Ok(counts)
    }

    /// The `not_yet_due` tasks whose time has come, by (exchange, symbol):
    /// reports show them as queued, which the next run makes them.
    fn came_due(&self) -> Result<Vec<(String, String, u64)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT exchange, symbol, count(*) FROM tasks INDEXED BY tasks_not_yet_due
             WHERE state = 'not_yet_due' AND next_attempt_at <= ?1 GROUP BY exchange, symbol",
        )?;
        let rows = stmt
            .query_map(params![crate::clock::now_ms()], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, i64>(2)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Task counts by state of the selection's tasks, read in one transaction.
    pub fn counts_in(&self, sel: &Selection) -> Result<StateCounts> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut counts = StateCounts::default();
        {
            let mut stmt = tx.prepare_cached(
                "SELECT state, count(*) FROM tasks
                 WHERE exchange = ?1 AND symbol = ?2 AND day BETWEEN ?3 AND ?4 GROUP BY state",
            )?;
            for (exchange, symbol) in sel.pairs() {
                let mut rows = stmt.query(params![exchange, symbol, sel.from, sel.to])?;
                while let Some(r) = rows.next()? {
                    counts.add(&r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64);
                }
            }
        }
        Ok(counts)
    }

    /// Task counts by state for each (exchange, symbol), in name order.
    pub fn counts_by_pair(&self) -> Result<Vec<(String, String, StateCounts)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached(
            "SELECT exchange, symbol, state, n FROM task_counts WHERE n <> 0 ORDER BY exchange, symbol",
        )?;
        let mut out: Vec<(String, String, StateCounts)> = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (exchange, symbol): (String, String) = (r.get(0)?, r.get(1)?);
            if !matches!(out.last(), Some((e, s, _)) if *e == exchange && *s == symbol) {
                out.push((exchange, symbol, StateCounts::default()));
            }
            if let Some((_, _, counts)) = out.last_mut() {
                counts.add(&r.get::<_, String>(2)?, r.get::<_, i64>(3)?.max(0) as u64);
            }
        }
        for (exchange, symbol, n) in self.came_due()? {
            if let Some((_, _, counts)) = out.iter_mut().find(|(e, s, _)| *e == exchange && *s == symbol) {
                counts.came_due(n);
            }
        }
        Ok(out)
    }

    /// The most recently failed tasks, newest first, at most `limit`.
    pub fn failures(&self, sel: Option<&Selection>, limit: usize) -> Result<Vec<FailedTask>> {
        let conn = self.conn()?;
        // The names as JSON arrays; without a selection, every name and day.
        let (exchanges, symbols, from, to) = match sel {
            Some(sel) => (
                Some(serde_json::to_string(&sel.exchanges)?),
                Some(serde_json::to_string(&sel.symbols)?),
                sel.from.to_string(),
                sel.to.to_string(),
            ),
            None => (None, None, "0000-01-01".to_string(), "9999-12-31".to_string()),
        };
        let mut stmt = conn.prepare_cached(
            "SELECT exchange, symbol, day, attempts, coalesce(last_error, '') FROM tasks INDEXED BY tasks_failed
             WHERE state = 'failed'
               AND (?2 IS NULL OR exchange IN (SELECT value FROM json_each(?2)))
               AND (?3 IS NULL OR symbol IN (SELECT value FROM json_each(?3)))
               AND day BETWEEN ?4 AND ?5
             ORDER BY finished_at DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit as i64, exchanges, symbols, from, to], |r| {
            Ok(FailedTask {
                exchange: r.get(0)?,
                symbol: r.get(1)?,
                day: r.get(2)?,
                attempts: r.get(3)?,
                error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The exchanges and the symbols that appear in the queue or the prices.
    pub fn names(&self) -> Result<(Vec<String>, Vec<String>)> {
        let conn = self.conn()?;
        // The queue's names are in task_counts; the prices' are found by a
        // skip scan of their primary key, one probe per distinct pair, so a
        // million prices cost no more than a few.
        let mut stmt = conn.prepare_cached(
            "WITH RECURSIVE pairs(e, s) AS (
                 SELECT * FROM (SELECT exchange, symbol FROM prices ORDER BY exchange, symbol LIMIT 1)
                 UNION ALL
                 SELECT (SELECT exchange FROM prices WHERE (exchange, symbol) > (pairs.e, pairs.s)
                         ORDER BY exchange, symbol LIMIT 1),
                        (SELECT symbol FROM prices WHERE (exchange, symbol) > (pairs.e, pairs.s)
                         ORDER BY exchange, symbol LIMIT 1)
                 FROM pairs WHERE pairs.e IS NOT NULL)
             SELECT e, s FROM pairs WHERE e IS NOT NULL
             UNION SELECT exchange, symbol FROM task_counts",
        )?;
        let mut exchanges = std::collections::BTreeSet::new();
        let mut symbols = std::collections::BTreeSet::new();
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            exchanges.insert(r.get::<_, String>(0)?);
            symbols.insert(r.get::<_, String>(1)?);
        }
        Ok((exchanges.into_iter().collect(), symbols.into_iter().collect()))
    }

    /// The first and last day of any task or price of these exchanges and
    /// symbols, read in one transaction.
    pub fn day_bounds(&self, exchanges: &[String], symbols: &[String]) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut bounds: Option<(NaiveDate, NaiveDate)> = None;
        for exchange in exchanges {
            for symbol in symbols {
                if let Some((lo, hi)) = pair_bounds(&tx, exchange, symbol)? {
                    bounds = Some(bounds.map_or((lo, hi), |(a, b)| (lo.min(a), hi.max(b))));
                }
            }
        }
        Ok(bounds)
    }
}

/// The first and last day of any task or price of (exchange, symbol).
fn pair_bounds(tx: &rusqlite::Transaction<'_>, exchange: &str, symbol: &str) -> Result<Option<(NaiveDate, NaiveDate)>> {
    let mut stmt = tx.prepare_cached(
        "SELECT min(lo), max(hi) FROM (
             SELECT min(day) AS lo, max(day) AS hi FROM tasks WHERE exchange = ?1 AND symbol = ?2
             UNION ALL
             SELECT min(day), max(day) FROM prices WHERE exchange = ?1 AND symbol = ?2)",
    )?;
    let (lo, hi): (Option<NaiveDate>, Option<NaiveDate>) =
        stmt.query_row(params![exchange, symbol], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(lo.zip(hi))
}
