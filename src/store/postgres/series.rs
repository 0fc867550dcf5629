//! Candles below a day on PostgreSQL: finding or making a series, and
//! writing the candles of a batch of completed days in the completion's
//! transaction, each kind of write one statement over arrays.

use std::collections::HashSet;

use anyhow::{bail, Result};
use r2d2_postgres::postgres::binary_copy::BinaryCopyInWriter;
use r2d2_postgres::postgres::types::Type;
use r2d2_postgres::postgres::{self, Statement, Transaction};

use super::conn::Conn;
use crate::interval::Interval;
use crate::store::series::{day_minutes, SeriesIds, Write};
use crate::store::Task;

/// Deletes the candles of days: `$1` series, `$2` first and `$3` end
/// (excluded) minute of each.
const CLEAR: &str = "DELETE FROM series_candles c USING unnest($1::int[], $2::int[], $3::int[]) AS d(s, lo, hi)
                     WHERE c.series = d.s AND c.minute >= d.lo AND c.minute < d.hi";

/// Stores candles, one per element of the arrays, replacing any of the same
/// series and minute.
const STORE: &str = "INSERT INTO series_candles (series, minute, open, high, low, close, volume)
                     SELECT * FROM unnest($1::int[], $2::int[], $3::float8[], $4::float8[], $5::float8[],
                                          $6::float8[], $7::float8[])
                     ON CONFLICT (series, minute) DO UPDATE SET open = excluded.open, high = excluded.high,
                        low = excluded.low, close = excluded.close, volume = excluded.volume";

/// Stores the candles of days cleared first, in binary: nothing there to
/// conflict with.
const COPY: &str = "COPY series_candles (series, minute, open, high, low, close, volume) FROM STDIN (FORMAT binary)";

/// One completion's write, ready for the arrays: its series' key, and its
/// candles' minutes as int4 (checked to fit before anything is sent).
pub(super) struct DayWrite<'a> {
    key: (&'a str, &'a str, Interval),
    clear: Option<(i32, i32)>,
    minutes: Vec<i32>,
    write: Write<'a>,
}

impl<'a> DayWrite<'a> {
    /// The series' key: exchange, symbol, interval.
    pub(super) fn key(&self) -> (&'a str, &'a str, Interval) {
        self.key
    }

    pub(super) fn of(task: &'a Task, write: Write<'a>) -> Result<DayWrite<'a>> {
        let int4 = |m: i64| i32::try_from(m).ok();
        let (first, end) = day_minutes(task.day);
        let (Some(lo), Some(hi)) = (int4(first), int4(end)) else {
            bail!("{}: a day PostgreSQL's int4 minutes cannot hold (before 1966 or after 6053)", task.day);
        };
        Ok(DayWrite {
            key: (&task.exchange, &task.symbol, task.interval),
            clear: write.clears().then_some((lo, hi)),
            // Within the day (checked by `write_of`), so within int4 too.
            minutes: write.candles().iter().map(|c| c.minute as i32).collect(),
            write,
        })
    }
}

/// The id of the series `key`: from the cache, else found or made by a
/// statement of its own (committed at once, so the id is every process's).
pub(super) fn series_id(c: &mut Conn, ids: &SeriesIds, key: (&str, &str, Interval)) -> Result<i64, postgres::Error> {
    let (exchange, symbol, interval) = key;
    if let Some(id) = ids.get(exchange, symbol, interval) {
        return Ok(id);
    }
    let name = interval.name();
    let made = c.opt(
        "WITH made AS (INSERT INTO series (exchange, symbol, interval) VALUES ($1, $2, $3)
                       ON CONFLICT (exchange, symbol, interval) DO NOTHING RETURNING id)
         SELECT id FROM made UNION ALL SELECT id FROM series WHERE exchange = $1 AND symbol = $2 AND interval = $3",
        &[&exchange, &symbol, &name],
    )?;
    // None: another process made it meanwhile, after this statement's
    // snapshot; a new statement sees it.
    let id: i32 = match made {
        Some(r) => r.get(0),
        None => c
            .one(
                "SELECT id FROM series WHERE exchange = $1 AND symbol = $2 AND interval = $3",
                &[&exchange, &symbol, &name],
            )?
            .get(0),
    };
    ids.put(exchange, symbol, interval, i64::from(id));
    Ok(i64::from(id))
}

