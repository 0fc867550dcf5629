//! Stand-ins for APIs pricequeue does not build in, which the README's
//! declarations speak: CryptoCompare's `histoday`, Alpha Vantage's
//! `TIME_SERIES_DAILY`, Stooq's CSV and CoinGecko's `market_chart/range`.

use chrono::{Datelike, NaiveDate, Weekday};
use serde_json::{json, Value};

use super::data::{cents, pair, pairs, today, units, Candle};
use super::{candles, day_of, json as answer, latest, ok, page, secs, Ask};
use crate::interval::Interval::D1;
use crate::server::faults::Fault;
use crate::server::response::{AnswerKind, Response};

pub(super) fn route(ask: &Ask) -> Option<Response> {
    // None of these APIs documents a busy answer: a 503 without a time.
    if ask.fault == Some(Fault::Busy) {
        return Some(answer("503 Service Unavailable", Vec::new(), json!({"error": "busy"}).to_string()));
    }
    Some(match ask.path {
        "/data/v2/histoday" => cryptocompare(ask),
        "/data/all/coinlist" => cryptocompare_list(),
        "/query" => alphavantage(ask),
        "/q/d/l/" => stooq(ask),
        "/api/v3/coins/list" => coingecko_list(),
        path => {
            let id = path.strip_prefix("/api/v3/coins/")?.strip_suffix("/market_chart/range")?;
            coingecko(ask, id)
        }
    })
}

/// Stocks trade on weekdays: the stand-ins of stock APIs have no rows on
/// Saturdays and Sundays, and none for today until it has ended.
fn trading(rows: Vec<Candle>) -> Vec<Candle> {
    rows.into_iter().filter(|c| !matches!(c.day.weekday(), Weekday::Sat | Weekday::Sun) && c.day < today()).collect()
}

// ---- CryptoCompare ----
// https://developers.cryptocompare.com/documentation/legacy/Historical/dataHistoday
//   GET /data/v2/histoday?fsym&tsym&limit&toTs&e: limit + 1 daily rows
//   ending at toTs, at most 2000, oldest first, under Data.Data:
//   {"time","high","low","open","volumefrom","volumeto","close",
//   "conversionType","conversionSymbol"}; errors with status 200 as
//   {"Response":"Error","Message":...}. ⚠ Before a coin's history the real
//   API sends rows of zeros (so say users' notes; not on the page above,
//   nor found in any page searched); this stand-in sends none.

fn cc_error(message: &str) -> Response {
    ok(json!({"Response": "Error", "Message": message, "HasWarning": false, "Type": 2, "RateLimit": {}, "Data": {}})
        .to_string())
}

fn cryptocompare_list() -> Response {
    let mut data = serde_json::Map::new();
    for p in pairs("cryptocompare") {
        data.insert(
            p.symbol.into(),
            json!({"Id": "1182", "Symbol": p.symbol, "CoinName": p.symbol, "IsTrading": true}),
        );
    }
    ok(json!({"Response": "Success", "Message": "Coin list succesfully returned!", "Data": data}).to_string())
}

