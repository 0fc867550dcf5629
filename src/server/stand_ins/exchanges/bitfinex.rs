//! The Bitfinex stand-in: its pair list and candles.

use std::fmt::Write;

use serde_json::{json, Value};

use super::super::data::{cents, pair, pairs, units};
use super::super::{json as answer, ok, page, Ask, Series};
use super::interval;
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- Bitfinex ----
// https://docs.bitfinex.com/reference/rest-public-candles
//   GET /v2/candles/trade:1D:tBTCUSD/hist?start&end&limit&sort: rows
//   [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]; sort 1 oldest first, -1 (the
//   default) newest first; start and end in ms ("MTS >= start", "MTS <=
//   end"); limit up to 10000, default 100. Time frames "1m", "5m", "15m",
//   "30m", "1h", "3h", "6h", "12h", "1D", "1W", "14D", "1M" (the last
//   three not served here: pricequeue has no week). ⚠ The current candle
//   is served, still changing (no flag in the row says so).
// https://docs.bitfinex.com/docs/requirements-and-limitations: 30 to 90
//   requests a minute on candles; errors as ["error", CODE, "message"].
// Days without trades have no candle.
// ⚠ Busy: a 503 with {"code":503,"error":"temporarily_unavailable",...},
//   as clients have seen it (ccxt's notes); not on Bitfinex's pages read
//   here. Its error code 10020 is ERR_PARAMS, "Request parameters error"
//   (https://docs.bitfinex.com/docs/abbreviations-glossary): not busy.

pub(super) fn bitfinex_pairs() -> Response {
    let names: Vec<&str> = pairs("bitfinex").iter().map(|p| p.symbol.trim_start_matches('t')).collect();
    ok(json!([names]).to_string())
}

pub(super) fn bitfinex_candles(ask: &Ask, key: &str) -> Response {
    match ask.fault {
        Some(Fault::Ban | Fault::BodyLimit) => {
            return answer("429 Too Many Requests", Vec::new(), json!(["error", 11010, "ratelimit: error"]).to_string())
        }
        Some(Fault::Busy) => {
            let body = json!({"code": 503, "error": "temporarily_unavailable",
                              "error_description": "the service is temporarily unavailable"});
            return answer("503 Service Unavailable", Vec::new(), body.to_string());
        }
        _ => {}
    }
    let parts: Vec<&str> = key.splitn(3, ':').collect();
    let (Some(iv), [_, _, symbol]) = (interval("bitfinex", parts.get(1).copied()), parts.as_slice()) else {
        return answer(
            "500 Internal Server Error",
            Vec::new(),
            json!(["error", 10020, "time_interval: invalid"]).to_string(),
        );
    };
    let symbol = *symbol;
    // An unknown symbol is an empty list, as the API answers it.
    if pair("bitfinex", symbol).is_none() {
        return ok("[]".into());
    }
    let (start, end, limit) = match (ask.number("start"), ask.number("end"), ask.number("limit")) {
        (Ok(s), Ok(e), Ok(l)) => (s, e, l.unwrap_or(100).clamp(1, 10_000) as usize),
        _ => {
            return answer(
                "500 Internal Server Error",
                Vec::new(),
                json!(["error", 10020, "params: invalid"]).to_string(),
            )
        }
    };
    let series = Series::new("bitfinex", symbol, iv);
    let len = iv.ms();
    // "MTS >= start", "MTS <= end": both inclusive.
    let first = start.map_or(i64::MIN / 2, |s| s.div_euclid(len) + i64::from(s.rem_euclid(len) != 0));
    let last = end.map_or(i64::MAX, |e| e.div_euclid(len));
    let ascending = ask.param("sort") == Some("1");
    let rows = series.range(first, last, limit, !ascending);
    let (mut rows, times) = page(ask, rows, !ascending, iv, || series.latest(300));
    if !ascending {
        rows.reverse();
    }
    let mut out = String::with_capacity(rows.len() * 80 + 2);
    out.push('[');
    for (i, c) in rows.iter().enumerate() {
        let _ = write!(
            out,
            "{}[{},{},{},{},{},{}]",
            if i == 0 { "" } else { "," },
            times.ms(c.at * 1000),
            number(cents(c.open)),
            number(cents(c.close)),
            number(cents(c.high)),
            number(cents(c.low)),
            number(units(c.volume))
        );
    }
    out.push(']');
    ok(out)
}

/// A decimal as a JSON number, as Bitfinex writes them: no trailing zeros.
fn number(s: String) -> String {
    s.parse::<f64>().map_or_else(|_| "null".into(), |x| Value::from(x).to_string())
}
