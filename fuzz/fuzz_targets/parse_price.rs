//! The reference API's price answer, read as its built-in declaration says
//! (`source::read_one_row`, `rows.one`), on any answer body, checked
//! against an independent reading of the same body with `serde_json::Value`.
//!
//! Oracle:
//! - never panics;
//! - `Ok(None)` only for the JSON `null`;
//! - `Ok(Some(p))`: `check_price(&p)` is Ok, every field finite, open, high,
//!   low, close > 0, volume >= 0, low <= close <= high, the body's
//!   "exchange", "symbol" and "day" are the ones asked, and p's numbers are
//!   the body's;
//! - and the other way round: a body that is one JSON object with each of
//!   the eight fields once (five numbers, three strings) gives `Ok(Some(p))`
//!   when it echoes the cell asked and passes the price rule (written out
//!   here again, not by calling `check_price`), else `Err(Refused)`; other
//!   JSON (a field missing or of the wrong type, an array...) gives
//!   `Err(Refused)`; a body that is not JSON gives `Err(Json)` (or
//!   `Err(Refused)` when a field of the wrong type comes before the syntax
//!   error).
//!
//! Inputs come two ways (chosen by the first byte): raw bytes, or a body
//! built from structured parts so the fuzzer reaches the rule checks.
#![no_main]

use std::collections::HashMap;

use arbitrary::{Arbitrary, Unstructured};
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use pricequeue::price::Price;
use pricequeue::source::{check_price, read_one_row, BadPrice, Declarations};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

const FIELDS: [&str; 8] = ["open", "high", "low", "close", "volume", "exchange", "symbol", "day"];

#[derive(Arbitrary, Debug)]
enum Asked {
    Fixed,
    Name { exchange: String, symbol: String, day_offset: i16 },
}

#[derive(Arbitrary, Debug)]
enum Num {
    /// Finite or not; written with `{}` or `{:?}` (`{:?}` uses exponents).
    F64(f64, bool),
    I64(i64),
    U64(u64),
    /// A JSON token as the fuzzer likes it ("1e400", "-0", "0x1"...).
    Token(String),
    /// A number in a JSON string.
    Quoted(f64),
    Null,
}

#[derive(Arbitrary, Debug)]
enum Echo {
    Asked,
    /// The asked name with a change: case, padding, a suffix.
    Upper,
    Padded,
    Other(String),
    /// A non-string JSON value.
    Token(String),
    Number(i64),
}

#[derive(Arbitrary, Debug)]
struct Fields {
    open: Option<Num>,
    high: Option<Num>,
    low: Option<Num>,
    close: Option<Num>,
    volume: Option<Num>,
    exchange: Option<Echo>,
    symbol: Option<Echo>,
    day: Option<Echo>,
    /// Extra keys, and repeats of known ones (index into FIELDS).
    extra: Vec<(u8, Option<String>, Num)>,
    /// Order of the keys: a rotation.
    rotate: u8,
    /// Wrap the object: 0 as is, 1 in an array, 2 with trailing garbage, 3 with whitespace.
    wrap: u8,
}

fn number(n: &Num) -> String {
    match n {
        Num::F64(x, true) => format!("{x:?}"),
        Num::F64(x, false) => format!("{x}"),
        Num::I64(i) => i.to_string(),
        Num::U64(u) => u.to_string(),
        Num::Token(t) => t.clone(),
        Num::Quoted(x) => format!("\"{x}\""),
        Num::Null => "null".into(),
    }
}

fn echo(e: &Echo, asked: &str) -> String {
    let s = |x: &str| serde_json::to_string(x).unwrap();
    match e {
        Echo::Asked => s(asked),
        Echo::Upper => s(&asked.to_uppercase()),
        Echo::Padded => s(&format!(" {asked}")),
        Echo::Other(o) => s(o),
        Echo::Token(t) => t.clone(),
        Echo::Number(i) => i.to_string(),
    }
}

