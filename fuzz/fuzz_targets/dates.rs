//! `dates::parse_span_at` and `dates::parse_day`: days as the command line takes them.
//!
//! Oracle:
//! - never panics (today is any day of years 1900..=9999);
//! - `parse_span_at` Ok(span) implies first <= last; a year spans 365 or
//!   366 days from Jan 1 to Dec 31, a month 28..=31 days from its 1st, and
//!   "today", "yesterday" and "-Nd" (or -Nw, -Nm, -Ny) one day at or before today;
//! - `parse_day(s)` Ok(d) implies `d.to_string() == s.trim()`, and then
//!   `parse_span_at(s)` is that one day;
//! - every Err message contains the input quoted: `'{s}'` (it once quoted
//!   the trimmed text: the finding in README, fixed in src/dates.rs).
//!
//! Inputs: any text, or text built near the accepted forms.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use chrono::{Datelike, NaiveDate};
use libfuzzer_sys::fuzz_target;
use pricequeue::dates::{parse_day, parse_span_at, Span};

#[derive(Arbitrary, Debug)]
enum Shape {
    Raw(String),
    Year(u16),
    Month(u16, u8),
    Day(u16, u8, u8),
    /// Numbers written with `{}`: any width, sign, zero padding from the fuzzer.
    Free(i64, i64, i64, u8),
    Relative(i64),
    Word(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    today: u32,
    shape: Shape,
    left: Option<String>,
    right: Option<String>,
}

fn first_of_year(y: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, 1, 1).unwrap()
}

fn build(shape: &Shape) -> String {
    match shape {
        Shape::Raw(s) => s.clone(),
        Shape::Year(y) => format!("{:04}", y % 10000),
        Shape::Month(y, m) => format!("{:04}-{:02}", y % 10000, m % 100),
        Shape::Day(y, m, d) => format!("{:04}-{:02}-{:02}", y % 10000, m % 100, d % 100),
        Shape::Free(a, b, c, n) => match n % 3 {
            0 => format!("{a}"),
            1 => format!("{a}-{b}"),
            _ => format!("{a}-{b}-{c}"),
        },
        Shape::Relative(n) => format!("-{n}d"),
        Shape::Word(w) => {
            ["today", "yesterday", "Today", "tomorrow", "-d", "--1d", "-+1d", "-1D"][*w as usize % 8].into()
        }
    }
}

fn check(s: &str, today: NaiveDate) {
    let quoted = format!("'{s}'");
    let t = s.trim();

    match parse_day(s) {
        Ok(d) => {
            assert_eq!(d.to_string(), t, "parse_day({s:?}) = {d}");
            assert_eq!(parse_span_at(s, today), Ok(Span { first: d, last: d }), "parse_span_at({s:?}) vs parse_day");
        }
        Err(e) => assert!(e.contains(&quoted), "parse_day({s:?}) error does not quote the input: {e}"),
    }

    match parse_span_at(s, today) {
        Ok(Span { first, last }) => {
            assert!(first <= last, "parse_span_at({s:?}) = {first}..{last}");
            let days = (last - first).num_days() + 1;
            if t == "today" {
                assert_eq!((first, last), (today, today), "today");
            } else if t == "yesterday" {
                assert_eq!((first, last), (today.pred_opt().unwrap(), today.pred_opt().unwrap()), "yesterday");
            } else if t.starts_with('-') {
                assert_eq!(first, last, "-Nd {s:?}");
                assert!(first <= today, "-Nd {s:?} is after today: {first}");
            } else if t.len() == 4 {
                assert!(days == 365 || days == 366, "year {s:?}: {days} days");
                assert_eq!(first, first_of_year(first.year()), "year {s:?}");
                assert_eq!(last, NaiveDate::from_ymd_opt(first.year(), 12, 31).unwrap(), "year {s:?}");
                assert_eq!(format!("{:04}", first.year()), t, "year {s:?}");
            } else if t.len() == 7 {
                assert!((28..=31).contains(&days), "month {s:?}: {days} days");
                assert_eq!(first.day(), 1, "month {s:?}");
                assert_eq!((first.year(), first.month()), (last.year(), last.month()), "month {s:?}");
                assert_ne!(last.succ_opt().unwrap().month(), last.month(), "month {s:?} ends early");
                assert_eq!(format!("{:04}-{:02}", first.year(), first.month()), t, "month {s:?}");
            } else {
                assert_eq!(first, last, "day {s:?}");
                assert_eq!(first.to_string(), t, "day {s:?}");
            }
        }
        Err(e) => assert!(e.contains(&quoted), "parse_span_at({s:?}) error does not quote the input: {e}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(data)) else { return };
    // Today is a day of years 1900..=9999 (it comes from the clock).
    let span = (NaiveDate::from_ymd_opt(9999, 12, 31).unwrap() - first_of_year(1900)).num_days() as u32 + 1;
    let today = first_of_year(1900) + chrono::Duration::days(i64::from(input.today % span));
    let mut s = build(&input.shape);
    if let Some(l) = &input.left {
        s = format!("{l}{s}");
    }
    if let Some(r) = &input.right {
        s.push_str(r);
    }
    check(&s, today);
    if input.left.is_some() || input.right.is_some() {
        check(&build(&input.shape), today);
    }
});
