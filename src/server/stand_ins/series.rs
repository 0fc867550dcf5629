//! A pair's candles at one interval, as the stand-ins read them: by slot
//! (a candle's number since the epoch, [`Interval::slot_of_ms`]), a range
//! at a time, up to the current, unclosed candle. At `1d` they are the
//! daily candles of `data.rs`, exactly as before candles below a day; below
//! it they are added up from the minutes of `minutes.rs`.

use crate::interval::Interval;
use crate::price::Price;

use super::data::{self, day_of_minute, now_ms, Candle};
use super::minutes::{listed_at, Minutes};

/// One pair's candles at one interval, at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    pub source: &'a str,
    pub symbol: &'a str,
    pub interval: Interval,
    /// Minutes added to each candle's span: OKX's Hong Kong bars (`6H`,
    /// `12H`) start 8 hours before the UTC ones (-480). Not at `1d`, whose
    /// Hong Kong bars are the UTC day's candles written 8 hours early.
    pub shift: i64,
    /// The moment the candles stand at (Unix ms): the current candle is
    /// the one whose span holds it.
    pub now_ms: i64,
}

impl<'a> Series<'a> {
    /// The candles of `symbol` on `source` at `interval`, as they stand now.
    pub fn new(source: &'a str, symbol: &'a str, interval: Interval) -> Series<'a> {
        Series { source, symbol, interval, shift: 0, now_ms: now_ms() }
    }

    /// The slot whose candle is the current one (not closed yet).
    pub fn now_slot(&self) -> i64 {
        (self.now_ms.div_euclid(60_000) - self.span_shift()).div_euclid(self.interval.minutes())
    }

    /// The first slot that can hold a candle: the one the pair is listed in.
    pub fn first_slot(&self) -> Option<i64> {
        Some((listed_at(self.source, self.symbol)? - self.span_shift()).div_euclid(self.interval.minutes()))
    }

    /// How far the candles' spans are moved (none at `1d`, see `shift`).
    fn span_shift(&self) -> i64 {
        if self.interval.is_day() {
            0
        } else {
            self.shift
        }
    }

    /// When slot `slot`'s candle opens, in Unix seconds.
    pub fn open_secs(&self, slot: i64) -> i64 {
        (slot * self.interval.minutes() + self.shift) * 60
    }

    /// The candle of slot `slot`, `None` where it has no trade, before the
    /// listing and after now.
    pub fn candle(&self, slot: i64) -> Option<Candle> {
        self.range(slot, slot, usize::MAX, false).pop()
    }

    /// The candles of the slots `first..=last`, oldest first: the oldest
    /// `limit` of them, or with `newest`, the newest `limit`.
    pub fn range(&self, first: i64, last: i64, limit: usize, newest: bool) -> Vec<Candle> {
        let (Some(listed), now) = (self.first_slot(), self.now_slot()) else {
            return Vec::new();
        };
        let (first, last) = (first.max(listed), last.min(now));
        if first > last || limit == 0 {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(limit.min((last - first + 1) as usize).min(10_000));
        if self.interval.is_day() {
            let slots: Box<dyn Iterator<Item = i64>> =
                if newest { Box::new((first..=last).rev()) } else { Box::new(first..=last) };
            for slot in slots {
                let c = data::candle(self.source, self.symbol, day_of_minute(slot * 1440));
                if let Some(c) = c {
                    out.push(Candle { at: c.at + self.shift * 60, ..c });
                    if out.len() == limit {
                        break;
                    }
                }
            }
        } else {
            let Some(mut minutes) = Minutes::of(self.source, self.symbol, self.now_ms) else {
                return Vec::new();
            };
            let len = self.interval.minutes();
            let mut push = |slot: i64| {
                let from = slot * len + self.shift;
                if let Some(b) = minutes.span(from, from + len) {
                    let day = day_of_minute(from);
                    out.push(Candle {
                        at: from * 60,
                        day,
                        open: b.open,
                        high: b.high,
                        low: b.low,
                        close: b.close,
                        volume: b.volume,
                    });
                }
                out.len() < limit
            };
            if newest {
                let _ = (first..=last).rev().all(&mut push);
            } else {
                let _ = (first..=last).all(&mut push);
            }
        }
        if newest {
            out.reverse();
        }
        out
    }

    /// The candles of the latest `n` slots, the current one included,
    /// oldest first (Kraken's window; what a page that ignores the range
    /// asked sends).
    pub fn latest(&self, n: i64) -> Vec<Candle> {
        let now = self.now_slot();
        self.range(now - n + 1, now, usize::MAX, false)
    }

    /// Whether slot `slot`'s candle has closed by now.
    pub fn closed(&self, slot: i64) -> bool {
        slot < self.now_slot()
    }
}

/// The candles of `symbol` on `source` at `interval` with slots
/// `first..=last`, oldest first, as the stand-in serves them now (the
/// current one too, still changing).
pub fn candles_at(source: &str, symbol: &str, interval: Interval, first: i64, last: i64) -> Vec<Candle> {
    Series::new(source, symbol, interval).range(first, last, usize::MAX, false)
}

/// What a client should store for slot `slot` at `interval`: the candle's
/// price, or `None` where the source has no candle or it has not closed.
pub fn expected_at(source: &str, symbol: &str, interval: Interval, slot: i64) -> Option<Price> {
    let series = Series::new(source, symbol, interval);
    series.closed(slot).then(|| series.candle(slot).map(|c| c.price())).flatten()
}
