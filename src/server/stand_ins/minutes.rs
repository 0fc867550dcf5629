//! The stand-ins' minutes: what every candle below a day is made of.
//!
//! A day's minutes run from the day's open to its close (the daily candle
//! of `data.rs`, unchanged) along a path that stays inside the day's low
//! and high and touches each once, so a day whose every minute traded adds
//! up to its daily candle, volume included. A candle of any interval below
//! a day is its minutes added up: the first open, the highest high, the
//! lowest low, the last close, the sum of the volumes; a candle with no
//! minute that traded is absent, as the real APIs leave out such candles.
//!
//! Minutes without trades, each a function of the pair and the minute only:
//! - quiet runs of 1 to 12 minutes, in about 4% of the 16-minute blocks
//!   (15% for the pairs with days without trades), so that a 5m candle is
//!   sometimes absent and a 15m one never for this reason alone;
//! - the maintenance window, [`MAINTENANCE`]: 2024-03-12 from 03:00 to
//!   06:30 UTC, for every pair of every stand-in (the daily candle stays);
//! - on a pair's first day, the minutes before it is listed, at a whole hour
//!   of that day ([`listed_at`]);
//! - every minute of a day without a daily candle.
//!
//! Everything is integer arithmetic on a hash of the pair and the minute:
//! the same candle on every machine, every run, in any order asked.

use chrono::NaiveDate;

use super::data::{first_day, minute_of_day, mix, pair, seed, settled, Candle, Listing};

/// The maintenance window, in Unix minutes: from 2024-03-12 03:00 UTC
/// (28,503,540) up to 06:30 UTC (28,503,750), when no stand-in trades. On a
/// fixed date so that a test or a benchmark over 2024 meets it; not on an
/// hour's edge, so that the candles across its edges are partial.
pub const MAINTENANCE: (i64, i64) = (28_503_540, 28_503_750);

/// The percentage of 16-minute blocks with a quiet run, by whether the pair
/// is one with days without trades.
const QUIET: [u64; 2] = [4, 15];

/// A candle's numbers while it is added up from its minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bar {
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: i64,
}

impl Bar {
    /// This bar followed by `next`.
    fn then(self, next: Bar) -> Bar {
        Bar {
            open: self.open,
            high: self.high.max(next.high),
            low: self.low.min(next.low),
            close: next.close,
            volume: self.volume + next.volume,
        }
    }
}

/// When a pair is listed: a whole hour of its first day, in Unix minutes.
pub fn listed_at(source: &str, symbol: &str) -> Option<i64> {
    let first = first_day(source, symbol)?;
    Some(minute_of_day(first) + (seed(source, symbol) >> 5) as i64 % 24 * 60)
}

/// One day's path of prices: its candle, and the numbers its minutes are
/// drawn from.
struct DayPath {
    /// The day's first Unix minute.
    start: i64,
    day: Candle,
    /// This day's seed.
    seed: u64,
    /// The pair's seed (the quiet runs do not care about days).
    pair_seed: u64,
    quiet: u64,
    /// How far the path strays from the straight line, in cents.
    amp: i64,
    /// The first minute of the day that trades (after the listing).
    first: i64,
    /// The minutes whose high and low are the day's.
    high_at: i64,
    low_at: i64,
}

