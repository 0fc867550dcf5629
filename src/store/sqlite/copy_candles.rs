//! `copy` of the candles below a day on SQLite: read a series at a time in
//! (exchange, symbol, interval, minute) order by the primary key, and
//! imported under the destination's own series ids, a candle it has
//! already left as it is.

use anyhow::Result;
use rusqlite::{params, TransactionBehavior};

use super::Db;
use crate::interval::Interval;
use crate::price::{Candle, Price};
use crate::store::copy::{series_from, CandleKey, CandleRecord, Imported};

impl Db {
    pub fn candles_after(&self, after: Option<&CandleKey>, limit: usize) -> Result<Vec<CandleRecord>> {
        let conn = self.conn()?;
        let series: Vec<(i64, String, String, Interval)> = conn
            .prepare_cached("SELECT id, exchange, symbol, interval FROM series ORDER BY exchange, symbol, interval")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let mut out = Vec::new();
        for (id, exchange, symbol, interval) in series {
            let Some(from) = series_from((&exchange, &symbol, interval), after) else { continue };
            let mut stmt = conn.prepare_cached(
                "SELECT minute, open, high, low, close, volume FROM series_candles
                 WHERE series = ?1 AND minute > ?2 ORDER BY minute LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![id, from, (limit - out.len()) as i64], |r| {
                Ok(Candle {
                    minute: r.get(0)?,
                    price: Price {
                        open: r.get(1)?,
                        high: r.get(2)?,
                        low: r.get(3)?,
                        close: r.get(4)?,
                        volume: r.get(5)?,
                    },
                })
            })?;
            for candle in rows {
                out.push(CandleRecord {
                    exchange: exchange.clone(),
                    symbol: symbol.clone(),
                    interval,
                    candle: candle?,
                });
            }
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    pub fn import_candles(&self, rows: &[CandleRecord]) -> Result<Imported> {
        let mut conn = self.conn()?;
        // The series first, each made (and committed) before the candles' transaction.
        let mut ids = Vec::with_capacity(rows.len());
        for r in rows {
            ids.push(self.series_id(&conn, &r.exchange, &r.symbol, r.interval)?);
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut added = 0;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO series_candles (series, minute, open, high, low, close, volume)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (series, minute) DO NOTHING",
            )?;
            for (r, id) in rows.iter().zip(ids) {
                let (c, p) = (&r.candle, &r.candle.price);
                added += insert.execute(params![id, c.minute, p.open, p.high, p.low, p.close, p.volume])? as u64;
            }
        }
        tx.commit()?;
        Ok(Imported { added, updated: 0 })
    }
}
