//! The stand-ins' synthetic candles: deterministic, like the reference
//! API's (`server/data.rs`), in whole cents and ten-thousandths of a unit,
//! so that what a stand-in writes and what a client stores agree exactly.
//! Each source lists its pairs in its own symbol form: majors with a long
//! history, a "young" pair listed inside 2019-2021, and a pair with gaps
//! (days without trades, which the APIs leave out).

use chrono::{Datelike, NaiveDate};

use crate::price::Price;

/// A pair a stand-in lists: its symbol as the API spells it, the price level in
/// cents, its first day, and whether it has days without trades.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    pub symbol: &'static str,
    /// Kraken answers with its own name for the pair.
    pub alias: &'static str,
    pub level: i64,
    pub first: (i32, u32, u32),
    pub gaps: bool,
}

const fn p(symbol: &'static str, level: i64, first: (i32, u32, u32)) -> Listing {
    Listing { symbol, alias: symbol, level, first, gaps: false }
}

const fn gappy(symbol: &'static str, level: i64, first: (i32, u32, u32)) -> Listing {
    Listing { symbol, alias: symbol, level, first, gaps: true }
}

const fn kraken(symbol: &'static str, alias: &'static str, level: i64, first: (i32, u32, u32), gaps: bool) -> Listing {
    Listing { symbol, alias, level, first, gaps }
}

/// The sources served, with their pairs.
pub const SOURCES: &[(&str, &[Listing])] = &[
    (
        "binance",
        &[
            p("BTCUSDT", 2_000_000, (2017, 8, 17)),
            p("ETHUSDT", 150_000, (2017, 8, 17)),
            p("BNBUSDT", 20_000, (2017, 11, 6)),
            p("LTCUSDT", 9_000, (2017, 12, 13)),
            p("ADAUSDT", 60, (2018, 4, 17)),
            p("XRPUSDT", 50, (2018, 5, 4)),
            p("LINKUSDT", 1_500, (2019, 1, 16)),
            p("XLMUSDT", 20, (2018, 5, 31)),
            p("TRXUSDT", 6, (2018, 6, 11)),
            p("DOGEUSDT", 10, (2019, 7, 5)),
            p("DOTUSDT", 2_000, (2020, 8, 18)),
            gappy("ZECUSDT", 8_000, (2018, 3, 20)),
        ],
    ),
    (
        "coinbase",
        &[
            p("BTC-USD", 2_000_000, (2015, 7, 20)),
            p("ETH-USD", 150_000, (2016, 5, 18)),
            p("LTC-USD", 9_000, (2016, 8, 17)),
            p("BCH-USD", 30_000, (2017, 12, 20)),
            p("ETC-USD", 1_500, (2018, 8, 7)),
            p("ZRX-USD", 80, (2018, 10, 11)),
            p("XLM-USD", 20, (2019, 3, 13)),
            p("EOS-USD", 400, (2019, 4, 9)),
            p("XTZ-USD", 300, (2019, 8, 5)),
            p("LINK-USD", 1_500, (2019, 6, 27)),
            p("DOT-USD", 2_000, (2021, 6, 16)),
            gappy("ZEC-USD", 8_000, (2018, 12, 12)),
        ],
    ),
    (
        "kraken",
        &[
            kraken("XBTUSD", "XXBTZUSD", 2_000_000, (2013, 10, 6), false),
            kraken("ETHUSD", "XETHZUSD", 150_000, (2015, 8, 7), false),
            kraken("DOTUSD", "DOTUSD", 2_000, (2020, 8, 18), false),
            kraken("ZECUSD", "XZECZUSD", 8_000, (2016, 10, 28), true),
        ],
    ),
    (
        "bitstamp",
        &[
            p("btcusd", 2_000_000, (2011, 8, 18)),
            p("ethusd", 150_000, (2017, 8, 16)),
            p("dotusd", 2_000, (2021, 4, 20)),
            gappy("xrpusd", 50, (2017, 1, 19)),
        ],
    ),
    (
        "bitfinex",
        &[
            p("tBTCUSD", 2_000_000, (2013, 4, 1)),
            p("tETHUSD", 150_000, (2016, 3, 9)),
            p("tDOTUSD", 2_000, (2020, 8, 19)),
            gappy("tZECUSD", 8_000, (2016, 10, 28)),
        ],
    ),
    (
        "okx",
        &[
            p("BTC-USDT", 2_000_000, (2018, 1, 11)),
            p("ETH-USDT", 150_000, (2018, 1, 11)),
            p("DOT-USDT", 2_000, (2020, 8, 18)),
            gappy("ZEC-USDT", 8_000, (2018, 1, 11)),
        ],
    ),
    // The APIs the README declares: CryptoCompare (symbols as `fsym`,
    // against USD), Alpha Vantage and Stooq (stocks), CoinGecko (coin ids).
    (
        "cryptocompare",
        &[p("BTC", 2_000_000, (2010, 7, 17)), p("ETH", 150_000, (2015, 8, 7)), p("DOT", 2_000, (2020, 8, 18))],
    ),
    ("alphavantage", &[p("IBM", 14_000, (1999, 11, 1)), gappy("AAPL", 15_000, (1999, 11, 1))]),
    ("stooq", &[p("aapl.us", 15_000, (1984, 9, 7)), p("ibm.us", 14_000, (1970, 1, 2))]),
    ("coingecko", &[p("bitcoin", 2_000_000, (2013, 4, 28)), p("ethereum", 150_000, (2015, 8, 7))]),
];

