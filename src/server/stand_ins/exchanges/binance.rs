//! The Binance spot stand-in: its exchangeInfo and klines, its weight
//! budget, its 429s and its ban.

use chrono::Utc;
use serde_json::{json, Value};

use super::super::data::{pair, pairs, push_decimal, push_int};
use super::super::{json as answer, page, Ask, Series};
use super::interval;
use crate::server::faults::Fault;
use crate::server::response::Response;
use crate::server::stats::lock;

// ---- Binance spot ----
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
//   GET /api/v3/klines: symbol, interval, startTime, endTime (ms), limit
//   "Default 500; max 1000"; rows [open time, open, high, low, close,
//   volume, close time, quote asset volume, trades, taker buy base, taker
//   buy quote, ignore], numbers as strings; weight 2. Intervals (case-
//   sensitive) 1s, 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d,
//   1w, 1M: no 3h. With startTime the oldest rows from it, without it the
//   newest up to endTime (or now); close time = open time + interval - 1 ms.
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information
//   "data is returned in ascending order. Oldest first, newest last";
//   startTime and endTime both sent: as startTime alone, up to endTime.
// ⚠ Not documented: the current, unclosed kline is served (its close time
//   is after now), as clients report (python-binance #1259); a minute with
//   no trade has no kline here (real answers also show flat 0-volume rows).
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
//   X-MBX-USED-WEIGHT-1M on every answer; over the limit 429 with
//   Retry-After; "repeatedly violating rate limits ... will result in an
//   automated IP ban (HTTP status 418)", 2 minutes to 3 days, Retry-After.
// https://developers.binance.com/docs/binance-spot-api-docs/errors
//   -1121 Invalid symbol; -1003 too many requests; -1120 invalid interval;
//   -1008 SERVER_BUSY "Server is currently overloaded with other
//   requests. Please try again in a few minutes.", with a 5xx status
//   ("the issue is on Binance's side"; 503 for "Service Unavailable").

/// 429s answered in one minute before a client that keeps asking is banned.
const BINANCE_STRIKES: u32 = 3;

/// Spends `weight` of the minute's budget: the headers to send, or the
/// refusal (429, or 418 for a client that ignored them).
pub(super) fn binance_spend(ask: &Ask, weight: u32) -> Result<Vec<(&'static str, String)>, Response> {
    let now = Utc::now().timestamp();
    let minute = now / 60;
    let mut w = lock(&ask.stats.weight);
    if w.banned_until > now {
        let wait = w.banned_until - now;
        return Err(binance_error(
            "418 I'm a teapot",
            wait as u64,
            -1003,
            "Way too much request weight used; IP banned.",
        ));
    }
    if w.minute != minute {
        *w = crate::server::stats::Weight { minute, used: 0, strikes: 0, banned_until: 0 };
    }
    if ask.options.enforce_limits && w.used + weight > ask.options.binance_weight {
        w.strikes += 1;
        if w.strikes > BINANCE_STRIKES {
            w.banned_until = now + ask.options.ban.as_secs().max(1) as i64;
            return Err(binance_error(
                "418 I'm a teapot",
                ask.options.ban.as_secs().max(1),
                -1003,
                "Way too much request weight used; IP banned.",
            ));
        }
        let wait = (minute + 1) * 60 - now;
        return Err(binance_error("429 Too Many Requests", wait as u64, -1003, "Too much request weight used."));
    }
    w.used += weight;
    Ok(vec![("X-MBX-USED-WEIGHT-1M", w.used.to_string())])
}

pub(super) fn binance_error(status: &'static str, retry_after: u64, code: i64, msg: &str) -> Response {
    answer(status, vec![("Retry-After", retry_after.to_string())], json!({"code": code, "msg": msg}).to_string())
}

