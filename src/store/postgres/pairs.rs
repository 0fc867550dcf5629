//! What the page opens on, on PostgreSQL: the pair fetched last, and the
//! source of each pair, each read by probes of an index, never a whole table.

use anyhow::Result;
use const_format::formatcp;

use super::Db;

/// The distinct (exchange, symbol) pairs of `prices`, as the rows `(e, s)`
/// of the CTE `pairs`, found by a loose index scan of the primary key: one
/// probe per pair, however many prices. `pairs` and `latest_pair` each
/// select from it.
pub(super) const PRICE_PAIRS: &str = "WITH RECURSIVE pairs(e, s) AS (
     (SELECT exchange, symbol FROM prices ORDER BY exchange, symbol LIMIT 1)
     UNION ALL
     SELECT n.exchange, n.symbol FROM pairs,
         LATERAL (SELECT exchange, symbol FROM prices WHERE (exchange, symbol) > (pairs.e, pairs.s)
                  ORDER BY exchange, symbol LIMIT 1) n)";

impl Db {
    pub fn latest_pair(&self) -> Result<Option<(String, String)>> {
        self.with(|c| {
            // The prices' pairs by a loose index scan (as `pairs` finds
            // them), then each pair's last day, one probe each.
            let row = c.query_opt(
                formatcp!(
                    "{PRICE_PAIRS} SELECT e, s FROM pairs,
                     LATERAL (SELECT fetched_at FROM prices WHERE exchange = e AND symbol = s
                              ORDER BY day DESC LIMIT 1) last
                 ORDER BY last.fetched_at DESC, e, s
                 LIMIT 1"
                ),
                &[],
            )?;
            Ok(row.map(|r| (r.get(0), r.get(1))))
        })
    }

    pub fn pair_sources(&self) -> Result<Vec<(String, String, String)>> {
        self.with(|c| {
            // Each pair's source is that of its first task, found through
            // the (exchange, symbol, interval, day) index at each interval,
            // the earliest of them kept.
            let rows = c.query(
                "SELECT c.exchange, c.symbol, (array_agg(t.source ORDER BY t.day))[1]
                 FROM (SELECT DISTINCT exchange, symbol, interval FROM task_count_shards) c,
                     LATERAL (SELECT source, day FROM tasks
                              WHERE exchange = c.exchange AND symbol = c.symbol AND interval = c.interval
                              ORDER BY day LIMIT 1) t
                 GROUP BY c.exchange, c.symbol ORDER BY c.exchange, c.symbol",
                &[],
            )?;
            Ok(rows.into_iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
        })
    }
}
