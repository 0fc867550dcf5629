//! An answer of one row (`rows.one`): the reference API's price object,
//! or `null` for no price. The row must be the one asked for (its `echo`
//! fields and its day) and a price that passes [`check_price`]; anything
//! else is refused for good, since asking again gets the same.

use chrono::NaiveDate;
use serde_json::Value;

use super::answer::{check_price, BadPrice};
use super::format::{Field, RowLayout};
use crate::price::Price;

/// Reads a one-row answer to the request for `exchange`, `symbol` and
/// `day`: `None` for `null`, the day without a price.
pub fn read(
    body: &[u8],
    spec: &RowLayout,
    exchange: &str,
    symbol: &str,
    day: NaiveDate,
) -> Result<Option<Price>, BadPrice> {
    let doc: Value = serde_json::from_slice(body).map_err(BadPrice::Json)?;
    let at = spec.json.as_deref().unwrap_or("");
    let row = match doc.pointer(at) {
        None | Some(Value::Null) => return Ok(None),
        Some(row @ Value::Object(_)) => row,
        Some(other) => return Err(shape(format!("invalid type: {}, expected an object", kind(other)))),
    };
    let echoed = |f: &Option<Field>, what: &str| -> Result<Option<String>, BadPrice> {
        f.as_ref().map(|f| string(row, f, what)).transpose()
    };
    let echo = spec.echo.as_ref();
    let got = [
        ("exchange", echoed(&echo.and_then(|e| e.exchange.clone()), "exchange")?, exchange.to_string()),
        ("symbol", echoed(&echo.and_then(|e| e.symbol.clone()), "symbol")?, symbol.to_string()),
        ("day", echoed(&spec.time, "day")?, day.to_string()),
    ];
    let price = price(row, spec)?;
    for (what, got, asked) in got {
        if let Some(got) = got.filter(|g| *g != asked) {
            return Err(BadPrice::Refused(format!("it is for {what} {got:?}, not {asked:?}")));
        }
    }
    check_price(&price).map_err(BadPrice::Refused)?;
    Ok(Some(price))
}

/// A row of the wrong shape: the server means it.
fn shape(why: String) -> BadPrice {
    BadPrice::Refused(format!("not a price object: {why}"))
}

fn field<'a>(row: &'a Value, f: &Field, what: &str) -> Result<&'a Value, BadPrice> {
    let v = match f {
        Field::Name(n) => row.get(n),
        Field::Index(i) => row.as_object().and_then(|o| o.values().nth(*i)),
    };
    v.ok_or_else(|| shape(format!("missing field `{}`", name(f, what))))
}

fn string(row: &Value, f: &Field, what: &str) -> Result<String, BadPrice> {
    match field(row, f, what)? {
        Value::String(s) => Ok(s.clone()),
        other => Err(shape(format!("invalid type: {}, expected a string for `{}`", kind(other), name(f, what)))),
    }
}

fn number(row: &Value, f: &Field, what: &str, strict: bool) -> Result<f64, BadPrice> {
    let v = field(row, f, what)?;
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if !strict => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    x.ok_or_else(|| shape(format!("invalid type: {}, expected a number for `{}`", kind(v), name(f, what))))
}

fn price(row: &Value, spec: &RowLayout) -> Result<Price, BadPrice> {
    let strict = spec.strict_numbers;
    let get = |what: &str, f: &Option<Field>| -> Result<Option<f64>, BadPrice> {
        f.as_ref().map(|f| number(row, f, what, strict)).transpose()
    };
    let (open, high, low) = (get("open", &spec.open)?, get("high", &spec.high)?, get("low", &spec.low)?);
    let close = number(row, &spec.close, "close", strict)?;
    let volume = get("volume", &spec.volume)?.unwrap_or(0.0);
    Ok(Price { open: open.unwrap_or(close), high: high.unwrap_or(close), low: low.unwrap_or(close), close, volume })
}

/// A field as the declaration names it.
fn name(f: &Field, what: &str) -> String {
    match f {
        Field::Name(n) => n.clone(),
        Field::Index(i) => format!("{what} ({i})"),
    }
}

/// A value as serde's messages write it: `string "10"`, `null`.
fn kind(v: &Value) -> String {
    match v {
        Value::String(s) => format!("string {s:?}"),
        Value::Null => "null".into(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number {n}"),
        Value::Array(_) => "sequence".into(),
        Value::Object(_) => "map".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Declarations;

    fn spec() -> RowLayout {
        Declarations::builtin().get("cryptodb").expect("cryptodb is built in").rows.clone()
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2020, 3, 12).unwrap()
    }

    /// The reference API's answer, read as its declaration says.
    fn parse_price(body: &[u8], exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, BadPrice> {
        read(body, &spec(), exchange, symbol, day)
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

    fn refused(body: &str) -> String {
        match read(body.as_bytes(), &spec(), "bitstamp", "btc", day()) {
            Err(BadPrice::Refused(why)) => why,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn a_price_object_null_and_what_is_refused() {
        let good = r#"{"exchange":"bitstamp","symbol":"btc","open":1,"high":3,"low":0.5,"close":2,"volume":9,"day":"2020-03-12"}"#;
        let p = read(good.as_bytes(), &spec(), "bitstamp", "btc", day()).unwrap().unwrap();
        assert_eq!((p.open, p.high, p.low, p.close, p.volume), (1.0, 3.0, 0.5, 2.0, 9.0));
        assert_eq!(read(b"null", &spec(), "bitstamp", "btc", day()).unwrap(), None);
        assert!(matches!(read(b"{\"exch", &spec(), "bitstamp", "btc", day()), Err(BadPrice::Json(_))));
        assert_eq!(
            refused(&good.replace("\"bitstamp\"", "\"kraken\"")),
            "it is for exchange \"kraken\", not \"bitstamp\""
        );
        assert_eq!(
            refused(&good.replace("2020-03-12", "2020-03-01")),
            "it is for day \"2020-03-01\", not \"2020-03-12\""
        );
        assert!(refused(&good.replace("\"open\":1", "\"open\":\"1\""))
            .starts_with("not a price object: invalid type: string"));
        assert!(refused(&good.replace("\"close\":2,", "")).contains("missing field `close`"));
        assert!(refused(&good.replace("\"close\":2", "\"close\":-2")).contains("close is -2, not above zero"));
        assert!(refused("[1]").starts_with("not a price object: invalid type: sequence"));
    }
}
