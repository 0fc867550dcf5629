//! The stand-ins of the six built-in sources, each under its provider's
//! own paths, answering as its documentation says (cited beside each).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::data::{cents, pair, pairs, today, units, Candle};
use super::{candles, day_of, json as answer, newest, ok, page, secs, Ask};
use crate::server::faults::Fault;
use crate::server::response::Response;
use crate::server::stats::lock;

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

// ---- Binance spot ----
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/market-data-endpoints#klinecandlestick-data
//   GET /api/v3/klines: symbol, interval, startTime, endTime (ms), limit
//   "Default 500; max 1000"; rows [open time, open, high, low, close,
//   volume, close time, quote asset volume, trades, taker buy base, taker
//   buy quote, ignore], numbers as strings; weight 2.
// https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits
//   X-MBX-USED-WEIGHT-1M on every answer; over the limit 429 with
//   Retry-After; "repeatedly violating rate limits ... will result in an
//   automated IP ban (HTTP status 418)", 2 minutes to 3 days, Retry-After.
// https://developers.binance.com/docs/binance-spot-api-docs/errors
//   -1121 Invalid symbol; -1003 too many requests; -1120 invalid interval.

/// 429s answered in one minute before a client that keeps asking is banned.
const BINANCE_STRIKES: u32 = 3;

/// Spends `weight` of the minute's budget: the headers to send, or the
/// refusal (429, or 418 for a client that ignored them).
fn binance_spend(ask: &Ask, weight: u32) -> Result<Vec<(&'static str, String)>, Response> {
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
        *w = super::super::stats::Weight { minute, used: 0, strikes: 0, banned_until: 0 };
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

fn binance_error(status: &'static str, retry_after: u64, code: i64, msg: &str) -> Response {
    answer(status, vec![("Retry-After", retry_after.to_string())], json!({"code": code, "msg": msg}).to_string())
}

fn binance_info(ask: &Ask) -> Response {
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

fn binance_klines(ask: &Ask) -> Response {
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
        _ => {}
    }
    let Some(symbol) = ask.param("symbol") else {
        return bad(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    };
    if pair("binance", symbol).is_none() {
        return bad(-1121, "Invalid symbol.");
    }
    if ask.param("interval") != Some("1d") {
        return bad(-1120, "Invalid interval.");
    }
    let (start, end, limit) = match (ask.number("startTime"), ask.number("endTime"), ask.number("limit")) {
        (Ok(s), Ok(e), Ok(l)) => (s, e, l.unwrap_or(500).clamp(1, 1000) as usize),
        (Err(m), ..) | (_, Err(m), _) | (.., Err(m)) => return bad(-1100, &m),
    };
    // Rows are identified by their open time: those from startTime to endTime.
    let from = start.map(|s| day_of_ms(s + 86_399_999)); // the first open time at or after it
    let to = end.map_or_else(today, day_of_ms);
    let rows = match from {
        Some(from) => {
            // `limit` rows at most from startTime: no day past them is read.
            let to = to.min(from + chrono::Duration::days(limit as i64 * 2));
            let mut rows = candles("binance", symbol, from, to);
            rows.truncate(limit);
            rows
        }
        None => newest(candles("binance", symbol, to - chrono::Duration::days(limit as i64 * 2), to), limit),
    };
    let (rows, offset) = page(ask, rows, from.is_none());
    let out: Vec<Value> = rows
        .iter()
        .map(|c| {
            let open_time = ms(c.day) + offset * 1000;
            json!([
                open_time,
                cents(c.open),
                cents(c.high),
                cents(c.low),
                cents(c.close),
                units(c.volume),
                open_time + 86_399_999,
                cents(c.close * c.volume / 10_000),
                1000 + c.volume % 5000,
                units(c.volume / 2),
                cents(c.close * c.volume / 20_000),
                "0"
            ])
        })
        .collect();
    answer("200 OK", headers, Value::Array(out).to_string())
}

// ---- Coinbase Exchange ----
// https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-candles
//   GET /products/{product_id}/candles?granularity&start&end: rows
//   [time, low, high, open, close, volume], "the first one being the most
//   recent"; "the maximum number of data points for a single request is
//   300 candles. If your selection of start/end time and granularity will
//   result in more than 300 data points, your request will be rejected";
//   no candle for an interval without trades.
// https://docs.cdp.coinbase.com/exchange/docs/rest-rate-limits: 10/s per IP, 429.

fn coinbase_products() -> Response {
    let list: Vec<Value> = pairs("coinbase")
        .iter()
        .map(|p| {
            let (base, quote) = p.symbol.split_once('-').unwrap_or((p.symbol, "USD"));
            json!({"id": p.symbol, "base_currency": base, "quote_currency": quote, "quote_increment": "0.01",
                   "base_increment": "0.00000001", "display_name": format!("{base}/{quote}"),
                   "min_market_funds": "1", "margin_enabled": false, "post_only": false, "limit_only": false,
                   "cancel_only": false, "status": "online", "status_message": "", "auction_mode": false,
                   "trading_disabled": false, "fx_stablecoin": false, "max_slippage_percentage": "0.02000000"})
        })
        .collect();
    ok(Value::Array(list).to_string())
}

fn coinbase_candles(ask: &Ask, id: &str) -> Response {
    let message = |status, m: &str| answer(status, Vec::new(), json!({"message": m}).to_string());
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return answer(
            "429 Too Many Requests",
            Vec::new(),
            json!({"message": "Public rate limit exceeded"}).to_string(),
        );
    }
    if pair("coinbase", id).is_none() {
        return message("404 Not Found", "NotFound");
    }
    if ask.param("granularity") != Some("86400") {
        return message("400 Bad Request", "Unsupported granularity");
    }
    let parse = |name: &str| ask.param(name).map(|v| iso(v).ok_or_else(|| format!("invalid {name}")));
    let (start, end) = match (parse("start").transpose(), parse("end").transpose()) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return message("400 Bad Request", &m),
    };
    let end = end.unwrap_or_else(today);
    let start = start.unwrap_or(end - chrono::Duration::days(299));
    if (end - start).num_days() > 300 {
        return message(
            "400 Bad Request",
            "granularity too small for the requested time range. Count of aggregations requested exceeds 300",
        );
    }
    let (rows, offset) = page(ask, candles("coinbase", id, start, end), false);
    let num = |s: String| s.parse::<f64>().map_or(Value::Null, Value::from);
    let out: Vec<Value> = rows
        .iter()
        .rev()
        .map(|c| {
            json!([
                secs(c.day) + offset,
                num(cents(c.low)),
                num(cents(c.high)),
                num(cents(c.open)),
                num(cents(c.close)),
                num(units(c.volume))
            ])
        })
        .collect();
    ok(Value::Array(out).to_string())
}

