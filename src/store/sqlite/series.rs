//! Candles below a day on SQLite: finding or making a series, and writing
//! a completed day's candles in the completion's transaction.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use rusqlite::{params, Connection, Transaction};

use super::Db;
use crate::interval::Interval;
use crate::store::series::{day_minutes, Write};

impl Db {
    /// The id of the series (exchange, symbol, interval): from this
    /// process's cache, else found or made in a transaction of its own,
    /// committed before the id is cached (see `SeriesIds`).
    pub(super) fn series_id(&self, conn: &Connection, exchange: &str, symbol: &str, interval: Interval) -> Result<i64> {
        if let Some(id) = self.series.get(exchange, symbol, interval) {
            return Ok(id);
        }
        conn.prepare_cached(
            "INSERT INTO series (exchange, symbol, interval) VALUES (?1, ?2, ?3)
             ON CONFLICT (exchange, symbol, interval) DO NOTHING",
        )?
        .execute(params![exchange, symbol, interval])
        .with_context(|| format!("making the series {exchange} {symbol} {interval}"))?;
        let id: i64 = conn
            .prepare_cached("SELECT id FROM series WHERE exchange = ?1 AND symbol = ?2 AND interval = ?3")?
            .query_row(params![exchange, symbol, interval], |r| r.get(0))?;
        self.series.put(exchange, symbol, interval, id);
        Ok(id)
    }
}

/// Writes `write` for the day `day` of series `id`, in `tx`: the day's
/// candles deleted first where it clears them, then each candle inserted
/// (replacing one of the same minute), by statements prepared once per
/// connection.
pub(super) fn write(tx: &Transaction<'_>, id: i64, day: NaiveDate, write: &Write<'_>) -> Result<()> {
    if write.clears() {
        let (first, end) = day_minutes(day);
        tx.prepare_cached("DELETE FROM series_candles WHERE series = ?1 AND minute >= ?2 AND minute < ?3")?
            .execute(params![id, first, end])?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR REPLACE INTO series_candles (series, minute, open, high, low, close, volume)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for c in write.candles() {
        let p = &c.price;
        insert.execute(params![id, c.minute, p.open, p.high, p.low, p.close, p.volume])?;
    }
    Ok(())
}
