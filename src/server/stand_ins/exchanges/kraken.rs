//! The Kraken stand-in: its asset pairs and OHLC, the latest 720 only.

use serde_json::{json, Value};

use super::super::data::{cents, pairs, units, Candle};
use super::super::{day_of, ok, page, Ask, Series};
use super::interval;
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- Kraken ----
// https://docs.kraken.com/api-reference/market-data/get-ohlc-data
//   GET /0/public/OHLC?pair&interval&since: {"error":[],"result":{<pair
//   name>:[[time, open, high, low, close, vwap, volume, count]], "last"}};
//   "returns up to 720 of the most recent entries (older data cannot be
//   retrieved, regardless of the value of since)"; "the last entry in the
//   OHLC array is for the current, not-yet-committed timeframe, and will
//   always be present, regardless of the value of since"; interval in
//   minutes: 1, 5, 15, 30, 60, 240, 1440, 10080, 21600 (the last two not
//   served here: pricequeue has no week).
// https://docs.kraken.com/exchange/guides/general/historical-data:
//   since "return candles after this time" (exclusive).
// https://docs.kraken.com/api-reference/market-data/get-tradable-asset-pairs
// Errors in the body's `error` array: EQuery:Unknown asset pair,
// EAPI:Rate limit exceeded, EGeneral:Temporary lockout.
// https://docs.kraken.com/api/docs/guides/spot-errors: EGeneral:Internal
//   error, EService:Unavailable ("the matching engine or API is offline").

/// How far behind a Kraken that lags (the `unclosed` fault) answers: its
/// rows stop this many candles before the current one (days at `1d`).
pub const KRAKEN_LAG_DAYS: i64 = 10;

/// The candles Kraken serves at any interval: its latest 720.
const HISTORY: i64 = 720;

pub(super) fn kraken_error(e: &str) -> Response {
    ok(json!({"error": [e]}).to_string())
}

pub(super) fn kraken_pairs() -> Response {
    let mut result = serde_json::Map::new();
    for p in pairs("kraken") {
        let base = p.symbol.trim_end_matches("USD");
        result.insert(
            p.alias.to_string(),
            json!({"altname": p.symbol, "wsname": format!("{base}/USD"), "aclass_base": "currency",
                   "base": base, "aclass_quote": "currency", "quote": "ZUSD", "lot": "unit",
                   "cost_decimals": 5, "pair_decimals": 2, "lot_decimals": 8, "lot_multiplier": 1,
                   "leverage_buy": [], "leverage_sell": [], "fees": [[0, 0.26]], "fees_maker": [[0, 0.16]],
                   "fee_volume_currency": "ZUSD", "margin_call": 80, "margin_stop": 40, "ordermin": "0.0001",
                   "costmin": "0.5", "tick_size": "0.01", "status": "online"}),
        );
    }
    ok(json!({"error": [], "result": result}).to_string())
}

pub(super) fn kraken_ohlc(ask: &Ask) -> Response {
    match ask.fault {
        Some(Fault::BodyLimit) => return kraken_error("EAPI:Rate limit exceeded"),
        Some(Fault::Ban) => return kraken_error("EGeneral:Temporary lockout"),
        Some(Fault::Busy) => return kraken_error("EGeneral:Internal error"),
        _ => {}
    }
    let name = ask.param("pair").unwrap_or("");
    let Some(p) = pairs("kraken").iter().find(|p| p.symbol == name || p.alias == name) else {
        return kraken_error("EQuery:Unknown asset pair");
    };
    let Some(iv) = interval("kraken", Some(ask.param("interval").unwrap_or("1"))) else {
        return kraken_error("EGeneral:Invalid arguments");
    };
    let Ok(since) = ask.number("since") else { return kraken_error("EGeneral:Invalid arguments:since") };
    let series = Series::new("kraken", p.symbol, iv);
    let now = series.now_slot();
    // Lagging, its last row (the current candle, by its documentation) is
    // that of ten candles ago.
    let lagging = ask.fault == Some(Fault::Unclosed);
    let closed = if lagging { now - KRAKEN_LAG_DAYS } else { now - 1 };
    let mut rows: Vec<Candle> = series
        .range(now - HISTORY + 1, closed, usize::MAX, false)
        .into_iter()
        .filter(|c| since.is_none_or(|s| c.at > s))
        .collect();
    // The current candle is "always present, regardless of the value of
    // since": before its first trade, flat at the last price, no volume.
    let current = series.candle(now).or_else(|| {
        let last = series.range(now - HISTORY + 1, now - 1, 1, true).pop()?;
        let (at, flat) = (series.open_secs(now), last.close);
        Some(Candle { at, day: day_of(at), open: flat, high: flat, low: flat, close: flat, volume: 0 })
    });
    rows.extend(current.filter(|_| !lagging));
    let (rows, times) = page(ask, rows, false, iv, || series.latest(300));
    let out: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!([
                times.secs(c.at),
                cents(c.open),
                cents(c.high),
                cents(c.low),
                cents(c.close),
                cents(c.close),
                units(c.volume),
                if c.volume == 0 { 0 } else { 100 + c.volume % 900 }
            ])
        })
        .collect();
    // "ID to be used as since when polling for new, committed OHLC data":
    // the last committed candle's time.
    let last = series.open_secs(now - 1);
    let mut result = serde_json::Map::new();
    result.insert(p.alias.to_string(), Value::Array(out));
    result.insert("last".into(), json!(last));
    ok(json!({"error": [], "result": result}).to_string())
}
