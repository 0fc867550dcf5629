//! `source::parse_retry_after_at`: a `Retry-After` header, seconds or an HTTP date.
//!
//! Oracle:
//! - never panics, for any value and any `now`;
//! - a value that is (after trimming) only ASCII digits gives
//!   `Some(Duration::from_secs(n))`, n saturating at `u64::MAX` seconds;
//!   digits with a fraction ("1.5") give those seconds plus the fraction's
//!   first nine digits as nanoseconds;
//! - a value starting with '-' (after trimming) gives `None`;
//! - an RFC 2822 date made by chrono from a timestamp (in GMT or at an
//!   offset) gives `Some(max(0, date - now))`, exact to the nanosecond.
//!
//! The expected values are computed here with integer arithmetic, not with
//! the parser's own steps.
#![no_main]

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use pricequeue::source::parse_retry_after_at;

/// 1900-01-01T00:00:00Z and 9999-12-31T23:59:59Z: four-digit years.
const MIN_TS: i64 = -2_208_988_800;
const MAX_TS: i64 = 253_402_300_799;

#[derive(Arbitrary, Debug)]
enum Input {
    /// Any text.
    Raw(String),
    /// Digits (each byte mod 10), an optional fraction, padding around.
    Digits { digits: Vec<u8>, fraction: Option<Vec<u8>>, pad_left: u8, pad_right: u8 },
    /// A '-' then anything.
    Negative(String),
    /// A date, in GMT (offset None) or at an offset in minutes.
    Date { at: i64, offset_minutes: Option<i16>, pad: bool },
}

fn ts(x: i64) -> i64 {
    MIN_TS + x.rem_euclid(MAX_TS - MIN_TS + 1)
}

fn digits_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(b'0' + b % 10)).collect()
}

fn pad(n: u8) -> String {
    [" ", "\t", "  "][n as usize % 3].repeat(usize::from(n / 3 % 4))
}

/// Whole seconds from decimal digits, saturating.
fn saturating_secs(digits: &str) -> u64 {
    digits.bytes().fold(0u64, |acc, b| acc.saturating_mul(10).saturating_add(u64::from(b - b'0')))
}

fn expected_wait(at_secs: i64, now: DateTime<Utc>) -> Duration {
    let at_ns = i128::from(at_secs) * 1_000_000_000;
    let now_ns = i128::from(now.timestamp()) * 1_000_000_000 + i128::from(now.timestamp_subsec_nanos());
    let wait = (at_ns - now_ns).max(0);
    Duration::new((wait / 1_000_000_000) as u64, (wait % 1_000_000_000) as u32)
}

fn check_any(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let got = parse_retry_after_at(value, now);
    let t = value.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        assert_eq!(got, Some(Duration::from_secs(saturating_secs(t))), "digits {value:?}");
    }
    if let Some((whole, frac)) = t.split_once('.') {
        if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit()) {
            let nanos = format!("{:0<9}", &frac[..frac.len().min(9)]);
            let want = Duration::new(saturating_secs(whole), nanos.parse().unwrap());
            assert_eq!(got, Some(want), "seconds with a fraction {value:?}");
        }
    }
    if t.starts_with('-') {
        assert_eq!(got, None, "a negative value {value:?}");
    }
    got
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(now_secs) = i64::arbitrary(&mut u) else { return };
    let Ok(now_nanos) = u32::arbitrary(&mut u) else { return };
    let Ok(input) = Input::arbitrary_take_rest(u) else { return };
    // Any instant chrono can hold for `now`, not only four-digit years.
    let now = Utc
        .timestamp_opt(now_secs, now_nanos % 1_000_000_000)
        .single()
        .unwrap_or_else(|| Utc.timestamp_opt(ts(now_secs), now_nanos % 1_000_000_000).single().expect("in range"));
    match input {
        Input::Raw(s) => {
            check_any(&s, now);
        }
        Input::Negative(s) => {
            let v = format!("-{s}");
            assert_eq!(check_any(&v, now), None, "{v:?}");
        }
        Input::Digits { digits, fraction, pad_left, pad_right } => {
            if digits.is_empty() {
                return;
            }
            let mut v = pad(pad_left) + &digits_of(&digits);
            if let Some(f) = &fraction {
                v += ".";
                v += &digits_of(f);
            }
            v += &pad(pad_right);
            assert!(check_any(&v, now).is_some(), "{v:?}");
        }
        Input::Date { at, offset_minutes, pad } => {
            let at = ts(at);
            let instant = Utc.timestamp_opt(at, 0).single().expect("in range");
            let text = match offset_minutes {
                None => instant.format("%a, %d %b %Y %H:%M:%S GMT").to_string(),
                Some(m) => {
                    let m = i32::from(m) % (24 * 60);
                    let zone = FixedOffset::east_opt(m * 60).expect("under a day");
                    let local = instant.with_timezone(&zone);
                    // Four-digit years only: the local year may step out of range.
                    if !(1900..=9999).contains(&chrono::Datelike::year(&local)) {
                        return;
                    }
                    local.format("%a, %d %b %Y %H:%M:%S %z").to_string()
                }
            };
            let v = if pad { format!("  {text}\t") } else { text };
            let got = check_any(&v, now);
            assert_eq!(got, Some(expected_wait(at, now)), "date {v:?} at now {now:?}");
        }
    }
});