pub(super) fn binance_info(ask: &Ask) -> Response {
    let headers = match binance_spend(ask, 20) {
        Ok(h) => h,
        Err(refused) => return refused,
    };
    let symbols: Vec<Value> = pairs("binance")
        .iter()
        .map(|p| {
            let base = p.symbol.trim_end_matches("USDT");
            json!({
                "symbol": p.symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
                "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
                "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
                "icebergAllowed": true, "ocoAllowed": true, "otoAllowed": true,
                "quoteOrderQtyMarketAllowed": true, "allowTrailingStop": true, "cancelReplaceAllowed": true,
                "isSpotTradingAllowed": true, "isMarginTradingAllowed": false,
                "filters": [
                    {"filterType": "PRICE_FILTER", "minPrice": "0.01000000", "maxPrice": "1000000.00000000", "tickSize": "0.01000000"},
                    {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000.00000000", "stepSize": "0.00001000"},
                    {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": true,
                     "maxNotional": "9000000.00000000", "applyMaxToMarket": false, "avgPriceMins": 5}
                ],
                "permissions": [], "permissionSets": [["SPOT"]],
                "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
                "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"]
            })
        })
        .collect();
    let body = json!({
        "timezone": "UTC",
        "serverTime": Utc::now().timestamp_millis(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": ask.options.binance_weight},
            {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
            {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000}
        ],
        "exchangeFilters": [],
        "symbols": symbols
    });
    answer("200 OK", headers, body.to_string())
}

pub(super) fn binance_klines(ask: &Ask) -> Response {
    let headers = match binance_spend(ask, 2) {
        Ok(h) => h,
        Err(refused) => return refused,
    };
    let bad = |code: i64, msg: &str| {
        answer("400 Bad Request", headers.clone(), json!({"code": code, "msg": msg}).to_string())
    };
    match ask.fault {
        Some(Fault::Ban) => {
            return binance_error(
                "418 I'm a teapot",
                ask.retry_after(),
                -1003,
                "Way too much request weight used; IP banned.",
            )
        }
        Some(Fault::BodyLimit) => {
            return binance_error("429 Too Many Requests", ask.retry_after(), -1003, "Too much request weight used.")
        }
        Some(Fault::Busy) => {
            let msg = "Server is currently overloaded with other requests. Please try again in a few minutes.";
            return answer("503 Service Unavailable", headers, json!({"code": -1008, "msg": msg}).to_string());
        }
        _ => {}
    }
    let Some(symbol) = ask.param("symbol") else {
        return bad(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    };
    if pair("binance", symbol).is_none() {
        return bad(-1121, "Invalid symbol.");
    }
    let Some(iv) = interval("binance", ask.param("interval")) else {
        return bad(-1120, "Invalid interval.");
    };
    let (start, end, limit) = match (ask.number("startTime"), ask.number("endTime"), ask.number("limit")) {
        (Ok(s), Ok(e), Ok(l)) => (s, e, l.unwrap_or(500).clamp(1, 1000) as usize),
        (Err(m), ..) | (_, Err(m), _) | (.., Err(m)) => return bad(-1100, &m),
    };
    let series = Series::new("binance", symbol, iv);
    // Rows are identified by their open time: those from startTime to
    // endTime; with startTime the oldest `limit` of them, without it the
    // newest, up to the current candle.
    let len = iv.ms();
    let first = start.map(|s| s.div_euclid(len) + i64::from(s.rem_euclid(len) != 0));
    let last = end.map_or(i64::MAX, |e| e.div_euclid(len));
    let rows = series.range(first.unwrap_or(i64::MIN / 2), last, limit, first.is_none());
    let (rows, times) = page(ask, rows, first.is_none(), iv, || series.latest(300));
    // Written by hand rather than through serde_json: a page of a thousand
    // 1m klines is what a year of them is fetched in, a thousand times.
    let mut out = String::with_capacity(rows.len() * 160 + 2);
    out.push('[');
    for (i, c) in rows.iter().enumerate() {
        let open = c.at * 1000;
        out.push_str(if i == 0 { "[" } else { ",[" });
        push_int(&mut out, times.ms(open));
        for (v, places) in [(c.open, 2), (c.high, 2), (c.low, 2), (c.close, 2), (c.volume, 4)] {
            out.push_str(",\"");
            push_decimal(&mut out, v, places);
            out.push('"');
        }
        out.push(',');
        push_int(&mut out, times.ms(open + len - 1));
        out.push_str(",\"");
        push_decimal(&mut out, c.close * c.volume / 10_000, 2);
        out.push_str("\",");
        push_int(&mut out, 1000 + c.volume % 5000);
        out.push_str(",\"");
        push_decimal(&mut out, c.volume / 2, 4);
        out.push_str("\",\"");
        push_decimal(&mut out, c.close * c.volume / 20_000, 2);
        out.push_str("\",\"0\"]");
    }
    out.push(']');
    answer("200 OK", headers, out)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::server::{Server, ServerOptions};

    /// (status, Retry-After, X-MBX-USED-WEIGHT-1M) of a klines request.
    fn klines(url: &str) -> (u16, Option<String>, Option<String>) {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let resp = agent
            .get(&format!("{url}/api/v3/klines?symbol=BTCUSDT&interval=1d&startTime=1577836800000&limit=5"))
            .call()
            .unwrap();
        let header = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
        (resp.status().as_u16(), header("retry-after"), header("x-mbx-used-weight-1m"))
    }

    #[test]
    fn binance_counts_weight_refuses_past_it_and_bans_a_client_that_keeps_asking() {
        let options = ServerOptions { binance_weight: 6, ban: Duration::from_secs(7), ..ServerOptions::default() };
        let server = Server::start("127.0.0.1:0", options).unwrap();
        let url = server.url();
        // A minute's turn between two requests would reset the budget: try again then.
        for _ in 0..3 {
            let answers: Vec<_> = (0..8).map(|_| klines(&url)).collect();
            let minute_turned = answers.windows(2).any(|w| {
                let used = |a: &(u16, Option<String>, Option<String>)| a.2.clone().and_then(|v| v.parse::<u32>().ok());
                matches!((used(&w[0]), used(&w[1])), (Some(a), Some(b)) if b < a)
            });
            if minute_turned {
                continue;
            }
            let statuses: Vec<u16> = answers.iter().map(|a| a.0).collect();
            assert_eq!(statuses, [200, 200, 200, 429, 429, 429, 418, 418], "{answers:?}");
            assert_eq!(answers[2].2.as_deref(), Some("6"), "the weight used, 2 a request");
            assert!(answers[3].1.as_deref().is_some_and(|s| s.parse::<u64>().unwrap() <= 60), "{answers:?}");
            assert_eq!(answers[6].1.as_deref(), Some("7"), "the ban's length");
            return;
        }
        panic!("the minute turned three times in a row");
    }
}