impl DayPath {
    fn of(pair: &Listing, pair_seed: u64, listed: i64, day: NaiveDate) -> Option<DayPath> {
        let c = settled(pair, pair_seed, day)?;
        let start = minute_of_day(day);
        let seed = mix(pair_seed ^ (start as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
        Some(DayPath {
            start,
            day: c,
            seed,
            pair_seed,
            quiet: QUIET[usize::from(pair.gaps)],
            amp: (c.high - c.low) / 3,
            first: (listed - start).clamp(0, 1440),
            high_at: (seed >> 7) as i64 % 1440,
            low_at: (seed >> 29) as i64 % 1440,
        })
    }

    /// The price at the start of minute `t` of the day (0 to 1440): the
    /// day's open at 0, its close at 1440, within its low and high.
    fn price(&self, t: i64) -> i64 {
        let c = &self.day;
        if t <= 0 {
            return c.open;
        }
        if t >= 1440 {
            return c.close;
        }
        let line = c.open + (c.close - c.open) * t / 1440;
        let (h, f) = (t / 60, t % 60);
        let (a, b) = (self.anchor(h), self.anchor(h + 1));
        let wave = a + (b - a) * f / 60;
        let jitter = signed(mix(self.seed ^ (t as u64).wrapping_mul(0x9e37_79b9)), self.amp / 8);
        (line + wave + jitter).clamp(c.low, c.high)
    }

    /// The path's distance from the straight line at hour `h`: none at
    /// the day's ends.
    fn anchor(&self, h: i64) -> i64 {
        if h <= 0 || h >= 24 {
            return 0;
        }
        signed(mix(self.seed ^ (h as u64).wrapping_mul(0x51_7cc1_b727)), self.amp)
    }

    /// Whether minute `t` of the day traded.
    fn trades(&self, t: i64) -> bool {
        let m = self.start + t;
        t >= self.first && !(MAINTENANCE.0..MAINTENANCE.1).contains(&m) && !quiet(self.pair_seed, self.quiet, m)
    }

    /// Minute `t`'s candle, as if it traded.
    fn bar(&self, t: i64) -> Bar {
        let c = &self.day;
        let (open, close) = (self.price(t), self.price(t + 1));
        let r = mix(self.seed ^ (t as u64).wrapping_mul(0x7fb5_d329_728e_a185));
        let w = (self.amp / 16 + 1) as u64;
        let mut high = open.max(close) + (r % w) as i64;
        let mut low = open.min(close) - ((r >> 20) % w) as i64;
        if t == self.high_at {
            high = c.high;
        }
        if t == self.low_at {
            low = c.low;
        }
        // The volumes of two neighbouring minutes differ by as much as the
        // one has over the other, so the day's add up to its own.
        let (q, rem) = (c.volume / 1440, c.volume % 1440);
        let d = (mix(self.seed ^ ((t / 2) as u64).wrapping_mul(0x94d0_49bb)) % (q as u64 / 2 + 1)) as i64;
        let volume = q + i64::from(t < rem) + if t % 2 == 0 { d } else { -d };
        Bar { open, high: high.min(c.high), low: low.max(c.low), close, volume }
    }

    /// Minute `t`'s candle `secs` seconds into it: still changing.
    fn partial(&self, t: i64, secs: i64) -> Bar {
        let whole = self.bar(t);
        let close = whole.open + (whole.close - whole.open) * secs / 60;
        Bar {
            open: whole.open,
            high: whole.open.max(close),
            low: whole.open.min(close),
            close,
            volume: whole.volume * secs / 60,
        }
    }
}

/// A number from `-a` to `a`, drawn from `r`.
fn signed(r: u64, a: i64) -> i64 {
    if a <= 0 {
        return 0;
    }
    (r % (2 * a as u64 + 1)) as i64 - a
}

/// Whether Unix minute `m` falls in a quiet run of the pair's.
fn quiet(pair_seed: u64, percent: u64, m: i64) -> bool {
    let r = mix(pair_seed ^ 0x5157_1e7d ^ (m.div_euclid(16) as u64).wrapping_mul(0xd6e8_feb8_6659_fd93));
    if r % 100 >= percent {
        return false;
    }
    let (start, len) = ((r >> 8) as i64 % 16, 1 + (r >> 16) as i64 % 12);
    (start..start + len).contains(&m.rem_euclid(16))
}

/// The minutes of one pair, read in any order (a day's path is kept
/// while its minutes are read).
pub(super) struct Minutes {
    pair: &'static Listing,
    seed: u64,
    listed: i64,
    /// The current minute (Unix), and the seconds into it.
    now: (i64, i64),
    kept: Option<(i64, Option<DayPath>)>,
}

impl Minutes {
    /// The minutes of `symbol` on `source` as they stand at `now_ms`.
    pub fn of(source: &str, symbol: &str, now_ms: i64) -> Option<Minutes> {
        Some(Minutes {
            pair: pair(source, symbol)?,
            seed: seed(source, symbol),
            listed: listed_at(source, symbol)?,
            now: (now_ms.div_euclid(60_000), now_ms.rem_euclid(60_000) / 1000),
            kept: None,
        })
    }

    fn path(&mut self, day: i64) -> Option<&DayPath> {
        if self.kept.as_ref().is_none_or(|(d, _)| *d != day) {
            let date = super::data::day_of_minute(day * 1440);
            self.kept = Some((day, DayPath::of(self.pair, self.seed, self.listed, date)));
        }
        self.kept.as_ref().and_then(|(_, p)| p.as_ref())
    }

    /// The candle of the minutes `from..to` (Unix) that have traded by
    /// now: the current minute as it stands, none after it.
    pub fn span(&mut self, from: i64, to: i64) -> Option<Bar> {
        let (now, secs) = self.now;
        let mut out: Option<Bar> = None;
        let mut m = from.max(self.listed);
        while m < to.min(now + 1) {
            let day = m.div_euclid(1440);
            let day_end = (day + 1) * 1440;
            let Some(path) = self.path(day) else {
                // No trades that day: on to the next.
                m = day_end;
                continue;
            };
            let stop = to.min(now + 1).min(day_end);
            for minute in m..stop {
                let t = minute - path.start;
                if !path.trades(t) {
                    continue;
                }
                let bar = if minute == now { path.partial(t, secs) } else { path.bar(t) };
                out = Some(out.map_or(bar, |b| b.then(bar)));
            }
            m = stop;
        }
        out
    }
}

#[cfg(test)]
mod tests;
