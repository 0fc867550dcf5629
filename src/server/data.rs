//! The built-in server's synthetic prices: deterministic, so every machine
//! and every run sees the same numbers.
//!
//! Only `+ - * /` on `f64` and integer hashing go into a price, all exactly
//! specified by IEEE 754, so no libm difference can change a digit.

use chrono::NaiveDate;

use crate::price::Price;

/// The exchanges, sorted, as `/exchanges` lists them: the reference
/// server's names, so commands and examples work against either.
pub const EXCHANGES: &[&str] = &[
    "bitfinex",
    "bitstamp",
    "bittrex",
    "cexio",
    "coinbase-pro",
    "hitbtc",
    "huobi",
    "kraken",
    "mexbt",
    "okcoin",
    "okex",
    "poloniex",
];

/// The symbols, as `/symbols` lists them.
pub const SYMBOLS: &[&str] = &["btc", "eth", "ltc"];

/// The first and last day any price exists.
pub fn span() -> (NaiveDate, NaiveDate) {
    (day(2013, 4, 24), day(2020, 12, 8))
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid constant day")
}

/// Rough quarterly closes from 2013-04 on, one row per symbol: the shape of
/// the market, so example queries give plausible answers.
const ANCHORS: [[f64; 32]; 3] = [
    [
        120.0, 100.0, 700.0, 600.0, 450.0, 600.0, 380.0, 250.0, 240.0, 270.0, 230.0, 420.0, 430.0, 650.0, 610.0, 960.0,
        1080.0, 2500.0, 4300.0, 13000.0, 7000.0, 6400.0, 6600.0, 3800.0, 4100.0, 10800.0, 8300.0, 7200.0, 6600.0,
        9200.0, 10800.0, 19000.0,
    ],
    [
        1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.2, 0.9, 1.0, 7.0, 12.0, 10.0, 13.0, 50.0, 300.0, 290.0, 750.0,
        680.0, 450.0, 230.0, 110.0, 140.0, 290.0, 200.0, 180.0, 130.0, 230.0, 360.0, 600.0,
    ],
    [
        3.0, 2.5, 20.0, 13.0, 10.0, 10.0, 5.0, 4.0, 3.5, 3.0, 3.0, 3.5, 3.8, 4.0, 4.0, 3.8, 4.0, 30.0, 50.0, 230.0,
        150.0, 100.0, 80.0, 35.0, 30.0, 120.0, 80.0, 50.0, 45.0, 45.0, 48.0, 80.0,
    ],
];

/// Days between two anchors.
const QUARTER: i64 = 91;

/// The server's price of `symbol` on `exchange` that day, or `None` (the
/// server answers `null`) outside the pair's range, on its absent days, and
/// for names it does not list.
pub fn price(exchange: &str, symbol: &str, day: NaiveDate) -> Option<Price> {
    let (first, last) = pair_range(exchange, symbol);
    if day < first || day > last {
        return None;
    }
    any_day(exchange, symbol, day)
}

/// The server's price in live mode for a day after the synthetic span:
/// every pair goes on trading (on its present days), at the last quarter's
/// level, so that recent days have prices once published.
pub fn recent_price(exchange: &str, symbol: &str, day: NaiveDate) -> Option<Price> {
    if day <= span().1 {
        return price(exchange, symbol, day);
    }
    any_day(exchange, symbol, day)
}

