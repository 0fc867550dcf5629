//! The built-in declarations and the engine, against canned answers in each
//! source's documented format, served by a tiny local server: the
//! built-ins in `builtins.rs`, declared sources (secrets, CSV, closes
//! only, mistakes) in `declared.rs`; what both use here.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use super::declare::Declarations;
use super::engine::DeclaredSource;
use super::template::Secrets;
use super::{open, Answer, DayAnswer, FetchError, OpenError, PriceSource, SlotAnswer, Timeouts};
use crate::interval::Interval;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ms(d: &str) -> i64 {
    day(d).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// A time long after the days these tests ask for.
fn later() -> i64 {
    ms("2020-02-01")
}

/// A server that answers one request per connection with `responses`, in
/// turn; the request heads it got are in the returned list.
fn serve(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((mut conn, _)) = listener.accept() else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            log.lock().unwrap().push(String::from_utf8_lossy(&head).to_string());
            let _ = conn.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

fn reply(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut r = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    r
}

fn ok(body: &str) -> String {
    reply("200 OK", &[], body)
}

fn builtin(name: &str, server: &str) -> DeclaredSource {
    let decls = Declarations::builtin();
    DeclaredSource::new(name, decls.get(name).unwrap(), Some(server), Timeouts::default(), 1, Secrets::default())
        .unwrap()
}

/// Fetches `first..=last` of `symbol` from built-in `name`, answered with `responses`.
fn fetch(
    name: &str,
    symbol: &str,
    first: &str,
    last: &str,
    now: i64,
    responses: Vec<String>,
) -> (Result<Answer, FetchError>, Vec<String>) {
    let (url, seen) = serve(responses);
    let source = builtin(name, &url);
    let got = source.fetch_at(name, symbol, day(first), day(last), now);
    let seen = seen.lock().unwrap().clone();
    (got, seen)
}

/// Fetches `count` candles at `interval` from the one opening at `from`
/// (`2020-01-01T02:00`, UTC) of `symbol` from built-in `name`, answered
/// with `responses`.
fn fetch_slots(
    name: &str,
    symbol: &str,
    interval: Interval,
    from: &str,
    count: i64,
    now: i64,
    responses: Vec<String>,
) -> (Result<SlotAnswer, FetchError>, Vec<String>) {
    let (url, seen) = serve(responses);
    let source = builtin(name, &url);
    let first = interval.slot_of_ms(at(from));
    let got = source.fetch_slots_at(name, symbol, interval, first, first + count - 1, now);
    let seen = seen.lock().unwrap().clone();
    (got, seen)
}

/// A time written `2020-01-01T02:00`, UTC, in ms.
fn at(t: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M").unwrap().and_utc().timestamp_millis()
}

/// Each slot's answer, short, as [`short`] writes a day's.
fn short_slots(answer: &SlotAnswer) -> Vec<String> {
    answer.slots.iter().map(|(_, a)| brief(a)).collect()
}

/// Each day's answer, short: the close, `none`, `?`, `open`, `old` or `refused: why`.
fn short(answer: &Answer) -> Vec<String> {
    answer.days.iter().map(|(_, a)| brief(a)).collect()
}

fn brief(a: &DayAnswer) -> String {
    {
        match a {
            DayAnswer::Price(p) => format!("{}", p.close),
            DayAnswer::NoData => "none".into(),
            DayAnswer::Unanswered(crate::source::Unproven::Cut) => "?".into(),
            DayAnswer::Unanswered(crate::source::Unproven::Lacking { history_ends: false, .. }) => "lacking".into(),
            DayAnswer::Unanswered(crate::source::Unproven::Lacking { history_ends: true, .. }) => "old?".into(),
            DayAnswer::NotClosed => "open".into(),
            DayAnswer::OutsideHistory => "old".into(),
            DayAnswer::Refused(w) => format!("refused: {w}"),
        }
    }
}

fn binance_row(d: &str, close: &str) -> String {
    let t = ms(d);
    format!(r#"[{t},"7000.0","7500.0","6900.0","{close}","12.5",{},"1000","10","1","1","0"]"#, t + 86_399_999)
}

mod builtins;
mod declared;
mod intervals;
mod slots;