fn cryptocompare(ask: &Ask) -> Response {
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return cc_error("You are over your rate limit please upgrade your account!");
    }
    let fsym = ask.param("fsym").unwrap_or("");
    if pair("cryptocompare", fsym).is_none() {
        return cc_error("fsym param is invalid. (fsym does not exist)");
    }
    if ask.param("tsym") != Some("USD") {
        return cc_error("tsym param is invalid. (this stand-in prices in USD)");
    }
    let (limit, to_ts) = match (ask.number("limit"), ask.number("toTs")) {
        (Ok(l), Ok(t)) => (l.unwrap_or(30), t),
        _ => return cc_error("limit and toTs are whole numbers"),
    };
    if !(1..=2000).contains(&limit) {
        return cc_error("limit param is not an integer between 1 and 2000");
    }
    let to = to_ts.map_or_else(today, day_of).min(today());
    let from = to - chrono::Duration::days(limit);
    let (rows, times) = page(ask, candles("cryptocompare", fsym, from, to), true, D1, || latest("cryptocompare", fsym));
    let data: Vec<Value> = rows
        .iter()
        .map(|c| {
            let num = |s: String| s.parse::<f64>().map_or(Value::Null, Value::from);
            json!({"time": times.secs(secs(c.day)), "high": num(cents(c.high)), "low": num(cents(c.low)),
                   "open": num(cents(c.open)), "volumefrom": num(units(c.volume)),
                   "volumeto": num(cents(c.close * c.volume / 10_000)), "close": num(cents(c.close)),
                   "conversionType": "direct", "conversionSymbol": ""})
        })
        .collect();
    ok(json!({"Response": "Success", "Message": "", "HasWarning": false, "Type": 100, "RateLimit": {},
              "Data": {"Aggregated": false, "TimeFrom": secs(from), "TimeTo": secs(to), "Data": data}})
    .to_string())
}

// ---- Alpha Vantage ----
// https://www.alphavantage.co/documentation/#daily
//   GET /query?function=TIME_SERIES_DAILY&symbol&outputsize=compact|full&apikey:
//   {"Meta Data":{...},"Time Series (Daily)":{"2024-01-02":{"1. open",
//   "2. high","3. low","4. close","5. volume"}}}, newest first; compact is
//   the latest 100 data points. Errors and limits arrive with status 200:
//   "Error Message" (an invalid call or key), "Note" or "Information"
//   (the call frequency).

fn alphavantage(ask: &Ask) -> Response {
    let said = |key: &str, text: &str| ok(json!({ key: text }).to_string());
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return said(
            "Note",
            "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day.",
        );
    }
    if ask.param("apikey").is_none_or(str::is_empty) {
        return said(
            "Error Message",
            "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key).",
        );
    }
    let symbol = ask.param("symbol").unwrap_or("");
    if ask.param("function") != Some("TIME_SERIES_DAILY") || pair("alphavantage", symbol).is_none() {
        return said(
            "Error Message",
            "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY.",
        );
    }
    let full = ask.param("outputsize") == Some("full");
    let first = super::data::first_day("alphavantage", symbol).unwrap_or(today());
    let mut rows = trading(candles("alphavantage", symbol, first, today()));
    if !full {
        rows = super::newest(rows, 100);
    }
    // Keyed by day: a time off the UTC day cannot be said here.
    let (rows, _) = page(ask, rows, true, D1, || trading(latest("alphavantage", symbol)));
    let mut series = serde_json::Map::new();
    for c in rows.iter().rev() {
        series.insert(
            c.day.to_string(),
            json!({"1. open": cents(c.open), "2. high": cents(c.high), "3. low": cents(c.low),
                   "4. close": cents(c.close), "5. volume": units(c.volume)}),
        );
    }
    let last = rows.last().map_or_else(String::new, |c| c.day.to_string());
    ok(json!({
        "Meta Data": {"1. Information": "Daily Prices (open, high, low, close) and Volumes", "2. Symbol": symbol,
                      "3. Last Refreshed": last, "4. Output Size": if full { "Full size" } else { "Compact" },
                      "5. Time Zone": "US/Eastern"},
        "Time Series (Daily)": series
    })
    .to_string())
}

// ---- Stooq ----
// https://stooq.com/q/d/?s=aapl.us (the page's CSV link):
//   GET /q/d/l/?s&i=d&d1=YYYYMMDD&d2=YYYYMMDD: CSV "Date,Open,High,Low,Close,Volume",
//   oldest first; "No data" for a name it does not know. ⚠ Stooq documents
//   none of this. A report of 2026-07-29
//   (https://github.com/Verdenroz/finance-query/issues/263) says the CSV
//   link now answers clients that are not browsers with an HTML page and
//   a proof-of-work challenge, with status 200; this stand-in does not.

