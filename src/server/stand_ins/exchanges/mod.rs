//! The stand-ins of the six built-in sources, each under its source's
//! own paths, answering as its documentation says (cited beside each).

mod binance;
mod bitfinex;
mod bitstamp;
mod coinbase;
mod kraken;
mod okx;

use chrono::{DateTime, NaiveDate, Utc};

use super::{day_of, secs, Ask};
use crate::server::response::Response;
use binance::{binance_info, binance_klines};
use bitfinex::{bitfinex_candles, bitfinex_pairs};
use bitstamp::{bitstamp_ohlc, bitstamp_pairs};
use coinbase::{coinbase_candles, coinbase_products};
use kraken::{kraken_ohlc, kraken_pairs};
use okx::{okx_candles, okx_instruments};

pub use kraken::KRAKEN_LAG_DAYS;

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

fn day_of_ms(ms: i64) -> NaiveDate {
    day_of(ms.div_euclid(1000))
}

fn iso(s: &str) -> Option<NaiveDate> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| day_of(t.with_timezone(&Utc).timestamp()))
        .or_else(|| s.parse::<NaiveDate>().ok())
}
