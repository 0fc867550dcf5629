//! The candles below a day, as both backends write them: what a
//! completion does to `series_candles`, checked once here, and the ids of
//! the series (one per exchange, symbol and interval), kept per process so
//! that writing a day's candles costs no lookup of its series.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Result};
use chrono::NaiveDate;

use super::state::{PriceChange, Transition};
use super::{Task, TaskState};
use crate::interval::Interval;
use crate::price::Candle;

/// What one completion writes to `series_candles`, in the day of its task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Write<'a> {
    /// The day settled: its candles are these and no others, so any it
    /// had (a refreshed day) go first.
    Replace(&'a [Candle]),
    /// Today's closed candles so far: each stored, replacing one of the
    /// same minute; the day's others stay.
    Upsert(&'a [Candle]),
    /// The day has no candle (no data): any it had go.
    Clear,
}

impl Write<'_> {
    /// The candles written.
    pub(crate) fn candles(&self) -> &[Candle] {
        match self {
            Write::Replace(c) | Write::Upsert(c) => c,
            Write::Clear => &[],
        }
    }

    /// Whether the day's candles are deleted first.
    pub(crate) fn clears(&self) -> bool {
        matches!(self, Write::Replace(_) | Write::Clear)
    }
}

/// What completing `task` as `to` writes to `series_candles`: nothing for a
/// task at `1d` (its price is in `prices`) or one that keeps what it has.
/// A candle outside the task's day, or off its interval's grid, is a bug
/// of the caller's and refused, naming it, before anything is written:
/// stored, it would stand in another day's place.
pub(crate) fn write_of<'a>(task: &Task, to: &Transition<'a>) -> Result<Option<Write<'a>>> {
    let day = task.interval.is_day();
    let write = match to.price {
        PriceChange::Keep => return Ok(None),
        PriceChange::Store(_) | PriceChange::Delete if day => return Ok(None),
        PriceChange::Store(_) => bail!(
            "a day's price for {} {} {} at {}: a task below a day stores candles",
            task.exchange,
            task.symbol,
            task.day,
            task.interval
        ),
        PriceChange::Candles(_) if day => bail!(
            "candles below a day for {} {} {}, a task at 1d: its price goes in `prices`",
            task.exchange,
            task.symbol,
            task.day
        ),
        PriceChange::Candles(c) if to.to == TaskState::Done => Write::Replace(c),
        PriceChange::Candles(c) => Write::Upsert(c),
        PriceChange::Delete => Write::Clear,
    };
    let (first, end) = day_minutes(task.day);
    let step = task.interval.minutes();
    if let Some(c) = write.candles().iter().find(|c| c.minute < first || c.minute >= end || c.minute % step != 0) {
        bail!(
            "a candle at minute {} ({}) is no {} candle of {} {} {}: refused, nothing of this batch was stored",
            c.minute,
            crate::clock::show(c.minute.saturating_mul(60_000)),
            task.interval,
            task.exchange,
            task.symbol,
            task.day
        );
    }
    Ok(Some(write))
}

/// The minutes of a UTC day, as `series_candles.minute` counts them: from
/// its first (midnight) to the next day's first, excluded.
pub(crate) fn day_minutes(day: NaiveDate) -> (i64, i64) {
    let first = Interval::M1.first_slot(day);
    (first, first + 1440)
}

/// The ids of the series this process has found or made, by (exchange,
/// symbol, interval). Only ids of committed rows go in (a row made in a
/// transaction that rolled back could be made again with another id), and
/// pricequeue never deletes a series, so an id once known stays right.
#[derive(Clone, Default)]
pub(crate) struct SeriesIds(Arc<Mutex<HashMap<SeriesKey, i64>>>);

/// A series' exchange, symbol and interval.
type SeriesKey = (String, String, Interval);

impl SeriesIds {
    pub(crate) fn get(&self, exchange: &str, symbol: &str, interval: Interval) -> Option<i64> {
        let ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ids.get(&(exchange.to_string(), symbol.to_string(), interval)).copied()
    }

    pub(crate) fn put(&self, exchange: &str, symbol: &str, interval: Interval, id: i64) {
        let mut ids = self.0.lock().unwrap_or_else(|e| e.into_inner());
        ids.insert((exchange.to_string(), symbol.to_string(), interval), id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::price::Price;

    fn task(interval: Interval) -> Task {
        Task {
            id: 1,
            exchange: "binance".into(),
            symbol: "BTCUSDT".into(),
            day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            interval,
            source: "binance".into(),
            attempts: 0,
            rounds: 0,
            token: 1,
        }
    }

    fn candle(minute: i64) -> Candle {
        Candle { minute, price: Price { open: 1.0, high: 1.0, low: 1.0, close: 1.0, volume: 0.0 } }
    }

    #[test]
    fn a_completion_writes_the_candles_of_its_own_day_only() {
        use crate::store::Outcome;
        let (first, end) = day_minutes(task(Interval::H1).day);
        assert_eq!(end - first, 1440);
        assert_eq!(first * 60_000, crate::clock::day_end(NaiveDate::from_ymd_opt(2024, 2, 28).unwrap()));
        let good = vec![candle(first), candle(end - 60)];
        let done = Outcome::Candles(good.clone());
        let so_far = Outcome::CandlesSoFar { candles: good.clone(), at: 0 };
        fn of(i: Interval, o: &Outcome) -> Result<Option<Write<'_>>, String> {
            write_of(&task(i), &Transition::of(o)).map_err(|e| e.to_string())
        }
        assert_eq!(of(Interval::H1, &done), Ok(Some(Write::Replace(&good))));
        assert_eq!(of(Interval::H1, &so_far), Ok(Some(Write::Upsert(&good))));
        assert_eq!(of(Interval::H1, &Outcome::NoData), Ok(Some(Write::Clear)));
        assert_eq!(of(Interval::D1, &Outcome::NoData), Ok(None), "a day's price is in `prices`");
        assert_eq!(of(Interval::H1, &Outcome::Failed { error: "x".into() }), Ok(None));
        for bad in [first - 60, end, first + 30] {
            let e = of(Interval::H1, &Outcome::Candles(vec![candle(bad)])).unwrap_err();
            assert!(
                e.contains(&format!("minute {bad}")) && e.contains("no 1h candle of binance BTCUSDT 2024-02-29"),
                "{e}"
            );
        }
        assert!(of(Interval::D1, &done).is_err());
        let price = Outcome::Price(Price { open: 1.0, high: 1.0, low: 1.0, close: 1.0, volume: 0.0 });
        assert!(of(Interval::M1, &price).is_err());
    }
}
