//! The OKX stand-in: its instruments and history candles.

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::super::data::{cents, pair, pairs, today, units, Candle};
use super::super::{candles, json as answer, newest, ok, page, Ask};
use super::ms;
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- OKX ----
// https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-candlesticks-history
//   GET /api/v5/market/history-candles?instId&bar&after&before&limit:
//   {"code":"0","msg":"","data":[[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]]},
//   newest first; after: "records earlier than the requested ts", before:
//   "records newer than the requested ts"; limit max 100, default 100;
//   bar 1D is a Hong Kong (UTC+8) day, 1Dutc a UTC day; confirm "0" for
//   an unfinished candle. 20 requests per 2 s; over it 429, code 50011.
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
    // A Hong Kong day starts at 16:00 UTC the day before.
    let hk = match ask.param("bar") {
        Some("1Dutc") => 0,
        Some("1D") => -8 * 3600,
        _ => return okx_error("400 Bad Request", "51000", "Parameter bar error"),
    };
    let (after, before, limit) = match (ask.number("after"), ask.number("before"), ask.number("limit")) {
        (Ok(a), Ok(b), Ok(l)) => (a, b, l.unwrap_or(100).clamp(1, 100) as usize),
        _ => return okx_error("400 Bad Request", "51000", "Parameter error"),
    };
    let all = candles("okx", symbol, NaiveDate::from_ymd_opt(2017, 1, 1).unwrap_or_default(), today());
    let at = |c: &Candle| ms(c.day) + hk * 1000;
    let asked: Vec<Candle> =
        all.into_iter().filter(|c| after.is_none_or(|a| at(c) < a) && before.is_none_or(|b| at(c) > b)).collect();
    // Newest first: the newest `limit` of those asked for.
    let (rows, times) = page(ask, newest(asked, limit), true, |a, b| candles("okx", symbol, a, b));
    let ts = |c: &Candle| times.ms(at(c));
    let data: Vec<Value> = rows
        .iter()
        .rev()
        .map(|c| {
            let closed = c.day < today() && ask.fault != Some(Fault::Unclosed);
            let confirm = if closed { "1" } else { "0" };
            json!([
                ts(c).to_string(),
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