/// The pairs of `source`, none for a source not served.
pub fn pairs(source: &str) -> &'static [Listing] {
    SOURCES.iter().find(|(s, _)| *s == source).map_or(&[], |(_, p)| p)
}

/// The pair `symbol` of `source`.
pub fn pair(source: &str, symbol: &str) -> Option<&'static Listing> {
    pairs(source).iter().find(|p| p.symbol == symbol)
}

/// The first day `symbol` trades on `source`.
pub fn first_day(source: &str, symbol: &str) -> Option<NaiveDate> {
    pair(source, symbol).map(|p| ymd(p.first))
}

/// How many of the latest days a source serves at all, today included:
/// Kraken's OHLC "returns up to 720 of the most recent entries".
pub fn history_days(source: &str) -> Option<i64> {
    (source == "kraken").then_some(720)
}

fn ymd((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid constant day")
}

/// One candle, in cents (prices) and ten-thousandths (volume): a day's,
/// or one below a day (`minutes.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// When the candle opens, in Unix seconds.
    pub at: i64,
    /// The UTC day it opens on.
    pub day: NaiveDate,
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    pub volume: i64,
}

impl Candle {
    /// The price a client stores: each number as the stand-ins write it
    /// (two decimals, four for the volume), read back.
    pub fn price(&self) -> Price {
        let read = |s: String| s.parse::<f64>().expect("a number written by the stand-in");
        Price {
            open: read(cents(self.open)),
            high: read(cents(self.high)),
            low: read(cents(self.low)),
            close: read(cents(self.close)),
            volume: read(units(self.volume)),
        }
    }
}

/// Cents as a decimal, like "1234.05".
pub fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// Ten-thousandths as a decimal, like "12.3400".
pub fn units(v: i64) -> String {
    format!("{}.{:04}", v / 10_000, v % 10_000)
}