fn stooq(ask: &Ask) -> Response {
    let csv = |body: String| Response::Headed {
        status: "200 OK",
        headers: Vec::new(),
        content_type: "text/csv",
        body: body.into_bytes(),
        answer: AnswerKind::List,
    };
    let symbol = ask.param("s").unwrap_or("");
    let day = |name: &str| ask.param(name).and_then(|v| NaiveDate::parse_from_str(v, "%Y%m%d").ok());
    if pair("stooq", symbol).is_none() || ask.param("i") != Some("d") {
        return csv("No data".into());
    }
    let from = day("d1").unwrap_or(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default());
    let to = day("d2").unwrap_or_else(today);
    let (rows, _) =
        page(ask, trading(candles("stooq", symbol, from, to)), false, D1, || trading(latest("stooq", symbol)));
    let mut out = String::from("Date,Open,High,Low,Close,Volume\n");
    for c in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            c.day,
            cents(c.open),
            cents(c.high),
            cents(c.low),
            cents(c.close),
            units(c.volume)
        ));
    }
    csv(out)
}

// ---- CoinGecko ----
// https://docs.coingecko.com/reference/coins-id-market-chart-range
//   GET /api/v3/coins/{id}/market_chart/range?vs_currency&from&to (Unix s):
//   {"prices":[[ms, price]],"market_caps":[[ms, v]],"total_volumes":[[ms, v]]};
//   "1 day from current time = 5-minutely data, 2 - 90 days = hourly data,
//   above 90 days = daily data (00:00 UTC)". A daily point at 00:00 is the
//   price at that moment: the close of the day before. Over the limit, 429.
// https://docs.coingecko.com/reference/coins-list

fn coingecko_list() -> Response {
    let list: Vec<Value> = pairs("coingecko")
        .iter()
        .map(|p| json!({"id": p.symbol, "symbol": &p.symbol[..3], "name": p.symbol}))
        .collect();
    ok(Value::Array(list).to_string())
}

fn coingecko(ask: &Ask, id: &str) -> Response {
    if matches!(ask.fault, Some(Fault::Ban | Fault::BodyLimit)) {
        return answer(
            "429 Too Many Requests",
            vec![("Retry-After", ask.retry_after().to_string())],
            json!({"status": {"error_code": 429, "error_message": "You've exceeded the Rate Limit."}}).to_string(),
        );
    }
    if pair("coingecko", id).is_none() {
        return answer("404 Not Found", Vec::new(), json!({"error": "coin not found"}).to_string());
    }
    let (Ok(Some(from)), Ok(Some(to))) = (ask.number("from"), ask.number("to")) else {
        return answer("400 Bad Request", Vec::new(), json!({"error": "from and to are required"}).to_string());
    };
    let hourly = to - from <= 90 * 86_400;
    // The point at 00:00 of a day is the close of the day before it.
    let (rows, times) =
        page(ask, candles("coingecko", id, day_of(from) - chrono::Duration::days(1), day_of(to)), false, D1, || {
            latest("coingecko", id)
        });
    let mut prices = Vec::new();
    let mut volumes = Vec::new();
    let num = |s: String| s.parse::<f64>().map_or(Value::Null, Value::from);
    for c in rows.iter().filter(|c| c.day < today()) {
        let at = secs(c.day) + 86_400 + times.offset();
        let mut points = vec![at];
        if hourly {
            points.extend((1..24).map(|h| at + h * 3600));
        }
        for t in points.into_iter().filter(|t| (from..=to).contains(t)) {
            let t = times.ms((t - times.offset()) * 1000);
            prices.push(json!([t, num(cents(c.close))]));
            volumes.push(json!([t, num(units(c.volume))]));
        }
    }
    let caps: Vec<Value> = prices.iter().map(|p| json!([p[0], p[1].as_f64().unwrap_or(0.0) * 19e6])).collect();
    ok(json!({"prices": prices, "market_caps": caps, "total_volumes": volumes}).to_string())
}
