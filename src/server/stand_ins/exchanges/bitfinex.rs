//! The Bitfinex stand-in: its pair list and candles.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::super::data::{cents, pair, pairs, today, units};
use super::super::{candles, json as answer, newest, ok, page, Ask};
use super::{day_of_ms, ms};
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- Bitfinex ----
// https://docs.bitfinex.com/reference/rest-public-candles
//   GET /v2/candles/trade:1D:tBTCUSD/hist?start&end&limit&sort: rows
//   [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]; sort 1 oldest first, -1 (the
//   default) newest first; start and end in ms; limit up to 10000.
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
    let Some(symbol) = key.strip_prefix("trade:1D:") else {
        return answer(
            "500 Internal Server Error",
            Vec::new(),
            json!(["error", 10020, "time_interval: invalid"]).to_string(),
        );
    };
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
    let from = start
        .map_or(NaiveDate::MIN, |s| day_of_ms(s + 86_399_999))
        .max(NaiveDate::from_ymd_opt(2010, 1, 1).unwrap_or_default());
    let to = end.map_or_else(today, day_of_ms);
    let rows = candles("bitfinex", symbol, from, to);
    let ascending = ask.param("sort") == Some("1");
    let rows = if ascending { rows.into_iter().take(limit).collect::<Vec<_>>() } else { newest(rows, limit) };
    let (mut rows, times) = page(ask, rows, !ascending, |a, b| candles("bitfinex", symbol, a, b));
    if !ascending {
        rows.reverse();
    }
    let num = |s: String| s.parse::<f64>().map_or(Value::Null, Value::from);
    let out: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!([
                times.ms(ms(c.day)),
                num(cents(c.open)),
                num(cents(c.close)),
                num(cents(c.high)),
                num(cents(c.low)),
                num(units(c.volume))
            ])
        })
        .collect();
    ok(Value::Array(out).to_string())
}
