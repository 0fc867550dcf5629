//! `chart`: the prices of one (exchange, symbol) over a range of days, as
//! a close line or as candles, every missing day a gap (never
//! interpolated) banded in the colour of why it is missing.
//!
//! [`ChartData::load`] reads the store; [`svg`] and [`png`] draw what it
//! read, the same drawing (`draw.rs`) on either plotters backend. The SVG
//! also carries one invisible rectangle per missing day, naming the day and
//! the reason, for a browser to show on hover and a test to read.

mod axis;
mod bitmap;
mod draw;
mod glyphs;
mod plot;
mod strokes;
mod svg;
#[cfg(test)]
mod tests;

use anyhow::Result;
use chrono::NaiveDate;

pub use bitmap::png;
pub use plot::{reduce, Candles};
pub use svg::svg;

use crate::error::Usage;
use crate::interval::Interval;
use crate::life::Kind;
use crate::price::Price;
use crate::selection::Selection;
use crate::store::{Reason, Store};

/// What a chart shows: the prices of one (exchange, symbol) and why the
/// other days of the range have none.
#[derive(Debug, Clone, PartialEq)]
pub struct ChartData {
    pub exchange: String,
    pub symbol: String,
    /// The source its prices come from, where the exchange does not say
    /// it (src/report/sources.rs): named in the caption.
    pub source: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The days with a price, in order.
    pub prices: Vec<(NaiveDate, Price)>,
    /// The days without one, in order, each with why (below a day: the
    /// days without every candle; a partial day's reason is `no data`).
    pub missing: Vec<(NaiveDate, Reason)>,
    /// Below a day, the candles in place of `prices`, and the runs of
    /// slots without one; `None` at `1d`.
    pub candles: Option<Candles>,
}

impl ChartData {
    /// Reads the prices of `exchange` and `symbol` from `from` to `to`
    /// (both included) and the reason of every day without one.
    pub fn load(store: &Store, exchange: &str, symbol: &str, from: NaiveDate, to: NaiveDate) -> Result<ChartData> {
        crate::dates::check_range(from, to)?;
        let sel = Selection::one(exchange, symbol, from, to);
        // The reasons first, then the prices, each read in a transaction of
        // its own: a day fetched between the two reads shows its price, and
        // is dropped from the missing days below.
        let mut missing = Vec::new();
        store.for_each_cell(&sel, |_, _, day, reason| {
            missing.extend(reason.map(|r| (day, r)));
            Ok(())
        })?;
        let mut prices = Vec::new();
        store.for_each_price(&sel, |row| {
            prices.push((row.day, row.price));
            Ok(())
        })?;
        missing.retain(|(day, _)| prices.binary_search_by_key(day, |(d, _)| *d).is_err());
        let source = crate::report::PairSources::load(store, &sel)?.shown(exchange, symbol).map(str::to_string);
        let (exchange, symbol) = (exchange.to_string(), symbol.to_string());
        Ok(ChartData { exchange, symbol, source, from, to, prices, missing, candles: None })
    }

    /// [`ChartData::load`] at `interval`: below a day, the candles and
    /// the runs of slots without one, with each day that lacks any.
    pub fn load_at(
        store: &Store,
        exchange: &str,
        symbol: &str,
        (from, to): (NaiveDate, NaiveDate),
        interval: Interval,
    ) -> Result<ChartData> {
        if interval.is_day() {
            return ChartData::load(store, exchange, symbol, from, to);
        }
        crate::dates::check_range(from, to)?;
        let sel = Selection::one(exchange, symbol, from, to).at(interval);
        let now = crate::clock::now_ms();
        let (mut missing, mut gaps) = (Vec::new(), Vec::<(i64, i64, Reason)>::new());
        store.for_each_candle_day(&sel, |day| {
            let day_gaps = crate::report::DayGaps::of(&day, interval, now);
            for run in &day_gaps.runs {
                match gaps.last_mut() {
                    Some((_, last, r)) if *last + 1 == run.first && *r == run.reason => *last = run.last,
                    _ => gaps.push((run.first, run.last, run.reason.clone())),
                }
            }
            let reason = match day_gaps.kind {
                Kind::Price => return Ok(()),
                Kind::Partial => Reason::NoData,
                _ => {
                    let runs = &day_gaps.runs;
                    runs.iter()
                        .find(|r| !r.reason.is_settled())
                        .or(runs.first())
                        .map(|r| r.reason.clone())
                        .unwrap_or(Reason::NoData)
                }
            };
            missing.push((day.day, reason));
            Ok(())
        })?;
        let mut candles = Vec::new();
        store.for_each_candle(&sel, |_, c| {
            candles.push((c.minute / interval.minutes(), c.price));
            Ok(())
        })?;
        let source = crate::report::PairSources::load(store, &sel)?.shown(exchange, symbol).map(str::to_string);
        let (exchange, symbol) = (exchange.to_string(), symbol.to_string());
        let candles = Some(Candles { interval, candles, gaps });
        Ok(ChartData { exchange, symbol, source, from, to, prices: Vec::new(), missing, candles })
    }

    /// How many days of the range there are.
    pub fn days(&self) -> usize {
        usize::try_from((self.to - self.from).num_days() + 1).unwrap_or(0)
    }

    /// How many missing days are not settled: something is still to be done
    /// about them (see [`Reason::is_settled`]).
    pub fn unsettled(&self) -> u64 {
        self.missing.iter().filter(|(_, r)| !r.is_settled()).count() as u64
    }
}

/// How the prices are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// The close of each day, joined by a line within each run of days
    /// that have a price.
    #[default]
    Line,
    /// Each day's open, high, low and close as a candle.
    Candles,
}

/// The size of a chart when none is asked for, in pixels: wide enough for
/// a month of candles and a row of day labels, and for a mail reader.
pub const DEFAULT_SIZE: (u32, u32) = (960, 480);

/// The smallest chart that keeps its labels apart, in pixels.
pub const MIN_SIZE: (u32, u32) = (320, 240);

/// The largest side of a chart, in pixels: a PNG of 4096 x 4096 is 48 MiB
/// of pixels before it is compressed.
pub const MAX_SIDE: u32 = 4096;

/// Refuses a size the chart cannot be drawn in, or should not be.
pub fn check_size((width, height): (u32, u32)) -> Result<()> {
    if width < MIN_SIZE.0 || height < MIN_SIZE.1 || width > MAX_SIDE || height > MAX_SIDE {
        anyhow::bail!(Usage(format!(
            "a chart of {width}x{height} pixels cannot be drawn: give a width of {} to {MAX_SIDE} and a height \
             of {} to {MAX_SIDE}, like {}x{}",
            MIN_SIZE.0, MIN_SIZE.1, DEFAULT_SIZE.0, DEFAULT_SIZE.1
        )));
    }
    Ok(())
}
