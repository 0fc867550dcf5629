//! What the server says, read with care: a price answer (checked against
//! the rule a price must pass), a `Retry-After` header; and names written
//! into URLs as single path segments.

use std::time::Duration;

use chrono::NaiveDate;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::Deserialize;

use crate::price::Price;

/// Characters left as they are in a path segment (RFC 3986 "unreserved");
/// everything else, `/` above all, is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The same, with `.` encoded too: for the names `.` and `..`, which
/// clients, proxies and servers would otherwise take as "this" and "the
/// parent" path segment.
const DOTS: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

/// The longest exchange or symbol name, in bytes: a price URL must fit the
/// request line servers accept, and no real name comes near it.
pub const MAX_NAME: usize = 200;

/// A name as one path segment: percent-encoded, `/` above all, and the
/// dots of `.` and `..` too, so that no client, proxy or server takes it
/// for a step in the path. Decoding the segment gives the name back.
pub fn segment(name: &str) -> String {
    let set = if !name.is_empty() && name.bytes().all(|b| b == b'.') { DOTS } else { SEGMENT };
    utf8_percent_encode(name, set).to_string()
}

/// A price object as the API sends it: the five numbers, and the cell it
/// echoes.
#[derive(Deserialize)]
struct PriceObject {
    #[serde(flatten)]
    price: Price,
    exchange: String,
    symbol: String,
    day: String,
}

/// Why an answer is not a price.
#[derive(Debug)]
pub enum BadPrice {
    /// Not JSON, or not a price object (a body cut short, say): worth asking again.
    Json(serde_json::Error),
    /// A well-formed answer that breaks the rule of [`check_price`], or
    /// echoes another cell: asking again gets the same.
    Refused(String),
}

/// Reads the answer to `GET /price/{exchange}/{symbol}/{day}`: `None` for
/// the JSON `null` (no price that day), else a price that echoes the cell
/// asked for and passes [`check_price`].
pub fn parse_price(body: &[u8], exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, BadPrice> {
    let object: Option<PriceObject> = serde_json::from_slice(body).map_err(|e| match e.classify() {
        // Whole JSON of the wrong shape (a field missing, a number sent as
        // text): the server means it, and asking again gets the same.
        serde_json::error::Category::Data => BadPrice::Refused(format!("not a price object: {e}")),
        _ => BadPrice::Json(e),
    })?;
    let Some(a) = object else { return Ok(None) };
    let day = day.to_string();
    for (what, got, asked) in
        [("exchange", &a.exchange, exchange), ("symbol", &a.symbol, symbol), ("day", &a.day, &day)]
    {
        if got != asked {
            return Err(BadPrice::Refused(format!("it is for {what} {got:?}, not {asked:?}")));
        }
    }
    check_price(&a.price).map_err(BadPrice::Refused)?;
    Ok(Some(a.price))
}

/// The rule a price must pass to be stored: every number finite; open,
/// high, low and close above zero; volume zero or more; and the day's low
/// and high bounding its close (low <= close <= high). The open is not
/// bounded: real sources carry the day before's close over as the open (the
/// reference server does on 461 days), which can lie outside the day's range.
pub fn check_price(p: &Price) -> Result<(), String> {
    let numbers = [("open", p.open), ("high", p.high), ("low", p.low), ("close", p.close), ("volume", p.volume)];
    if let Some((name, x)) = numbers.iter().find(|(_, x)| !x.is_finite()) {
        return Err(format!("{name} is {x}"));
    }
    if let Some((name, x)) = numbers[..4].iter().find(|(_, x)| *x <= 0.0) {
        return Err(format!("{name} is {x}, not above zero"));
    }
    if p.volume < 0.0 {
        return Err(format!("volume is {}, below zero", p.volume));
    }
    if p.high < p.low {
        return Err(format!("high {} is below low {}", p.high, p.low));
    }
    if p.close < p.low || p.close > p.high {
        return Err(format!("close {} is outside the day's low {} and high {}", p.close, p.low, p.high));
    }
    Ok(())
}

/// Reads a `Retry-After` header: seconds, or an HTTP date. Too many
/// seconds saturate (a pause that long stops the run); a date in the past
/// is no wait; seconds with a fraction are taken as meant; anything else
/// is `None`.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    parse_retry_after_at(value, chrono::Utc::now())
}

