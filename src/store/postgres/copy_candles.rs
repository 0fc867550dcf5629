//! `copy` of the candles below a day on PostgreSQL: read a series at a
//! time in (exchange, symbol, interval, minute) order by the primary key,
//! and imported as arrays under the destination's own series ids, a
//! candle it has already left as it is.

use anyhow::Result;

use super::series::series_id;
use super::Db;
use crate::interval::Interval;
use crate::price::{Candle, Price};
use crate::store::copy::{series_from, CandleKey, CandleRecord, Imported};

impl Db {
    pub fn candles_after(&self, after: Option<&CandleKey>, limit: usize) -> Result<Vec<CandleRecord>> {
        self.with(|c| {
            let series =
                c.query("SELECT id, exchange, symbol, interval FROM series ORDER BY exchange, symbol, interval", &[])?;
            let mut out = Vec::new();
            for row in series {
                let (id, exchange, symbol, interval): (i32, String, String, Interval) =
                    (row.get(0), row.get(1), row.get(2), row.get(3));
                let Some(from) = series_from((&exchange, &symbol, interval), after) else { continue };
                let from = i32::try_from(from).unwrap_or(i32::MIN);
                let rows = c.query(
                    "SELECT minute, open, high, low, close, volume FROM series_candles
                     WHERE series = $1 AND minute > $2 ORDER BY minute LIMIT $3",
                    &[&id, &from, &((limit - out.len()) as i64)],
                )?;
                for r in rows {
                    let minute: i32 = r.get(0);
                    let price =
                        Price { open: r.get(1), high: r.get(2), low: r.get(3), close: r.get(4), volume: r.get(5) };
                    let candle = Candle { minute: i64::from(minute), price };
                    out.push(CandleRecord { exchange: exchange.clone(), symbol: symbol.clone(), interval, candle });
                }
                if out.len() >= limit {
                    break;
                }
            }
            Ok(out)
        })
    }

    pub fn import_candles(&self, rows: &[CandleRecord]) -> Result<Imported> {
        self.with(|c| {
            let mut ids: Vec<i32> = Vec::with_capacity(rows.len());
            for r in rows {
                ids.push(series_id(c, &self.series, (&r.exchange, &r.symbol, r.interval))? as i32);
            }
            let minutes: Vec<i32> = rows.iter().map(|r| r.candle.minute as i32).collect();
            let column = |f: fn(&Price) -> f64| rows.iter().map(|r| f(&r.candle.price)).collect::<Vec<f64>>();
            let (open, high, low) = (column(|p| p.open), column(|p| p.high), column(|p| p.low));
            let (close, volume) = (column(|p| p.close), column(|p| p.volume));
            let added = c.execute(
                "INSERT INTO series_candles (series, minute, open, high, low, close, volume)
                 SELECT * FROM unnest($1::int4[], $2::int4[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                                      $7::float8[])
                 ON CONFLICT (series, minute) DO NOTHING",
                &[&ids, &minutes, &open, &high, &low, &close, &volume],
            )?;
            Ok(Imported { added, updated: 0 })
        })
    }
}