fn build(f: &Fields, exchange: &str, symbol: &str, day: &str) -> Vec<u8> {
    let mut parts: Vec<(String, String)> = Vec::new();
    let nums = [&f.open, &f.high, &f.low, &f.close, &f.volume];
    for (name, n) in FIELDS.iter().zip(nums) {
        if let Some(n) = n {
            parts.push((name.to_string(), number(n)));
        }
    }
    for (name, e, asked) in [("exchange", &f.exchange, exchange), ("symbol", &f.symbol, symbol), ("day", &f.day, day)] {
        if let Some(e) = e {
            parts.push((name.to_string(), echo(e, asked)));
        }
    }
    for (i, key, n) in &f.extra {
        let key = key.clone().unwrap_or_else(|| FIELDS[*i as usize % FIELDS.len()].to_string());
        parts.push((key, number(n)));
    }
    if !parts.is_empty() {
        let r = f.rotate as usize % parts.len();
        parts.rotate_left(r);
    }
    let body: Vec<String> = parts.iter().map(|(k, v)| format!("{}: {v}", serde_json::to_string(k).unwrap())).collect();
    let object = format!("{{{}}}", body.join(", "));
    match f.wrap % 8 {
        1 => format!("[{object}]"),
        2 => format!("{object}x"),
        3 => format!("\n\t {object} \r\n"),
        _ => object,
    }
    .into_bytes()
}

/// A JSON object's entries in order, repeats kept (`Value` keeps only one).
struct Entries(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entries;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Entries, A::Error> {
                let mut v = Vec::new();
                while let Some(e) = m.next_entry::<String, Value>()? {
                    v.push(e);
                }
                Ok(Entries(v))
            }
        }
        d.deserialize_map(V)
    }
}

/// The rule of a storable price, written out again from its documentation.
fn passes_rule(o: f64, h: f64, l: f64, c: f64, v: f64) -> bool {
    [o, h, l, c, v].iter().all(|x| x.is_finite())
        && o > 0.0
        && h > 0.0
        && l > 0.0
        && c > 0.0
        && v >= 0.0
        && l <= c
        && c <= h
}