/// [`parse_retry_after`] with the time it is read at.
pub fn parse_retry_after_at(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !whole.is_empty() && digits(whole) && digits(fraction) {
        let secs = whole.parse::<u64>().unwrap_or(u64::MAX); // only digits: too many of them
        let nanos = format!("{:0<9}", &fraction[..fraction.len().min(9)]).parse::<u32>().unwrap_or(0);
        return Some(Duration::from_secs(secs).saturating_add(Duration::from_nanos(u64::from(nanos))));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.signed_duration_since(now);
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
        let Ok(Some(p)) = parse_price(body, "bitstamp", "btc", day()) else { panic!("price not parsed") };
        assert_eq!((p.open, p.high, p.close, p.volume), (7893.63, 11780.0, 7934.0, 7289.61145281));
        assert!(matches!(parse_price(b"null", "bitstamp", "btc", day()), Ok(None)));
        assert!(matches!(parse_price(b" null\n", "bitstamp", "btc", day()), Ok(None)));
    }

    fn answer(fields: &str) -> Result<Option<Price>, BadPrice> {
        let body = format!(r#"{{"exchange": "kraken", "symbol": "btc", "day": "2020-03-12", {fields}}}"#);
        parse_price(body.as_bytes(), "kraken", "btc", day())
    }

    #[test]
    fn bad_bodies_are_errors() {
        let p = |b: &[u8]| parse_price(b, "kraken", "btc", day());
        assert!(matches!(p(b"{\"open\": 1"), Err(BadPrice::Json(_))));
        assert!(matches!(p(b"<html>"), Err(BadPrice::Json(_))));
        assert!(matches!(p(br#"{"open": 1}"#), Err(BadPrice::Refused(_))));
        let other = br#"{"open":1,"high":1,"low":1,"close":1,"volume":1,"exchange":"kraken","symbol":"btc","day":"2020-03-13"}"#;
        assert!(matches!(p(other), Err(BadPrice::Refused(why)) if why.contains("day \"2020-03-13\"")));
        let no_echo = br#"{"open":1,"high":1,"low":1,"close":1,"volume":1}"#;
        assert!(
            matches!(p(no_echo), Err(BadPrice::Refused(w)) if w.contains("missing field")),
            "the echo is part of it"
        );
        let text = br#"{"exchange":"kraken","symbol":"btc","day":"2020-03-12","open":"1","high":1,"low":1,"close":1,"volume":1}"#;
        assert!(matches!(p(text), Err(BadPrice::Refused(_))), "a number sent as text is refused, not retried");
        assert!(matches!(p(b"[1, 2]"), Err(BadPrice::Refused(_))));
    }

    #[test]
    fn answers_that_break_the_price_rule_are_refused() {
        let ok = r#""open": 10, "high": 12, "low": 9, "close": 11, "volume": 0"#;
        assert!(matches!(answer(ok), Ok(Some(_))));
        // The reference server's mexbt btc 2014-06-19: the open carried over from the day before.
        let carried = r#""open": 500, "high": 610, "low": 600, "close": 610, "volume": 1"#;
        assert!(matches!(answer(carried), Ok(Some(_))));
        for (fields, why) in [
            (r#""open": 10, "high": 12, "low": 9, "close": -11, "volume": 1"#, "close is -11, not above zero"),
            (r#""open": 0, "high": 12, "low": 9, "close": 11, "volume": 1"#, "open is 0, not above zero"),
            (r#""open": 10, "high": 8, "low": 9, "close": 8.5, "volume": 1"#, "high 8 is below low 9"),
            (r#""open": 10, "high": 12, "low": 9, "close": 13, "volume": 1"#, "close 13 is outside"),
            (r#""open": 0, "high": 0, "low": 0, "close": 0, "volume": 0"#, "open is 0"),
            (r#""open": 10, "high": 12, "low": 9, "close": 11, "volume": -1"#, "volume is -1, below zero"),
        ] {
            match answer(fields) {
                Err(BadPrice::Refused(got)) => assert!(got.contains(why), "{fields}: {got}"),
                other => panic!("{fields}: {other:?}"),
            }
        }
        let wrong = br#"{"exchange": "bitstamp", "symbol": "btc", "day": "2020-03-12", "open": 10, "high": 12, "low": 9, "close": 11, "volume": 1}"#;
        assert!(
            matches!(parse_price(wrong, "kraken", "btc", day()), Err(BadPrice::Refused(w)) if w.contains("exchange \"bitstamp\""))
        );
        // JSON has no NaN or infinity; a number too large for f64 is not a price either.
        assert!(answer(r#""open": 1e400, "high": 12, "low": 9, "close": 11, "volume": 1"#).is_err());
    }

    #[test]
    fn names_are_encoded_as_path_segments() {
        assert_eq!(segment("a/b"), "a%2Fb");
        assert_eq!(segment("c d%"), "c%20d%25");
        assert_eq!(segment("bit-stamp"), "bit-stamp");
        assert_eq!(segment("btc_usd.x~"), "btc_usd.x~");
        assert_eq!(segment(".."), "%2E%2E");
        assert_eq!(segment("."), "%2E");
        assert_eq!(segment("a..b"), "a..b");
        assert_eq!(segment("?#"), "%3F%23");
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(
            parse_retry_after("99999999999999999999999"),
            Some(Duration::MAX.min(Duration::from_secs(u64::MAX)))
        );
        assert_eq!(parse_retry_after("-5"), None);
        assert_eq!(parse_retry_after("1e3"), None);
        assert_eq!(parse_retry_after(""), None);
        assert_eq!(parse_retry_after(".5"), None);
        let far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT").unwrap();
        assert!(far > Duration::from_secs(200 * 365 * 86_400), "{far:?}");
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        let soon = (chrono::Utc::now() + chrono::Duration::seconds(120)).format("%a, %d %b %Y %H:%M:%S GMT");
        let wait = parse_retry_after(&soon.to_string()).unwrap();
        assert!(wait > Duration::from_secs(100) && wait <= Duration::from_secs(120), "{wait:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