// ---- Kraken ----
// https://docs.kraken.com/api-reference/market-data/get-ohlc-data
//   GET /0/public/OHLC?pair&interval&since: {"error":[],"result":{<pair
//   name>:[[time, open, high, low, close, vwap, volume, count]], "last"}};
//   "returns up to 720 of the most recent entries (older data cannot be
//   retrieved, regardless of the value of since)"; "the last entry in the
//   OHLC array is for the current, not-yet-committed timeframe".
// https://docs.kraken.com/api-reference/market-data/get-tradable-asset-pairs
// Errors in the body's `error` array: EQuery:Unknown asset pair,
// EAPI:Rate limit exceeded, EGeneral:Temporary lockout.

fn kraken_error(e: &str) -> Response {
    ok(json!({"error": [e]}).to_string())
}

fn kraken_pairs() -> Response {
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

fn kraken_ohlc(ask: &Ask) -> Response {
    match ask.fault {
        Some(Fault::BodyLimit) => return kraken_error("EAPI:Rate limit exceeded"),
        Some(Fault::Ban) => return kraken_error("EGeneral:Temporary lockout"),
        _ => {}
    }
    let name = ask.param("pair").unwrap_or("");
    let Some(p) = pairs("kraken").iter().find(|p| p.symbol == name || p.alias == name) else {
        return kraken_error("EQuery:Unknown asset pair");
    };
    if ask.param("interval").unwrap_or("1") != "1440" {
        return kraken_error("EGeneral:Invalid arguments");
    }
    let Ok(since) = ask.number("since") else { return kraken_error("EGeneral:Invalid arguments:since") };
    let oldest = today() - chrono::Duration::days(719);
    let rows: Vec<Candle> = candles("kraken", p.symbol, oldest, today())
        .into_iter()
        .filter(|c| since.is_none_or(|s| secs(c.day) > s))
        .collect();
    let (rows, offset) = page(ask, rows, false);
    let out: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!([
                secs(c.day) + offset,
                cents(c.open),
                cents(c.high),
                cents(c.low),
                cents(c.close),
                cents(c.close),
                units(c.volume),
                100 + c.volume % 900
            ])
        })
        .collect();
    let last = secs(today() - chrono::Duration::days(1));
    let mut result = serde_json::Map::new();
    result.insert(p.alias.to_string(), Value::Array(out));
    result.insert("last".into(), json!(last));
    ok(json!({"error": [], "result": result}).to_string())
}

// ---- Bitstamp ----
// https://www.bitstamp.net/api/#tag/Market-info/operation/GetOHLCData
//   GET /api/v2/ohlc/{market_symbol}/?step&limit&start&end&exclude_current_candle:
//   {"data":{"pair":"BTC/USD","ohlc":[{"timestamp","open","high","low","close","volume"}]}},
//   strings, oldest first, limit 1 to 1000. (⚠ from clients' code and notes:
//   the reference page could not be read here.)

