//! The API's answers: the routes (the names of exchanges and symbols, a
//! day's price, 404 for anything else), with the latency and the faults
//! the options ask for, and a price rendered as the API writes it.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use chrono::NaiveDate;
use percent_encoding::percent_decode_str;

use super::options::ServerOptions;
use super::response::{ok_json, AnswerKind, Response};
use super::stats::{lock, Stats};
use super::{data, faults};
use crate::price::Price;

/// Counts the request, then answers it: for a price, a fault if one is
/// drawn, otherwise the route's answer after the latency.
pub(super) fn respond(method: &str, raw_path: &str, options: &ServerOptions, stats: &Stats) -> Response {
    let nth = {
        let mut by_path = lock(&stats.by_path);
        let entry = by_path.entry(raw_path.to_string()).or_default();
        entry.requests += 1;
        entry.requests
    };
    stats.total.fetch_add(1, Ordering::Relaxed);
    let is_price = raw_path.starts_with("/price/");
    let is_candles = super::stand_ins::is_candles(raw_path);
    if is_price || is_candles {
        let (roll, jitter) = {
            let mut rng = lock(&stats.rng);
            (rng.f64(), rng.f64())
        };
        let wait = options.latency + options.latency_jitter.mul_f64(jitter);
        let fault = faults::choose(&options.faults, raw_path, nth, roll);
        // A stand-in answers its own faults in its source's form.
        let own = is_candles
            && fault.is_some_and(|f| faults::Fault::STAND_IN.contains(&f) || faults::Fault::RANGE.contains(&f));
        if let Some(fault) = fault.filter(|_| !own) {
            return Response::Fault(fault);
        }
        if !wait.is_zero() {
            thread::sleep(wait);
        }
        if is_candles && method == "GET" {
            if let Some(answer) = super::stand_ins::route(raw_path, fault, options, stats) {
                return answer;
            }
        }
    }
    if method == "GET" && !is_price {
        if let Some(answer) = super::stand_ins::route(raw_path, None, options, stats) {
            return answer;
        }
    }
    route(method, raw_path, options.live)
}

/// The response of the route the request names.
fn route(method: &str, raw_path: &str, live: Option<Duration>) -> Response {
    // Like the reference server: decode first, then route, so a `%2F`
    // inside a name adds a path segment and matches nothing.
    let path = raw_path.split('?').next().unwrap_or("");
    let path = percent_decode_str(path).decode_utf8_lossy();
    let parts: Vec<&str> = path.split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["", "exchanges"]) => names(data::EXCHANGES),
        ("GET", ["", "symbols"]) => names(data::SYMBOLS),
        ("GET", ["", "price", exchange, symbol, day]) => {
            let published = |d: NaiveDate| match live {
                None => data::price(exchange, symbol, d),
                Some(delay) => {
                    let out = crate::clock::after(crate::clock::day_end(d), delay) <= crate::clock::now_ms();
                    out.then(|| data::recent_price(exchange, symbol, d)).flatten()
                }
            };
            let price = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().and_then(|d| published(d).map(|p| (d, p)));
            match price {
                Some((d, p)) => ok_json(render_price(exchange, symbol, d, &p).into_bytes(), AnswerKind::Price),
                None => ok_json(b"null".to_vec(), AnswerKind::Null),
            }
        }
        _ => Response::Message {
            status: "404 Not Found",
            content_type: "text/html",
            body: b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>".to_vec(),
            answer: AnswerKind::NotFound,
        },
    }
}

/// A list of names, spaced as the reference server (Python's json) writes it.
fn names(list: &[&str]) -> Response {
    let quoted: Vec<String> = list.iter().map(|n| serde_json::Value::from(*n).to_string()).collect();
    ok_json(format!("[{}]", quoted.join(", ")).into_bytes(), AnswerKind::List)
}

/// A price object as the API sends it, whole numbers as JSON integers.
pub fn render_price(exchange: &str, symbol: &str, day: NaiveDate, p: &Price) -> String {
    let num = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            serde_json::Number::from_f64(x).map(|n| n.to_string()).unwrap_or_else(|| "null".into())
        }
    };
    format!(
        r#"{{"exchange": {}, "symbol": {}, "open": {}, "high": {}, "low": {}, "close": {}, "volume": {}, "day": "{day}"}}"#,
        serde_json::Value::from(exchange),
        serde_json::Value::from(symbol),
        num(p.open),
        num(p.high),
        num(p.low),
        num(p.close),
        num(p.volume)
    )
}
