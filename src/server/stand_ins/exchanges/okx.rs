//! The OKX stand-in: its instruments and history candles.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::super::data::{cents, pair, pairs, units};
use super::super::{json as answer, ok, page, Ask, Series};
use super::{interval, ms};
use crate::interval::Interval;
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- OKX ----
// https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-candlesticks-history
//   GET /api/v5/market/history-candles?instId&bar&after&before&limit:
//   {"code":"0","msg":"","data":[[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]]},
//   newest first; after: "records earlier than the requested ts", before:
//   "records newer than the requested ts"; limit max 100, default 100;
//   bar 1m, 3m, 5m, 15m, 30m, 1H, 2H, 4H; Hong Kong time (UTC+8) 6H, 12H,
//   1D; UTC 6Hutc, 12Hutc, 1Dutc (and longer ones, not served here);
//   confirm "0" for an unfinished candle. 20 requests per 2 s; over it 429, code 50011.
// https://web3.okx.com/onchainos/dev-docs/data/error (OKX's table of the
//   general 50xxx codes its APIs share; ⚠ the exchange's own copy on
//   okx.com/docs-v5 could not be read here): 50013 "System is busy",
//   HTTP 200; 50001 "Service temporarily unavailable", 503; 50026
//   "System error", 500.
// https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments

pub(super) fn okx_error(status: &'static str, code: &str, msg: &str) -> Response {
    answer(status, Vec::new(), json!({"code": code, "msg": msg, "data": []}).to_string())
}

pub(super) fn okx_instruments(ask: &Ask) -> Response {
    if ask.param("instType") != Some("SPOT") {
        return okx_error("400 Bad Request", "51000", "Parameter instType error");
    }
    let data: Vec<Value> = pairs("okx")
        .iter()
        .map(|p| {
            let (base, quote) = p.symbol.split_once('-').unwrap_or((p.symbol, "USDT"));
            json!({"instType": "SPOT", "instId": p.symbol, "uly": "", "instFamily": "", "baseCcy": base,
                   "quoteCcy": quote, "settleCcy": "", "ctVal": "", "ctMult": "", "ctValCcy": "", "optType": "",
                   "stk": "", "listTime": ms(NaiveDate::from_ymd_opt(p.first.0, p.first.1, p.first.2).unwrap_or_default()).to_string(),
                   "expTime": "", "lever": "", "tickSz": "0.01", "lotSz": "0.00000001", "minSz": "0.00001",
                   "ctType": "", "alias": "", "state": "live", "maxLmtSz": "9999999999", "maxMktSz": "1000000",
                   "maxTwapSz": "", "maxIcebergSz": "", "maxTriggerSz": "", "maxStopSz": "", "ruleType": "normal"})
        })
        .collect();
    ok(json!({"code": "0", "msg": "", "data": data}).to_string())
}

pub(super) fn okx_candles(ask: &Ask) -> Response {
    match ask.fault {
        Some(Fault::Ban | Fault::BodyLimit) => return okx_error("429 Too Many Requests", "50011", "Too Many Requests"),
        Some(Fault::Busy) => return okx_error("200 OK", "50013", "System is busy, please try again later."),
        _ => {}
    }
    let symbol = ask.param("instId").unwrap_or("");
    if pair("okx", symbol).is_none() {
        return okx_error("200 OK", "51001", "Instrument ID does not exist");
    }
    // Hong Kong bars (`6H`, `12H`, `1D`) start 8 hours before UTC ones.
    let (iv, shift) = match ask.param("bar") {
        Some("6H") => (Interval::H6, -480),
        Some("12H") => (Interval::H12, -480),
        Some("1D") => (Interval::D1, -480),
        bar => match interval("okx", bar) {
            Some(iv) => (iv, 0),
            None => return okx_error("400 Bad Request", "51000", "Parameter bar error"),
        },
    };
    let (after, before, limit) = match (ask.number("after"), ask.number("before"), ask.number("limit")) {
        (Ok(a), Ok(b), Ok(l)) => (a, b, l.unwrap_or(100).clamp(1, 100) as usize),
        _ => return okx_error("400 Bad Request", "51000", "Parameter error"),
    };
    let series = Series { shift, ..Series::new("okx", symbol, iv) };
    // Candles opening before `after` and after `before`, both exclusive;
    // the newest `limit` of them (the answer is newest first).
    let (len, shift_ms) = (iv.ms(), shift * 60_000);
    let last = after.map_or(i64::MAX, |a| (a - 1 - shift_ms).div_euclid(len));
    let first = before.map_or(i64::MIN / 2, |b| (b - shift_ms).div_euclid(len) + 1);
    let rows = series.range(first, last, limit, true);
    let (rows, times) = page(ask, rows, true, iv, || series.latest(300));
    let now = series.open_secs(series.now_slot());
    let data: Vec<Value> = rows
        .iter()
        .rev()
        .map(|c| {
            let closed = c.at < now && ask.fault != Some(Fault::Unclosed);
            let confirm = if closed { "1" } else { "0" };
            json!([
                times.ms(c.at * 1000).to_string(),
                cents(c.open),
                cents(c.high),
                cents(c.low),
                cents(c.close),
                units(c.volume),
                units(c.volume),
                cents(c.close * c.volume / 10_000),
                confirm
            ])
        })
        .collect();
    ok(json!({"code": "0", "msg": "", "data": data}).to_string())
}