/// The statements [`write`] runs, prepared on the connection (before its
/// transaction begins, as a transaction borrows the connection).
pub(super) fn prepare(c: &mut Conn) -> Result<[Statement; 3], postgres::Error> {
    Ok([c.prepared(CLEAR)?, c.prepared(STORE)?, c.prepared(COPY)?])
}

/// Writes the days of `writes` whose position (from 1) is in `applied`,
/// each in series `series[i]`, in `tx`: the days that clear first, then
/// every candle, in (series, minute) order, the last of a minute given
/// twice kept; a cleared day's by COPY. `statements` are [`prepare`]'s.
pub(super) fn write(
    tx: &mut Transaction<'_>,
    [clear, store, copy]: &[Statement; 3],
    writes: &[Option<DayWrite<'_>>],
    series: &[Option<i64>],
    applied: &HashSet<i64>,
) -> Result<(), postgres::Error> {
    let (mut clear_series, mut clear_lo, mut clear_hi) = (vec![], vec![], vec![]);
    let mut rows: Vec<(i32, i32, usize, usize)> = Vec::new();
    for (i, (w, id)) in writes.iter().zip(series).enumerate() {
        let (Some(w), Some(id)) = (w, id) else { continue };
        if !applied.contains(&(i as i64 + 1)) {
            continue;
        }
        let id = *id as i32;
        if let Some((lo, hi)) = w.clear {
            clear_series.push(id);
            clear_lo.push(lo);
            clear_hi.push(hi);
        }
        rows.extend(w.minutes.iter().enumerate().map(|(k, m)| (id, *m, i, k)));
    }
    if !clear_series.is_empty() {
        tx.execute(clear, &[&clear_series, &clear_lo, &clear_hi])?;
    }
    if rows.is_empty() {
        return Ok(());
    }
    // One row per key: ON CONFLICT cannot change a row twice in a statement.
    rows.sort_by_key(|&(s, m, ..)| (s, m));
    rows.dedup_by(|later, earlier| {
        let same = (later.0, later.1) == (earlier.0, earlier.1);
        if same {
            *earlier = *later;
        }
        same
    });
    // A day that was cleared has no candle left to conflict with: its
    // candles go in by COPY, the fastest way in. Today's so far may
    // replace some: they go in by an upsert.
    let (copied, upserted): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(|&(_, _, i, _)| writes[i].as_ref().is_some_and(|w| w.clear.is_some()));
    let price = |i: usize, k: usize| writes[i].as_ref().and_then(|w| w.write.candles().get(k)).map(|c| c.price);
    if !copied.is_empty() {
        let sink = tx.copy_in(copy)?;
        let types = [Type::INT4, Type::INT4, Type::FLOAT8, Type::FLOAT8, Type::FLOAT8, Type::FLOAT8, Type::FLOAT8];
        let mut writer = BinaryCopyInWriter::new(sink, &types);
        for (id, minute, i, k) in copied {
            let Some(p) = price(i, k) else { continue };
            writer.write(&[&id, &minute, &p.open, &p.high, &p.low, &p.close, &p.volume])?;
        }
        writer.finish()?;
    }
    if upserted.is_empty() {
        return Ok(());
    }
    let n = upserted.len();
    let (mut s, mut m) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut prices: [Vec<f64>; 5] = Default::default();
    for (id, minute, i, k) in upserted {
        let Some(p) = price(i, k) else { continue };
        s.push(id);
        m.push(minute);
        for (column, v) in prices.iter_mut().zip([p.open, p.high, p.low, p.close, p.volume]) {
            column.push(v);
        }
    }
    let [o, h, l, c, v] = &prices;
    tx.execute(store, &[&s, &m, o, h, l, c, v])?;
    Ok(())
}