fn any_day(exchange: &str, symbol: &str, day: NaiveDate) -> Option<Price> {
    let e = EXCHANGES.iter().position(|x| *x == exchange)?;
    let s = SYMBOLS.iter().position(|x| *x == symbol)?;
    let seed = hash(&[exchange.as_bytes(), symbol.as_bytes(), day.to_string().as_bytes()]);
    let absent_percent = 6 + hash(&[exchange.as_bytes(), symbol.as_bytes(), b"absent"]) % 20;
    if unit(seed, 0) * 100.0 < absent_percent as f64 {
        return None;
    }

    let base = trend(s, day) * (1.0 + 0.004 * (e as f64 - 5.5) / 5.5);
    let open = base * (1.0 + 0.03 * (unit(seed, 1) - 0.5));
    let close = base * (1.0 + 0.03 * (unit(seed, 2) - 0.5));
    let high = open.max(close) * (1.0 + 0.02 * unit(seed, 3));
    let low = open.min(close) * (1.0 - 0.02 * unit(seed, 4));
    let volume = 50.0 + 20000.0 * unit(seed, 5) / (1.0 + s as f64);
    // Some answers carry whole numbers, which the API sends as JSON integers.
    let round = if seed % 10 == 0 { whole } else { cents };
    Some(Price {
        open: round(open),
        high: round(high),
        low: round(low),
        close: round(close),
        volume: (volume * 1e8).round() / 1e8,
    })
}

/// The first and last day (exchange, symbol) has prices: each pair its
/// own, some ending before 2020 so that whole months are missing.
pub fn pair_range(exchange: &str, symbol: &str) -> (NaiveDate, NaiveDate) {
    let (start, end) = span();
    let h = hash(&[exchange.as_bytes(), symbol.as_bytes(), b"range"]);
    let first = start + chrono::Duration::days((h % 1500) as i64);
    let last = end - chrono::Duration::days(((h >> 20) % 320) as i64);
    (first, last)
}

/// The symbol's market price that day: straight lines between anchors.
fn trend(symbol: usize, day: NaiveDate) -> f64 {
    let anchors = &ANCHORS[symbol];
    let offset = (day - span().0).num_days().max(0);
    let i = ((offset / QUARTER) as usize).min(anchors.len() - 2);
    let t = ((offset - i as i64 * QUARTER) as f64 / QUARTER as f64).min(1.0);
    anchors[i] + (anchors[i + 1] - anchors[i]) * t
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn whole(x: f64) -> f64 {
    x.round()
}

/// FNV-1a over the parts, finished with splitmix64: stable across
/// platforms and Rust versions, unlike std's hasher.
fn hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.iter().chain(b"|") {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix(h)
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `k`-th uniform number in [0, 1) drawn from `seed`.
fn unit(seed: u64, k: u64) -> f64 {
    (mix(seed ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15)) >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_deterministic_and_sane() {
        let d = day(2020, 3, 12);
        let mut seen = 0;
        for e in EXCHANGES {
            for s in SYMBOLS {
                let a = price(e, s, d);
                assert_eq!(a, price(e, s, d));
                if let Some(p) = a {
                    seen += 1;
                    assert!(p.low <= p.open.min(p.close) && p.high >= p.open.max(p.close), "{e} {s} {p:?}");
                    assert!(p.low > 0.0 && p.volume > 0.0);
                }
            }
        }
        assert!(seen > 10, "only {seen} of 36 pairs have a price on {d}");
        assert_eq!(price("nowhere", "btc", d), None);
        assert_eq!(price("bitstamp", "doge", d), None);
    }

    #[test]
    fn coverage_is_ragged() {
        let march: Vec<NaiveDate> = day(2020, 3, 1).iter_days().take(31).collect();
        let cells = EXCHANGES.len() * SYMBOLS.len() * march.len();
        let nulls = EXCHANGES
            .iter()
            .flat_map(|e| SYMBOLS.iter().map(move |s| (e, s)))
            .flat_map(|(e, s)| march.iter().map(move |d| price(e, s, *d)))
            .filter(Option::is_none)
            .count();
        let share = nulls as f64 / cells as f64;
        assert!((0.1..0.5).contains(&share), "{nulls} of {cells} cells of March 2020 are null");
        let ranges: std::collections::HashSet<_> =
            EXCHANGES.iter().flat_map(|e| SYMBOLS.iter().map(move |s| pair_range(e, s))).collect();
        assert!(ranges.len() > 30, "pairs should have their own ranges");
    }
}
