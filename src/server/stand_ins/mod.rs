//! The built-in server's stand-ins for real price APIs, each under the
//! source's own paths on the one address: Binance, Coinbase Exchange,
//! Kraken, Bitstamp, Bitfinex and OKX (the built-in sources), and
//! CryptoCompare, Alpha Vantage, Stooq and CoinGecko (the APIs the
//! README's declarations speak). Each serves its list of names and its
//! candles with the source's fields, order, time units, caps, paging,
//! error bodies and rate-limit answers, as its documentation gives them
//! (cited beside each in `exchanges/` and `declared.rs`), up to the
//! current, unclosed candle: the six built-in sources at every interval
//! their APIs serve (docs/stand-ins.md), over the synthetic minutes of
//! `minutes.rs` added up by `series.rs`; at `1d`, and for the declared
//! APIs, the daily candles of `data.rs`.

mod data;
mod declared;
mod exchanges;
mod minutes;
mod series;

use std::collections::HashMap;

use chrono::{NaiveDate, TimeZone, Utc};

use crate::interval::Interval;
use percent_encoding::percent_decode_str;

pub use data::{candle, cents, expected, first_day, history_days, pairs, units, Candle, Listing, SOURCES};
pub use exchanges::{intervals, KRAKEN_LAG_DAYS};
pub use minutes::{listed_at, MAINTENANCE};
pub use series::{candles_at, expected_at, Series};

use super::faults::Fault;
use super::options::ServerOptions;
use super::response::{AnswerKind, Response};
use super::stats::Stats;

/// A request to a stand-in: its path (decoded), its query, and the fault
/// drawn for it, if any.
pub(super) struct Ask<'a> {
    pub path: &'a str,
    query: HashMap<String, String>,
    pub fault: Option<Fault>,
    pub options: &'a ServerOptions,
    pub stats: &'a Stats,
}

impl Ask<'_> {
    /// A query parameter, decoded.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A query parameter as a whole number; `Err` names it when it is not one.
    pub fn number(&self, name: &str) -> Result<Option<i64>, String> {
        match self.param(name) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| format!("{name} is not a number: {v:?}")),
        }
    }

    /// The seconds a stand-in's `Retry-After` asks for: `--retry-after`, or one.
    pub fn retry_after(&self) -> u64 {
        match self.options.retry_after {
            super::faults::RetryAfter::Seconds(s) | super::faults::RetryAfter::Date(s) => s,
            _ => 1,
        }
    }
}

/// Whether `path` is a stand-in's candle endpoint: where faults are drawn.
pub(super) fn is_candles(path: &str) -> bool {
    path.starts_with("/api/v3/klines")
        || (path.starts_with("/products/") && path.contains("/candles"))
        || path.starts_with("/0/public/OHLC")
        || path.starts_with("/api/v2/ohlc/")
        || path.starts_with("/v2/candles/")
        || path.starts_with("/api/v5/market/history-candles")
        || path.starts_with("/data/v2/histoday")
        || path.starts_with("/query")
        || path.starts_with("/q/d/l/")
        || (path.starts_with("/api/v3/coins/") && path.contains("/market_chart/range"))
}

/// The stand-in's answer to `raw` (path and query), or `None` when no
/// stand-in serves that path.
pub(super) fn route(raw: &str, fault: Option<Fault>, options: &ServerOptions, stats: &Stats) -> Option<Response> {
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    let path = percent_decode_str(path).decode_utf8_lossy().to_string();
    let query = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().to_string();
            (decode(k), decode(v))
        })
        .collect();
    let ask = Ask { path: &path, query, fault, options, stats };
    exchanges::route(&ask).or_else(|| declared::route(&ask))
}

/// A JSON answer with a status and headers.
pub(super) fn json(status: &'static str, headers: Vec<(&'static str, String)>, body: String) -> Response {
    let answer = if status.starts_with("200") { AnswerKind::List } else { AnswerKind::NotFound };
    Response::Headed { status, headers, content_type: "application/json", body: body.into_bytes(), answer }
}

/// A `200` JSON answer.
pub(super) fn ok(body: String) -> Response {
    json("200 OK", Vec::new(), body)
}

/// A day's start, in seconds since the epoch (UTC).
pub(super) fn secs(day: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight")).timestamp()
}

