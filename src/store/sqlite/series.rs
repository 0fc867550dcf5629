//! Candles below a day on SQLite: finding or making a series, and writing
//! a completed day's candles in the completion's transaction.

use std::sync::OnceLock;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use rusqlite::{params, Connection, Transaction};

use super::Db;
use crate::interval::Interval;
use crate::price::Candle;
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

/// Candles a multi-row INSERT takes: one statement step per 64 candles
/// instead of one per candle (7 x 64 parameters, far under SQLite's
/// 32,766).
const ROWS: usize = 64;

/// Inserts `n` candles, each replacing one of the same series and minute.
fn insert(n: usize) -> String {
    let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; n].join(", ");
    format!("INSERT OR REPLACE INTO series_candles (series, minute, open, high, low, close, volume) VALUES {rows}")
}

/// Writes `write` for the day `day` of series `id`, in `tx`: the day's
/// candles deleted first where it clears them, then every candle inserted
/// (replacing one of the same minute), 64 to a statement, by statements
/// prepared once per connection.
pub(super) fn write(tx: &Transaction<'_>, id: i64, day: NaiveDate, write: &Write<'_>) -> Result<()> {
    static MANY: OnceLock<String> = OnceLock::new();
    static ONE: OnceLock<String> = OnceLock::new();
    if write.clears() {
        let (first, end) = day_minutes(day);
        tx.prepare_cached("DELETE FROM series_candles WHERE series = ?1 AND minute >= ?2 AND minute < ?3")?
            .execute(params![id, first, end])?;
    }
    let mut chunks = write.candles().chunks_exact(ROWS);
    let mut many = tx.prepare_cached(MANY.get_or_init(|| insert(ROWS)))?;
    for chunk in &mut chunks {
        bind(&mut many, id, chunk)?;
        many.raw_execute()?;
    }
    let mut one = tx.prepare_cached(ONE.get_or_init(|| insert(1)))?;
    for c in chunks.remainder() {
        bind(&mut one, id, std::slice::from_ref(c))?;
        one.raw_execute()?;
    }
    Ok(())
}

/// Binds `candles` of series `id` to a statement of [`insert`]`(candles.len())`.
fn bind(stmt: &mut rusqlite::CachedStatement<'_>, id: i64, candles: &[Candle]) -> rusqlite::Result<()> {
    for (i, c) in candles.iter().enumerate() {
        let at = i * 7;
        let p = &c.price;
        stmt.raw_bind_parameter(at + 1, id)?;
        stmt.raw_bind_parameter(at + 2, c.minute)?;
        stmt.raw_bind_parameter(at + 3, p.open)?;
        stmt.raw_bind_parameter(at + 4, p.high)?;
        stmt.raw_bind_parameter(at + 5, p.low)?;
        stmt.raw_bind_parameter(at + 6, p.close)?;
        stmt.raw_bind_parameter(at + 7, p.volume)?;
    }
    Ok(())
}
