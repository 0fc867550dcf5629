//! The Bitstamp stand-in: its trading pairs and OHLC.

use serde_json::{json, Value};

use super::super::data::{cents, pair, pairs, units};
use super::super::{json as answer, ok, page, Ask, Series};
use super::interval;
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- Bitstamp ----
// https://www.bitstamp.net/api/#tag/Market-info/operation/GetOHLCData
//   (read in copies of Bitstamp's OpenAPI text, bitstamp.json: the page
//   itself could not be read here)
//   GET /api/v2/ohlc/{market_symbol}/?step&limit&start&end&exclude_current_candle:
//   step and limit required, limit 1 to 1000; `start` is where the rows
//   begin, `end` where they stop; when both are sent, `end` is used;
//   exclude_current_candle leaves out the open candle. {"data":{"pair":
//   "BTC/USD","ohlc":[{"timestamp","open","high","low","close","volume"}]}},
//   strings, oldest first. step in seconds: 60, 180, 300, 900, 1800, 3600,
//   7200, 14400, 21600, 43200, 86400, 259200 (the last not served here:
//   pricequeue has no 3d).
//   ⚠ Whether the candle opening exactly at `end` is in: this stand-in
//   counts it in, as the declaration's `end` (the last day's start) needs.

pub(super) fn bitstamp_pairs() -> Response {
    let list: Vec<Value> = pairs("bitstamp")
        .iter()
        .map(|p| {
            let base = p.symbol.trim_end_matches("usd").to_uppercase();
            json!({"name": format!("{base}/USD"), "url_symbol": p.symbol, "base_decimals": 8,
                   "counter_decimals": 2, "instant_order_counter_decimals": 2, "minimum_order": "10.00 USD",
                   "trading": "Enabled", "instant_and_market_orders": "Enabled",
                   "description": format!("{base} / U.S. dollar")})
        })
        .collect();
    ok(Value::Array(list).to_string())
}

pub(super) fn bitstamp_ohlc(ask: &Ask, symbol: &str) -> Response {
    let error =
        |status, reason: &str| answer(status, Vec::new(), json!({"status": "error", "reason": reason}).to_string());
    match ask.fault {
        Some(Fault::Ban | Fault::BodyLimit) => return error("429 Too Many Requests", "Rate limit exceeded"),
        // ⚠ Bitstamp documents no busy answer: a 503 in its error form.
        Some(Fault::Busy) => return error("503 Service Unavailable", "Service temporarily unavailable"),
        _ => {}
    }
    let Some(p) = pair("bitstamp", symbol) else {
        return answer(
            "404 Not Found",
            Vec::new(),
            json!({"code": "404", "errors": [{"message": "Not found"}]}).to_string(),
        );
    };
    let Some(iv) = interval("bitstamp", ask.param("step")) else {
        return error("400 Bad Request", "Invalid step");
    };
    let (start, end, limit) = match (ask.number("start"), ask.number("end"), ask.number("limit")) {
        (Ok(s), Ok(e), Ok(Some(l))) if (1..=1000).contains(&l) => (s, e, l),
        _ => return error("400 Bad Request", "Invalid start, end or limit (1 to 1000)"),
    };
    let series = Series::new("bitstamp", p.symbol, iv);
    let len = iv.minutes() * 60;
    let now = series.now_slot();
    let last = if ask.param("exclude_current_candle") == Some("true") { now - 1 } else { now };
    // `end` wins over `start` (Bitstamp's reference): the `limit` candles'
    // span up to the one opening at or before `end` (ccxt #20222: end −
    // step·(limit−1) .. end); `start` alone: the span from the first candle
    // opening at or after it.
    let (first, to) = match (start, end) {
        (Some(s), None) => {
            let first = s.div_euclid(len) + i64::from(s.rem_euclid(len) != 0);
            (first, (first + limit - 1).min(last))
        }
        (_, e) => {
            let to = e.map_or(last, |e| e.div_euclid(len).min(last));
            (to - limit + 1, to)
        }
    };
    let rows = series.range(first, to, usize::MAX, false);
    let (rows, times) = page(ask, rows, end.is_some() || start.is_none(), iv, || series.latest(300));
    let ohlc: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({"timestamp": times.secs(c.at).to_string(), "open": cents(c.open), "high": cents(c.high),
                   "low": cents(c.low), "close": cents(c.close), "volume": units(c.volume)})
        })
        .collect();
    let base = symbol.trim_end_matches("usd").to_uppercase();
    ok(json!({"data": {"pair": format!("{base}/USD"), "ohlc": ohlc}}).to_string())
}