fn bitstamp_pairs() -> Response {
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

fn bitstamp_ohlc(ask: &Ask, symbol: &str) -> Response {
    let error =
        |status, reason: &str| answer(status, Vec::new(), json!({"status": "error", "reason": reason}).to_string());
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return error("429 Too Many Requests", "Rate limit exceeded");
    }
    let Some(p) = pair("bitstamp", symbol) else {
        return answer(
            "404 Not Found",
            Vec::new(),
            json!({"code": "404", "errors": [{"message": "Not found"}]}).to_string(),
        );
    };
    if ask.param("step") != Some("86400") {
        return error("400 Bad Request", "Invalid step");
    }
    let (start, end, limit) = match (ask.number("start"), ask.number("end"), ask.number("limit")) {
        (Ok(s), Ok(e), Ok(Some(l))) if (1..=1000).contains(&l) => (s, e, l as usize),
        _ => return error("400 Bad Request", "Invalid start, end or limit (1 to 1000)"),
    };
    let exclude = ask.param("exclude_current_candle") == Some("true");
    let last = if exclude { today() - chrono::Duration::days(1) } else { today() };
    // start wins over end: `limit` rows from it.
    let rows = match (start, end) {
        (Some(s), _) => {
            let from = day_of(s + 86_399);
            let to = last.min(from + chrono::Duration::days(limit as i64 - 1));
            let mut rows = candles("bitstamp", p.symbol, from, to);
            rows.truncate(limit);
            rows
        }
        (None, e) => {
            let to = e.map_or(last, |e| day_of(e).min(last));
            newest(candles("bitstamp", p.symbol, to - chrono::Duration::days(limit as i64 * 2), to), limit)
        }
    };
    let (rows, offset) = page(ask, rows, start.is_none());
    let ohlc: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!({"timestamp": (secs(c.day) + offset).to_string(), "open": cents(c.open), "high": cents(c.high),
                   "low": cents(c.low), "close": cents(c.close), "volume": units(c.volume)})
        })
        .collect();
    let base = symbol.trim_end_matches("usd").to_uppercase();
    ok(json!({"data": {"pair": format!("{base}/USD"), "ohlc": ohlc}}).to_string())
}

// ---- Bitfinex ----
// https://docs.bitfinex.com/reference/rest-public-candles
//   GET /v2/candles/trade:1D:tBTCUSD/hist?start&end&limit&sort: rows
//   [MTS, OPEN, CLOSE, HIGH, LOW, VOLUME]; sort 1 oldest first, -1 (the
//   default) newest first; start and end in ms; limit up to 10000.
// https://docs.bitfinex.com/docs/requirements-and-limitations: 30 to 90
//   requests a minute on candles; errors as ["error", CODE, "message"].
// Days without trades have no candle.

fn bitfinex_pairs() -> Response {
    let names: Vec<&str> = pairs("bitfinex").iter().map(|p| p.symbol.trim_start_matches('t')).collect();
    ok(json!([names]).to_string())
}

fn bitfinex_candles(ask: &Ask, key: &str) -> Response {
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return answer("429 Too Many Requests", Vec::new(), json!(["error", 11010, "ratelimit: error"]).to_string());
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
    let (mut rows, offset) = page(ask, rows, !ascending);
    if !ascending {
        rows.reverse();
    }
    let num = |s: String| s.parse::<f64>().map_or(Value::Null, Value::from);
    let out: Vec<Value> = rows
        .iter()
        .map(|c| {
            json!([
                ms(c.day) + offset * 1000,
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

// ---- OKX ----
// https://www.okx.com/docs-v5/en/#order-book-trading-market-data-get-candlesticks-history
//   GET /api/v5/market/history-candles?instId&bar&after&before&limit:
//   {"code":"0","msg":"","data":[[ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm]]},
//   newest first; after: "records earlier than the requested ts", before:
//   "records newer than the requested ts"; limit max 100, default 100;
//   bar 1D is a Hong Kong (UTC+8) day, 1Dutc a UTC day; confirm "0" for
//   an unfinished candle. 20 requests per 2 s; over it 429, code 50011.
// https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments

fn okx_error(status: &'static str, code: &str, msg: &str) -> Response {
    answer(status, Vec::new(), json!({"code": code, "msg": msg, "data": []}).to_string())
}

fn okx_instruments(ask: &Ask) -> Response {
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

fn okx_candles(ask: &Ask) -> Response {
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return okx_error("429 Too Many Requests", "50011", "Too Many Requests");
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
    let (rows, offset) = page(ask, newest(asked, limit), true);
    let ts = |c: &Candle| at(c) + offset * 1000;
    let data: Vec<Value> = rows
        .iter()
        .rev()
        .map(|c| {
            let confirm = if c.day < today() { "1" } else { "0" };
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
