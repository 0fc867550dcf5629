//! The price source: the HTTP client for the API in `shared/API.md`, and the
//! one place that decides which failures are worth retrying.

use std::time::Duration;

use chrono::NaiveDate;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::price::Price;

/// Bytes accepted in one answer. A price is ~150 bytes and the name lists
/// are small; anything near this is a broken server, not data.
const BODY_LIMIT: u64 = 1 << 20;

/// Characters left as they are in a path segment (RFC 3986 "unreserved");
/// everything else, `/` above all, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Where prices come from. The workers see only this, so tests and
/// benchmarks can put something else behind it.
pub trait PriceSource: Send + Sync {
    /// Names the server (its base URL), for messages and shared pauses.
    fn server(&self) -> &str;
    /// The exchanges the server lists.
    fn exchanges(&self) -> Result<Vec<String>, FetchError>;
    /// The symbols the server lists.
    fn symbols(&self) -> Result<Vec<String>, FetchError>;
    /// One day's price; `Ok(None)` when the server has none for that day.
    fn price(&self, exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, FetchError>;
}

/// Why a request failed, classified by what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered at the server's address: refused, no such host,
    /// connect timeout. At the start of a run this ends the run.
    #[error("{0}")]
    Unreachable(String),
    /// Worth another attempt later: timeouts, resets, 5xx, bad bodies.
    #[error("{0}")]
    Transient(String),
    /// The server asked us to slow down (429, 503), maybe saying until when.
    #[error("{message}")]
    RateLimited { message: String, retry_after: Option<Duration> },
    /// Retrying cannot help: 404 and the other 4xx, or a wrong answer.
    #[error("{0}")]
    Permanent(String),
}

/// Timeouts of the HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: Duration,
    /// For a whole request, answer included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(5), request: Duration::from_secs(30) }
    }
}

/// The price API over HTTP, one connection pool shared by every worker.
pub struct HttpSource {
    agent: ureq::Agent,
    base: String,
}

impl HttpSource {
    /// A client for the server at `base` (like `http://localhost:8080`),
    /// keeping up to `connections` idle connections for reuse.
    pub fn new(base: &str, timeouts: Timeouts, connections: usize) -> HttpSource {
        let agent = ureq::Agent::config_builder()
            .timeout_connect(Some(timeouts.connect))
            .timeout_global(Some(timeouts.request))
            // Statuses are classified below, not turned into opaque errors.
            .http_status_as_error(false)
            .max_idle_connections(connections.max(1))
            .max_idle_connections_per_host(connections.max(1))
            // ureq's 128 KiB buffers per connection would cost 128 MB at 512
            // workers; a price answer with its headers is well under 1 KiB.
            .input_buffer_size(16 * 1024)
            .output_buffer_size(4 * 1024)
            .max_response_header_size(16 * 1024)
            .user_agent(concat!("pricequeue/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        HttpSource { agent, base: base.trim_end_matches('/').to_string() }
    }

    /// The URL of a price, names percent-encoded as path segments.
    pub fn price_url(&self, exchange: &str, symbol: &str, day: NaiveDate) -> String {
        format!(
            "{}/price/{}/{}/{day}",
            self.base,
            utf8_percent_encode(exchange, SEGMENT),
            utf8_percent_encode(symbol, SEGMENT)
        )
    }

    fn get(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let mut resp = self.agent.get(url).call().map_err(|e| classify_transport(url, e))?;
        let status = resp.status().as_u16();
        if status != 200 {
            let retry_after =
                resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            return Err(classify_status(url, status, retry_after));
        }
        resp.body_mut().with_config().limit(BODY_LIMIT).read_to_vec().map_err(|e| classify_transport(url, e))
    }

    fn names(&self, what: &str) -> Result<Vec<String>, FetchError> {
        let url = format!("{}/{what}", self.base);
        let body = self.get(&url)?;
        serde_json::from_slice(&body)
            .map_err(|e| FetchError::Transient(format!("GET {url}: the answer is not a JSON list of names ({e})")))
    }
}

impl PriceSource for HttpSource {
    fn server(&self) -> &str {
        &self.base
    }

    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        self.names("exchanges")
    }

    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        self.names("symbols")
    }