/// The UTC day a time (seconds) falls in.
pub(super) fn day_of(secs: i64) -> NaiveDate {
    Utc.timestamp_opt(secs.div_euclid(86_400) * 86_400, 0).single().map_or(NaiveDate::MIN, |t| t.date_naive())
}

/// The candles of `symbol` on `source` with days in `from..=to`, oldest first.
pub(super) fn candles(source: &str, symbol: &str, from: NaiveDate, to: NaiveDate) -> Vec<Candle> {
    if from > to {
        return Vec::new();
    }
    from.iter_days().take_while(|d| *d <= to).filter_map(|d| candle(source, symbol, d)).collect()
}

/// A page of candles (oldest first) as the request's fault makes it: cut
/// short at the end a cap would cut (the newest for a source that pages
/// forward, the oldest for one that pages `backward`), cut at either end,
/// a candle twice, the latest 300 candles whatever was asked (`latest`
/// gives them); and how its times are written (`interval`: the rows').
pub(super) fn page(
    ask: &Ask,
    mut rows: Vec<Candle>,
    backward: bool,
    interval: Interval,
    latest: impl FnOnce() -> Vec<Candle>,
) -> (Vec<Candle>, Times) {
    // Half of them, never none (an empty answer says there is no data at all).
    let keep = rows.len().div_ceil(2);
    match ask.fault {
        // A lower cap than documented.
        Some(Fault::ShortPage) if backward => drop(rows.drain(..rows.len() - keep)),
        Some(Fault::ShortPage) => rows.truncate(keep),
        Some(Fault::Duplicate) if !rows.is_empty() => {
            // A third of the way in: inside the days asked for, also on a
            // source that answers up to today (Kraken).
            let at = rows.len() / 3;
            let mut twin = rows[at];
            twin.close = if twin.close < twin.high { twin.close + 1 } else { (twin.close - 1).max(twin.low) };
            rows.insert(at + 1, twin);
        }
        Some(Fault::IgnoreRange) => rows = latest(),
        Some(Fault::CutStart) => drop(rows.drain(..rows.len() - keep)),
        Some(Fault::CutEnd) => rows.truncate(keep),
        _ => {}
    }
    let offset = match ask.fault {
        Some(Fault::OffUtc) => off_grid(interval),
        Some(Fault::OffUtcEarly) => -off_grid(interval),
        _ => 0,
    };
    (rows, Times { offset, swapped: ask.fault == Some(Fault::WrongUnit) })
}

/// How far `off-utc` moves a page's times, in seconds: 8 hours (OKX's Hong
/// Kong bars: `1D`, `6H`, `12H`), or, at an interval that divides 8 hours
/// (where 8 hours late would still be on the interval's edges), half an
/// interval.
pub(super) fn off_grid(interval: Interval) -> i64 {
    let (eight, len) = (8 * 3600, interval.minutes() * 60);
    if eight % len != 0 {
        eight
    } else {
        len / 2
    }
}

/// How a page writes its rows' times: moved off the UTC day, or in the
/// other unit, as its fault says.
#[derive(Debug, Clone, Copy)]
pub(super) struct Times {
    /// Seconds added to each time.
    offset: i64,
    /// Seconds where milliseconds belong, and the reverse.
    swapped: bool,
}

impl Times {
    /// A time of a source that writes seconds.
    pub fn secs(self, secs: i64) -> i64 {
        let t = secs + self.offset;
        if self.swapped {
            t * 1000
        } else {
            t
        }
    }

    /// A time of a source that writes milliseconds.
    pub fn ms(self, ms: i64) -> i64 {
        let t = ms + self.offset * 1000;
        if self.swapped {
            t / 1000
        } else {
            t
        }
    }

    /// Seconds added to each time.
    pub fn offset(self) -> i64 {
        self.offset
    }
}

/// The daily candles of the latest 300 days, today's included: what a
/// page that ignores the range asked sends.
pub(super) fn latest(source: &str, symbol: &str) -> Vec<Candle> {
    candles(source, symbol, data::today() - chrono::Duration::days(299), data::today())
}

/// The newest `n` of `rows` (oldest first).
pub(super) fn newest(mut rows: Vec<Candle>, n: usize) -> Vec<Candle> {
    let cut = rows.len().saturating_sub(n);
    rows.drain(..cut);
    rows
}