/// The reference API's answer, read as its declaration says.
fn parse_price(body: &[u8], exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, BadPrice> {
    static ROWS: std::sync::OnceLock<Declarations> = std::sync::OnceLock::new();
    let rows = ROWS.get_or_init(Declarations::builtin).rows("cryptodb").expect("the reference API is built in");
    read_one_row(body, rows, exchange, symbol, day)
}

fn check(body: &[u8], exchange: &str, symbol: &str, day: NaiveDate) {
    let got = parse_price(body, exchange, symbol, day);
    let day_s = day.to_string();
    let parsed: Option<Value> = serde_json::from_slice(body).ok();

    // What the body says, read independently.
    enum Expect {
        /// Not JSON (cut short, a syntax error, a number out of range).
        NotJson,
        Null,
        /// An object with each field once: Some(numbers) when it echoes the cell and passes the rule.
        Cell(Option<[f64; 5]>),
        /// JSON, but not a price object (a field missing or of the wrong type, not an object).
        WrongShape,
        /// An object with a repeated field: serde's choice, only `check_brief` applies.
        Unclear,
    }
    let expect = match &parsed {
        None => Expect::NotJson,
        Some(Value::Null) => Expect::Null,
        Some(Value::Object(_)) => {
            let Ok(entries) = serde_json::from_slice::<Entries>(body) else {
                return check_brief(body, &got, &parsed, exchange, symbol, &day_s);
            };
            let mut seen: HashMap<&str, Vec<&Value>> = HashMap::new();
            for (k, v) in &entries.0 {
                if let Some(f) = FIELDS.iter().find(|f| **f == k.as_str()) {
                    seen.entry(f).or_default().push(v);
                }
            }
            if seen.values().any(|v| v.len() > 1) {
                Expect::Unclear
            } else {
                let one = |f: &str| seen.get(f).map(|v| v[0]);
                let nums: Vec<Option<f64>> =
                    FIELDS[..5].iter().map(|f| one(f).filter(|v| v.is_number()).and_then(|v| v.as_f64())).collect();
                let strs: Vec<Option<&str>> = FIELDS[5..].iter().map(|f| one(f).and_then(|v| v.as_str())).collect();
                if nums.iter().any(|n| n.is_none()) || strs.iter().any(|s| s.is_none()) {
                    Expect::WrongShape
                } else {
                    let n: Vec<f64> = nums.into_iter().map(Option::unwrap).collect();
                    let echoes =
                        strs[0] == Some(exchange) && strs[1] == Some(symbol) && strs[2] == Some(day_s.as_str());
                    if echoes && passes_rule(n[0], n[1], n[2], n[3], n[4]) {
                        Expect::Cell(Some([n[0], n[1], n[2], n[3], n[4]]))
                    } else {
                        Expect::Cell(None)
                    }
                }
            }
        }
        Some(_) => Expect::WrongShape,
    };

    let shown = String::from_utf8_lossy(body);
    match (&got, &expect) {
        (Ok(None), Expect::Null) => {}
        (Ok(None), _) => panic!("Ok(None) for a body that is not `null`: {shown:?}"),
        (Err(BadPrice::Json(_)), Expect::NotJson) => {}
        // A body that is not JSON may still be refused: serde reports the
        // first problem it meets, and a field of the wrong type (a data
        // error) can come before the syntax error (see README).
        (Err(BadPrice::Refused(_)), Expect::NotJson) => {}
        (Err(BadPrice::Refused(_)), Expect::WrongShape | Expect::Cell(None)) => {}
        (Ok(Some(p)), Expect::Cell(Some(n))) => {
            assert_eq!([p.open, p.high, p.low, p.close, p.volume], *n, "numbers differ from the body's: {shown:?}");
        }
        (Ok(Some(_)) | Err(BadPrice::Refused(_)), Expect::Unclear) => {}
        (got, Expect::NotJson) => panic!("expected Err(Json) for a body that is not JSON, got {got:?} for {shown:?}"),
        (got, Expect::Null) => panic!("expected Ok(None), got {got:?} for {shown:?}"),
        (got, Expect::Cell(Some(_))) => {
            panic!("a valid price for the cell asked was not accepted: {got:?} for {shown:?}")
        }
        (got, Expect::Cell(None)) => {
            panic!("expected Err(Refused) (wrong echo or rule broken), got {got:?} for {shown:?}")
        }
        (got @ Err(BadPrice::Json(_)), Expect::Unclear) => {
            panic!("Err(Json) (retry) for valid JSON with a repeated field, got {got:?} for {shown:?}")
        }
        (got, Expect::WrongShape) => {
            panic!("expected Err(Refused) for JSON that is not a price object, got {got:?} for {shown:?}")
        }
    }
    check_brief(body, &got, &parsed, exchange, symbol, &day_s);
}

/// What holds whatever the body: an accepted price is storable and echoes the cell.
fn check_brief(
    _body: &[u8],
    got: &Result<Option<pricequeue::price::Price>, BadPrice>,
    parsed: &Option<Value>,
    exchange: &str,
    symbol: &str,
    day_s: &str,
) {
    if let Ok(Some(p)) = got {
        if let Err(e) = check_price(p) {
            panic!("parse_price accepted a price check_price refuses ({e}): {p:?}");
        }
        let all = [p.open, p.high, p.low, p.close, p.volume];
        assert!(all.iter().all(|x| x.is_finite()), "non-finite number accepted: {p:?}");
        assert!(p.open > 0.0 && p.high > 0.0 && p.low > 0.0 && p.close > 0.0, "price not above zero: {p:?}");
        assert!(p.volume >= 0.0, "negative volume: {p:?}");
        assert!(p.low <= p.close && p.close <= p.high, "close outside low..high: {p:?}");
        let Some(Value::Object(o)) = parsed else { panic!("a price from a body that is not a JSON object") };
        assert_eq!(o.get("exchange").and_then(Value::as_str), Some(exchange), "exchange echo");
        assert_eq!(o.get("symbol").and_then(Value::as_str), Some(symbol), "symbol echo");
        assert_eq!(o.get("day").and_then(Value::as_str), Some(day_s), "day echo");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut u = Unstructured::new(rest);
    let asked = if mode & 0x80 == 0 { Asked::Fixed } else { Asked::arbitrary(&mut u).unwrap_or(Asked::Fixed) };
    let (exchange, symbol, day) = match &asked {
        Asked::Fixed => ("kraken".to_string(), "btc".to_string(), NaiveDate::from_ymd_opt(2020, 3, 12).unwrap()),
        Asked::Name { exchange, symbol, day_offset } => (
            exchange.clone(),
            symbol.clone(),
            NaiveDate::from_ymd_opt(2020, 3, 12).unwrap() + chrono::Duration::days(i64::from(*day_offset)),
        ),
    };
    let body = if mode & 1 == 0 {
        u.take_rest().to_vec()
    } else {
        match Fields::arbitrary_take_rest(u) {
            Ok(f) => build(&f, &exchange, &symbol, &day.to_string()),
            Err(_) => return,
        }
    };
    check(&body, &exchange, &symbol, day);
});
