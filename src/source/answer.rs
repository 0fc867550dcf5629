//! What the server says, read with care: the rule a price must pass, a
//! `Retry-After` header; and names written into URLs as single path segments.

use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

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

/// Why an answer is not a price.
#[derive(Debug)]
pub enum BadPrice {
    /// Not JSON (a body cut short, say): worth asking again.
    Json(serde_json::Error),
    /// A well-formed answer that is not a price object, breaks the rule of
    /// [`check_price`], or echoes another cell: asking again gets the same.
    Refused(String),
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
