//! The stand-ins of the six built-in sources, each under its source's
//! own paths, answering as its documentation says (cited beside each).

mod binance;
mod bitfinex;
mod bitstamp;
mod coinbase;
mod kraken;
mod okx;

use chrono::{DateTime, NaiveDate, Utc};

use super::{secs, Ask};
use crate::interval::Interval::{self, *};
use crate::server::response::Response;
use binance::{binance_info, binance_klines};
use bitfinex::{bitfinex_candles, bitfinex_pairs};
use bitstamp::{bitstamp_ohlc, bitstamp_pairs};
use coinbase::{coinbase_candles, coinbase_products};
use kraken::{kraken_ohlc, kraken_pairs};
use okx::{okx_candles, okx_instruments};

pub use kraken::KRAKEN_LAG_DAYS;

/// Each built-in source's intervals, as its API names them (cited beside
/// each stand-in; docs/intervals.md has them side by side). Those of its
/// intervals that pricequeue has no name for (Binance's `1s`, `3d`, `1w`,
/// `1M`, ...) are not served.
const INTERVALS: &[(&str, &[(&str, Interval)])] = &[
    (
        "binance",
        &[
            ("1m", M1),
            ("3m", M3),
            ("5m", M5),
            ("15m", M15),
            ("30m", M30),
            ("1h", H1),
            ("2h", H2),
            ("4h", H4),
            ("6h", H6),
            ("8h", H8),
            ("12h", H12),
            ("1d", D1),
        ],
    ),
    ("coinbase", &[("60", M1), ("300", M5), ("900", M15), ("3600", H1), ("21600", H6), ("86400", D1)]),
    ("kraken", &[("1", M1), ("5", M5), ("15", M15), ("30", M30), ("60", H1), ("240", H4), ("1440", D1)]),
    (
        "bitstamp",
        &[
            ("60", M1),
            ("180", M3),
            ("300", M5),
            ("900", M15),
            ("1800", M30),
            ("3600", H1),
            ("7200", H2),
            ("14400", H4),
            ("21600", H6),
            ("43200", H12),
            ("86400", D1),
        ],
    ),
    (
        "bitfinex",
        &[
            ("1m", M1),
            ("5m", M5),
            ("15m", M15),
            ("30m", M30),
            ("1h", H1),
            ("3h", H3),
            ("6h", H6),
            ("12h", H12),
            ("1D", D1),
        ],
    ),
    (
        "okx",
        &[
            ("1m", M1),
            ("3m", M3),
            ("5m", M5),
            ("15m", M15),
            ("30m", M30),
            ("1H", H1),
            ("2H", H2),
            ("4H", H4),
            ("6Hutc", H6),
            ("12Hutc", H12),
            ("1Dutc", D1),
        ],
    ),
];

/// The intervals the stand-in of `source` serves, shortest first; none for
/// a source without a stand-in of its own candles at several intervals.
pub fn intervals(source: &str) -> Vec<Interval> {
    INTERVALS.iter().find(|(s, _)| *s == source).map_or_else(Vec::new, |(_, t)| t.iter().map(|(_, i)| *i).collect())
}

/// The interval `name` means on `source`, as its API spells it (exactly:
/// the APIs are case-sensitive).
fn interval(source: &str, name: Option<&str>) -> Option<Interval> {
    let name = name?;
    let table = INTERVALS.iter().find(|(s, _)| *s == source)?.1;
    table.iter().find(|(n, _)| *n == name).map(|(_, i)| *i)
}

pub(super) fn route(ask: &Ask) -> Option<Response> {
    let path = ask.path;
    Some(match path {
        "/api/v3/exchangeInfo" => binance_info(ask),
        "/api/v3/klines" => binance_klines(ask),
        "/products" => coinbase_products(),
        "/0/public/AssetPairs" => kraken_pairs(),
        "/0/public/OHLC" => kraken_ohlc(ask),
        "/api/v2/trading-pairs-info/" => bitstamp_pairs(),
        "/v2/conf/pub:list:pair:exchange" => bitfinex_pairs(),
        "/api/v5/public/instruments" => okx_instruments(ask),
        "/api/v5/market/history-candles" => okx_candles(ask),
        _ => {
            if let Some(id) = path.strip_prefix("/products/").and_then(|p| p.strip_suffix("/candles")) {
                coinbase_candles(ask, id)
            } else if let Some(pair) = path.strip_prefix("/api/v2/ohlc/") {
                bitstamp_ohlc(ask, pair.trim_end_matches('/'))
            } else if let Some(key) = path.strip_prefix("/v2/candles/").and_then(|p| p.strip_suffix("/hist")) {
                bitfinex_candles(ask, key)
            } else {
                return None;
            }
        }
    })
}

/// A day's start in milliseconds.
fn ms(day: NaiveDate) -> i64 {
    secs(day) * 1000
}

/// An ISO 8601 time (or a bare day, its midnight) in Unix seconds.
fn iso_secs(s: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc).timestamp())
        .or_else(|| s.parse::<NaiveDate>().ok().map(secs))
}

#[cfg(test)]
mod tests;