    fn price(&self, exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, FetchError> {
        let url = self.price_url(exchange, symbol, day);
        let body = self.get(&url)?;
        parse_price(&body, day).map_err(|e| match e {
            BadPrice::Json(e) => FetchError::Transient(format!("GET {url}: malformed price JSON ({e})")),
            BadPrice::WrongDay(d) => FetchError::Permanent(format!("GET {url}: the server answered with day {d}")),
        })
    }
}

/// A price answer as sent: the five numbers, and the day it echoes.
#[derive(Deserialize)]
struct Answer {
    #[serde(flatten)]
    price: Price,
    day: Option<String>,
}

enum BadPrice {
    Json(serde_json::Error),
    WrongDay(String),
}

fn parse_price(body: &[u8], day: NaiveDate) -> Result<Option<Price>, BadPrice> {
    let answer: Option<Answer> = serde_json::from_slice(body).map_err(BadPrice::Json)?;
    match answer {
        None => Ok(None),
        Some(Answer { day: Some(d), .. }) if d != day.to_string() => Err(BadPrice::WrongDay(d)),
        Some(a) => Ok(Some(a.price)),
    }
}

fn classify_transport(url: &str, e: ureq::Error) -> FetchError {
    use std::io::ErrorKind;
    use ureq::{Error, Timeout};
    let message = format!("GET {url}: {e}");
    match &e {
        Error::HostNotFound | Error::ConnectionFailed | Error::Timeout(Timeout::Connect | Timeout::Resolve) => {
            FetchError::Unreachable(message)
        }
        Error::Io(io) if matches!(io.kind(), ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable) => {
            FetchError::Unreachable(message)
        }
        Error::BadUri(_) => FetchError::Permanent(message),
        _ => FetchError::Transient(message),
    }
}

fn classify_status(url: &str, status: u16, retry_after: Option<Duration>) -> FetchError {
    let message = format!("GET {url}: HTTP {status}");
    match status {
        429 | 503 => FetchError::RateLimited { message, retry_after },
        408 | 500..=599 => FetchError::Transient(message),
        _ => FetchError::Permanent(message),
    }
}

/// Reads a `Retry-After` header: whole seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2020, 3, 12).unwrap()
    }

    #[test]
    fn prices_parse_from_integers_and_floats() {
        let body = br#"{"exchange": "bitstamp", "symbol": "btc", "open": 7893.63, "high": 11780,
                        "low": 7591.99, "close": 7934, "volume": 7289.61145281, "day": "2020-03-12"}"#;
        let Ok(Some(p)) = parse_price(body, day()) else { panic!("price not parsed") };
        assert_eq!((p.open, p.high, p.close, p.volume), (7893.63, 11780.0, 7934.0, 7289.61145281));
        assert!(matches!(parse_price(b"null", day()), Ok(None)));
        assert!(matches!(parse_price(b" null\n", day()), Ok(None)));
    }

    #[test]
    fn bad_bodies_are_errors() {
        assert!(matches!(parse_price(b"{\"open\": 1", day()), Err(BadPrice::Json(_))));
        assert!(matches!(parse_price(b"<html>", day()), Err(BadPrice::Json(_))));
        assert!(matches!(parse_price(br#"{"open": 1}"#, day()), Err(BadPrice::Json(_))));
        let other = br#"{"open":1,"high":1,"low":1,"close":1,"volume":1,"day":"2020-03-13"}"#;
        assert!(matches!(parse_price(other, day()), Err(BadPrice::WrongDay(d)) if d == "2020-03-13"));
    }

    #[test]
    fn names_are_encoded_as_path_segments() {
        let s = HttpSource::new("http://127.0.0.1:9/", Timeouts::default(), 1);
        assert_eq!(s.price_url("a/b", "c d%", day()), "http://127.0.0.1:9/price/a%2Fb/c%20d%25/2020-03-12");
        assert_eq!(
            s.price_url("bit-stamp", "btc_usd.x~", day()),
            "http://127.0.0.1:9/price/bit-stamp/btc_usd.x~/2020-03-12"
        );
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(classify_status("u", 404, None), FetchError::Permanent(_)));
        assert!(matches!(classify_status("u", 400, None), FetchError::Permanent(_)));
        for s in [500, 502, 504, 408] {
            assert!(matches!(classify_status("u", s, None), FetchError::Transient(_)), "{s}");
        }
        let limited = classify_status("u", 429, Some(Duration::from_secs(3)));
        assert!(matches!(limited, FetchError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)));
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(120)).format("%a, %d %b %Y %H:%M:%S GMT");
        let wait = parse_retry_after(&soon.to_string()).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120), "{wait:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}

#[cfg(test)]
mod wire_tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;

    /// A one-shot server that answers the first request with `response`.
    fn answer_once(response: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(&response);
            }
        });
        url
    }

    #[test]
    fn a_body_over_the_limit_is_an_error_not_an_allocation() {
        let size = 64 << 20; // announced, never sent in full
        let mut response = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
        response.extend(std::iter::repeat_n(b' ', (BODY_LIMIT + 10) as usize));
        let source = HttpSource::new(&answer_once(response), Timeouts::default(), 1);
        let err = source.price("bitstamp", "btc", day()).unwrap_err();
        assert!(matches!(&err, FetchError::Transient(m) if m.contains("limit")), "{err:?}");
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let source = HttpSource::new(&format!("http://127.0.0.1:{port}"), Timeouts::default(), 1);
        assert!(matches!(source.exchanges(), Err(FetchError::Unreachable(_))));
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2020, 3, 12).unwrap()
    }
}
