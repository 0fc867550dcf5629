//! The Coinbase Exchange stand-in: its products and candles.

use serde_json::{json, Value};

use super::super::data::{cents, pair, pairs, units};
use super::super::{json as answer, ok, page, Ask, Series};
use super::{interval, iso_secs};
use crate::server::faults::Fault;
use crate::server::response::Response;

// ---- Coinbase Exchange ----
// https://docs.cdp.coinbase.com/api-reference/exchange-api/rest-api/products/get-product-candles
//   GET /products/{product_id}/candles?granularity&start&end: rows
//   [time, low, high, open, close, volume], "the first one being the most
//   recent"; "the maximum number of data points for a single request is
//   300 candles. If your selection of start/end time and granularity will
//   result in more than 300 data points, your request will be rejected";
//   no candle for an interval without trades; granularity one of 60, 300,
//   900, 3600, 21600, 86400 ("otherwise, your request will be rejected");
//   start and end ISO 8601, both or neither.
// ⚠ Inclusive bounds at both ends: ccxt's reading (ccxt PR 5891), not
//   the page's. The current bucket is served, still changing.
// https://docs.cdp.coinbase.com/exchange/docs/rest-rate-limits: 10/s per IP, 429.

pub(super) fn coinbase_products() -> Response {
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

pub(super) fn coinbase_candles(ask: &Ask, id: &str) -> Response {
    let message = |status, m: &str| answer(status, Vec::new(), json!({"message": m}).to_string());
    match ask.fault {
        Some(Fault::Ban | Fault::BodyLimit) => {
            return answer(
                "429 Too Many Requests",
                Vec::new(),
                json!({"message": "Public rate limit exceeded"}).to_string(),
            )
        }
        // ⚠ Coinbase documents no busy answer: a plain 503.
        Some(Fault::Busy) => return message("503 Service Unavailable", "Service Unavailable"),
        _ => {}
    }
    if pair("coinbase", id).is_none() {
        return message("404 Not Found", "NotFound");
    }
    let Some(iv) = interval("coinbase", ask.param("granularity")) else {
        return message("400 Bad Request", "Unsupported granularity");
    };
    let parse = |name: &str| ask.param(name).map(|v| iso_secs(v).ok_or_else(|| format!("invalid {name}")));
    let (start, end) = match (parse("start").transpose(), parse("end").transpose()) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(m), _) | (_, Err(m)) => return message("400 Bad Request", &m),
    };
    let series = Series::new("coinbase", id, iv);
    let len = iv.minutes() * 60;
    // Both or neither: "if either one of the start or end fields are not
    // provided then both fields will be ignored", and the latest 300 come.
    // A bucket is in when its start is, or holds `start` (candles "may
    // precede your declared start"); both ends count.
    let (first, last) = match (start, end) {
        (Some(s), Some(e)) => (s.div_euclid(len), e.div_euclid(len)),
        _ => (series.now_slot() - 299, series.now_slot()),
    };
    if last - first + 1 > 300 {
        return message(
            "400 Bad Request",
            "granularity too small for the requested time range. Count of aggregations requested exceeds 300",
        );
    }
    let rows = series.range(first, last, usize::MAX, false);
    let (rows, times) = page(ask, rows, false, iv, || series.latest(300));
    let num = |s: String| s.parse::<f64>().map_or(Value::Null, Value::from);
    let out: Vec<Value> = rows
        .iter()
        .rev()
        .map(|c| {
            json!([
                times.secs(c.at),
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