/// Appends `v` hundredths (`places` 2) or ten-thousandths (4) as
/// [`cents`] and [`units`] write them, without their allocations: a page
/// of a thousand rows writes eight thousand of these.
pub(super) fn push_decimal(out: &mut String, v: i64, places: u32) {
    if v < 0 {
        out.push_str(&if places == 2 { cents(v) } else { units(v) });
        return;
    }
    let scale = 10i64.pow(places);
    push_int(out, v / scale);
    out.push('.');
    let frac = v % scale;
    let mut digits = [b'0'; 4];
    let mut f = frac;
    for d in digits[..places as usize].iter_mut().rev() {
        *d = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.push_str(std::str::from_utf8(&digits[..places as usize]).unwrap_or("0"));
}

/// Appends a whole number.
pub(super) fn push_int(out: &mut String, v: i64) {
    if v < 0 {
        out.push('-');
    }
    let mut n = v.unsigned_abs();
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

/// Now, in Unix milliseconds: the queue's clock ([`crate::clock::now_ms`]),
/// so that a `serve` run with the test clock ahead serves what a client
/// run with the same clock expects.
pub fn now_ms() -> i64 {
    crate::clock::now_ms()
}

/// Today, UTC: its candle is the current, unclosed one.
pub fn today() -> NaiveDate {
    day_of_minute(now_ms().div_euclid(60_000))
}

/// The UTC day a Unix minute falls in.
pub fn day_of_minute(minute: i64) -> NaiveDate {
    NaiveDate::from_num_days_from_ce_opt((minute.div_euclid(1440) + 719_163) as i32).unwrap_or(NaiveDate::MAX)
}

/// A day's first Unix minute.
pub fn minute_of_day(day: NaiveDate) -> i64 {
    (i64::from(day.num_days_from_ce()) - 719_163) * 1440
}

/// The candle of `symbol` on `source` that day: `None` before the pair's
/// first day, after today, and on its days without trades. Today's is
/// served too, still changing (the unclosed candle).
pub fn candle(source: &str, symbol: &str, day: NaiveDate) -> Option<Candle> {
    let pair = pair(source, symbol)?;
    if day > today() {
        return None;
    }
    let c = settled(pair, seed(source, symbol), day)?;
    if day != today() {
        return Some(c);
    }
    // Today's candle changes until the day ends: its close is where the
    // day stands now.
    let close = c.close + (now_ms().div_euclid(1000) % 7);
    Some(Candle { close, high: c.high.max(close), low: c.low.min(close).max(1), ..c })
}

/// The seed of a pair's numbers.
pub(super) fn seed(source: &str, symbol: &str) -> u64 {
    hash(source.as_bytes()) ^ hash(symbol.as_bytes()).rotate_left(17)
}

/// The day's candle as it is once the day has closed (today's too, which
/// `candle` then moves to where the day stands now): what the candles
/// below a day run between.
pub(super) fn settled(pair: &Listing, seed: u64, day: NaiveDate) -> Option<Candle> {
    if day < ymd(pair.first) {
        return None;
    }
    let n = i64::from(day.num_days_from_ce());
    if pair.gaps && mix(seed ^ (n as u64).wrapping_mul(0x9e37)) % 13 == 0 {
        return None;
    }
    let close = close_of(pair.level, seed, n);
    let open = close_of(pair.level, seed, n - 1);
    let r = mix(seed ^ (n as u64) ^ 0xabcd);
    let spread = |k: u64| (open.max(close) * (1 + (r >> k) as i64 % 3) / 100).max(1);
    let high = open.max(close) + spread(8);
    let low = (open.min(close) - spread(16)).max(1);
    let volume = 10_000 * (100 + (r >> 24) as i64 % 50_000);
    let at = minute_of_day(day) * 60;
    Some(Candle { at, day, open, high, low, close, volume })
}

/// What a client should store for a closed day: the candle's price, or
/// `None` where the source has no row (or the day is not closed).
pub fn expected(source: &str, symbol: &str, day: NaiveDate) -> Option<Price> {
    (day < today()).then(|| candle(source, symbol, day).map(|c| c.price())).flatten()
}

/// The day's close in cents: straight lines between weekly levels, and a
/// little noise each day.
fn close_of(level: i64, seed: u64, n: i64) -> i64 {
    let week = n.div_euclid(7);
    let at = |w: i64| 70 + (mix(seed ^ (w as u64).wrapping_mul(0x51_7cc1)) % 61) as i64; // 70..=130 percent
    let r = n.rem_euclid(7);
    let percent_x7 = at(week) * (7 - r) + at(week + 1) * r;
    let noise = (mix(seed ^ (n as u64).wrapping_mul(31)) % 5) as i64 - 2;
    (level * (percent_x7 + 7 * noise) / 700).max(2)
}

pub(super) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::check_price;

    #[test]
    fn every_candle_passes_the_price_rule_and_reads_back_exactly() {
        let mut rows = 0;
        for (source, pairs) in SOURCES {
            for pair in *pairs {
                let mut day = ymd(pair.first);
                while day <= today() {
                    if let Some(c) = candle(source, pair.symbol, day) {
                        rows += 1;
                        check_price(&c.price()).unwrap_or_else(|e| panic!("{source} {} {day}: {e}", pair.symbol));
                    }
                    day = day.succ_opt().unwrap();
                }
            }
        }
        assert!(rows > 50_000, "{rows}");
        assert_eq!(cents(123_405), "1234.05");
        assert_eq!(units(123_400), "12.3400");
        for v in [0, 5, 99, 100, 123_405, 123_400, 10_000, 987_654_321, -5, -123_405] {
            let (mut c, mut u, mut i) = (String::new(), String::new(), String::new());
            push_decimal(&mut c, v, 2);
            push_decimal(&mut u, v, 4);
            push_int(&mut i, v);
            assert_eq!((c, u, i), (cents(v), units(v), v.to_string()));
        }
    }

    #[test]
    fn gaps_and_first_days_are_where_the_table_says() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(candle("binance", "DOTUSDT", d("2020-08-17")), None);
        assert!(candle("binance", "DOTUSDT", d("2020-08-18")).is_some());
        let gaps = d("2019-01-01").iter_days().take(365).filter(|x| candle("binance", "ZECUSDT", *x).is_none()).count();
        assert!((10..60).contains(&gaps), "{gaps} days without trades in 2019");
        assert_eq!(expected("binance", "BTCUSDT", today()), None, "today's candle is not closed");
        assert!(candle("binance", "BTCUSDT", today()).is_some(), "but it is served");
    }
}
