//! Removing the tasks of a selection, and their prices when asked, on
//! PostgreSQL: one transaction (the counts follow by trigger).

use anyhow::Result;

use super::counts::SelectionParams;
use super::Db;
use crate::selection::Selection;

/// The tasks of the selection's pairs (`$1`, `$2`: the i-th exchange and
/// symbol one pair) at its interval (`$5`), of the sources `$6` names (any
/// for NULL).
const TASKS: &str = "FROM tasks WHERE (exchange, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                     AND interval = $5 AND day BETWEEN $3 AND $4 AND ($6::text[] IS NULL OR source = ANY($6))";

/// The prices of those cells (the daily candles: none at an interval below
/// a day): with sources, the prices whose task is theirs.
const PRICES: &str = "FROM prices p WHERE (exchange, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                      AND day BETWEEN $3 AND $4 AND $5 = '1d'
                      AND ($6::text[] IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.exchange = p.exchange
                          AND t.symbol = p.symbol AND t.interval = '1d' AND t.day = p.day AND t.source = ANY($6)))";

/// The candles of those cells (at an interval below a day; none at `1d`):
/// with sources, those of the days whose task is theirs.
const CANDLES: &str = "FROM series_candles c
                       WHERE c.series IN (SELECT id FROM series WHERE interval = $5
                                          AND (exchange, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[])))
                         AND c.minute >= (extract(epoch FROM $3::date::timestamp) / 60)::int
                         AND c.minute < (extract(epoch FROM ($4::date + 1)::timestamp) / 60)::int
                         AND ($6::text[] IS NULL OR EXISTS (
                             SELECT 1 FROM series s JOIN tasks t ON t.exchange = s.exchange AND t.symbol = s.symbol
                                                                AND t.interval = s.interval
                             WHERE s.id = c.series AND t.source = ANY($6)
                               AND t.day = (to_timestamp(c.minute * 60::float8) AT TIME ZONE 'UTC')::date))";

impl Db {
    pub fn to_remove(&self, sel: &Selection, sources: &[String]) -> Result<(u64, u64)> {
        let p = SelectionParams::of(sel);
        let source = (!sources.is_empty()).then(|| sources.to_vec());
        let sql = format!("SELECT (SELECT count(*) {TASKS}), (SELECT count(*) {PRICES}) + (SELECT count(*) {CANDLES})");
        self.with(|c| {
            let [e, s, from, to, interval] = p.params();
            let row = c.query_one(&sql, &[e, s, from, to, interval, &source])?;
            Ok((row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64))
        })
    }

    pub fn remove(&self, sel: &Selection, sources: &[String], prices: bool) -> Result<(u64, u64)> {
        let p = SelectionParams::of(sel);
        let source = (!sources.is_empty()).then(|| sources.to_vec());
        let delete_prices = format!("DELETE {PRICES}");
        let delete_candles = format!("DELETE {CANDLES}");
        let delete_tasks = format!("DELETE {TASKS}");
        self.with(|c| {
            let [e, s, from, to, interval] = p.params();
            let args: [&(dyn r2d2_postgres::postgres::types::ToSql + Sync); 6] = [e, s, from, to, interval, &source];
            let mut tx = c.transaction()?;
            // The prices first: with a source, their tasks say which go.
            let priced =
                if prices { tx.execute(&delete_prices, &args)? + tx.execute(&delete_candles, &args)? } else { 0 };
            let tasks = tx.execute(&delete_tasks, &args)?;
            tx.commit()?;
            Ok((tasks, priced))
        })
    }
}
