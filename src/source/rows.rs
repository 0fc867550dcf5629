//! Reads the rows of an answer as a declaration's `[rows]` says: where they
//! are (a JSON pointer, an object keyed by day, CSV), which field is which,
//! and what the time means. Deciding what each slot (a day at `1d`) is
//! comes after, in `prove`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use serde_json::{Map, Value};

use super::format::{Field, RowLayout, TimeMarks};
use crate::interval::Interval;
use crate::price::Price;

/// One row of an answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    /// Its time, in milliseconds since the epoch, as the source wrote it.
    pub at_ms: i64,
    /// The slot it is for at the interval asked (the UTC day at `1d`): the
    /// one its time falls in, when off a boundary.
    pub slot: i64,
    /// Its time, written out, when it is not on a candle's boundary (a UTC
    /// day's at `1d`).
    pub off: Option<String>,
    /// The price, or why the row's numbers are not one.
    pub price: Result<Price, String>,
    /// The candle is closed (always, without a `closed` field).
    pub closed: bool,
}

/// Why an answer's rows cannot be read.
#[derive(Debug, PartialEq)]
pub enum Unreadable {
    /// Not JSON at all, or cut short: worth asking again.
    Garbled(String),
    /// Well-formed, but not what the declaration says: asking again gets the same.
    Shape(String),
}

/// The rows of `body`, candles at `interval`, in the order the answer gives them.
pub fn read(body: &[u8], spec: &RowLayout, interval: Interval) -> Result<Vec<AnswerRow>, Unreadable> {
    let items = items(body, spec)?;
    let mut rows: Vec<AnswerRow> =
        items.iter().enumerate().map(|(i, (time, row))| one(i, time, row, spec, interval)).collect::<Result<_, _>>()?;
    if spec.last_open {
        // By the source's word, not the clock's: a source that lags (or a
        // clock ahead of it) must not turn its open candle into a price.
        if let Some(newest) = rows.iter_mut().max_by_key(|r| r.at_ms) {
            newest.closed = false;
        }
    }
    Ok(rows)
}

/// The answer parsed as JSON; a broken document is garbled, worth another attempt.
pub fn json(body: &[u8]) -> Result<Value, Unreadable> {
    serde_json::from_slice(body).map_err(|e| Unreadable::Garbled(format!("the answer is not JSON ({e})")))
}

/// Each row with its time value.
fn items(body: &[u8], spec: &RowLayout) -> Result<Vec<(Value, Value)>, Unreadable> {
    let shape = |m: String| Unreadable::Shape(m);
    if spec.csv {
        return csv_items(body, spec);
    }
    let doc = json(body)?;
    if let Some(p) = &spec.keyed {
        let at = doc.pointer(p).ok_or_else(|| shape(format!("the answer has nothing at {p:?}")))?;
        let object = at.as_object().ok_or_else(|| shape(format!("{p:?} is not an object keyed by day")))?;
        return Ok(object.iter().map(|(k, v)| (Value::String(k.clone()), v.clone())).collect());
    }
    let p = spec.json.as_deref().unwrap_or("");
    let mut at = doc.pointer(p).ok_or_else(|| shape(format!("the answer has nothing at {p:?}")))?;
    if let Some(except) = &spec.one_member_except {
        let object = at.as_object().ok_or_else(|| shape(format!("{p:?} is not an object")))?;
        let others: Vec<&Value> = object.iter().filter(|(k, _)| *k != except).map(|(_, v)| v).collect();
        let [only] = others[..] else {
            return Err(shape(format!("{p:?} has {} members besides {except:?}, not one", others.len())));
        };
        at = only;
    }
    let rows = at.as_array().ok_or_else(|| shape(format!("{p:?} is not an array of rows")))?;
    let time = spec.time.as_ref().ok_or_else(|| shape("no time field declared".into()))?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            let t = field(row, time).ok_or_else(|| shape(format!("row {} has no time field ({time:?})", i + 1)))?;
            Ok((t.clone(), row.clone()))
        })
        .collect()
}

fn csv_items(body: &[u8], spec: &RowLayout) -> Result<Vec<(Value, Value)>, Unreadable> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(body);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| Unreadable::Shape(format!("the answer is not CSV ({e})")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let time = spec.time.as_ref().ok_or_else(|| Unreadable::Shape("no time field declared".into()))?;
    let mut items = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Unreadable::Garbled(format!("CSV line {}: {e}", i + 2)))?;
        let row: Map<String, Value> =
            headers.iter().cloned().zip(record.iter().map(|c| Value::String(c.trim().to_string()))).collect();
        let row = Value::Object(row);
        let t = field(&row, time).ok_or_else(|| {
            Unreadable::Shape(format!("CSV line {} has no time column ({time:?}); the columns are {headers:?}", i + 2))
        })?;
        items.push((t.clone(), row));
    }
    Ok(items)
}

/// A row's field: by index in an array (or the n-th member of an object),
/// by name in an object.
fn field<'a>(row: &'a Value, f: &Field) -> Option<&'a Value> {
    match (f, row) {
        (Field::Index(i), Value::Array(a)) => a.get(*i),
        (Field::Index(i), Value::Object(o)) => o.values().nth(*i),
        (Field::Name(n), Value::Object(o)) => o.get(n),
        _ => None,
    }
}

fn one(i: usize, time: &Value, row: &Value, spec: &RowLayout, interval: Interval) -> Result<AnswerRow, Unreadable> {
    let at_ms = parse_time(time, &spec.time_format)
        .map_err(|e| Unreadable::Shape(format!("row {}: {e} (time_format = {:?})", i + 1, spec.time_format)))?;
    let (slot, off) = stamp(at_ms, spec.time_marks, interval)
        .ok_or_else(|| Unreadable::Shape(format!("row {}: time {at_ms} ms is out of range", i + 1)))?;
    let closed = match (&spec.closed, &spec.closed_when) {
        (Some(f), Some(when)) => field(row, f).map(text).is_some_and(|t| t == *when),
        _ => true,
    };
    Ok(AnswerRow { at_ms, slot, off, price: price(row, spec), closed })
}

/// The slot at `interval` a row at `at_ms` is for, and its time written
/// out when it is not on a candle's boundary (then the slot is the one it
/// falls in). `None` for a time no date can hold.
pub fn stamp(at_ms: i64, marks: TimeMarks, interval: Interval) -> Option<(i64, Option<String>)> {
    DateTime::from_timestamp_millis(at_ms)?;
    let boundary = at_ms.rem_euclid(interval.ms()) == 0;
    let floor = interval.slot_of_ms(at_ms);
    let slot = if boundary && marks == TimeMarks::End { floor - 1 } else { floor };
    Some((slot, (!boundary).then(|| show_ms(at_ms))))
}

/// A slot as messages name it: its UTC day at `1d` (`2020-01-03`), its
/// open below a day (`2020-01-03T02:13Z`).
pub fn show_slot(interval: Interval, slot: i64) -> String {
    if interval.is_day() {
        return interval.day_of_slot(slot).to_string();
    }
    slot.checked_mul(interval.ms())
        .and_then(DateTime::from_timestamp_millis)
        .map_or_else(|| format!("slot {slot}"), |t| t.format("%Y-%m-%dT%H:%MZ").to_string())
}

fn price(row: &Value, spec: &RowLayout) -> Result<Price, String> {
    let number = |name: &str, f: &Field| -> Result<f64, String> {
        let v = field(row, f).ok_or_else(|| format!("the row has no {name} ({f:?})"))?;
        let x = match v {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        x.ok_or_else(|| format!("{name} is {v}, not a number"))
    };
    let close = number("close", &spec.close)?;
    let volume = match &spec.volume {
        Some(f) => number("volume", f)?,
        None => 0.0,
    };
    if spec.close_only {
        return Ok(Price { open: close, high: close, low: close, close, volume });
    }
    let get =
        |name: &str, f: &Option<Field>| f.as_ref().map_or(Err(format!("no {name} declared")), |f| number(name, f));
    Ok(Price {
        open: get("open", &spec.open)?,
        high: get("high", &spec.high)?,
        low: get("low", &spec.low)?,
        close,
        volume,
    })
}

/// A value as text: strings as they are, numbers and the rest as JSON.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Array(a) => a.iter().map(text).collect::<Vec<_>>().join("; "),
        Value::Object(o) if o.is_empty() => String::new(),
        other => other.to_string(),
    }
}

fn parse_time(v: &Value, format: &str) -> Result<i64, String> {
    let integer = || match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    };
    let string = || v.as_str().map(str::trim).ok_or_else(|| format!("time {v} is not a string"));
    let bad = || format!("time {v} is not in this format");
    match format {
        "s" => integer().and_then(|s| s.checked_mul(1000)).ok_or_else(bad),
        "ms" => integer().ok_or_else(bad),
        "date" => NaiveDate::parse_from_str(string()?, "%Y-%m-%d").map(day_ms).map_err(|_| bad()),
        "iso" => DateTime::parse_from_rfc3339(string()?).map(|t| t.timestamp_millis()).map_err(|_| bad()),
        f => {
            let s = string()?;
            NaiveDateTime::parse_from_str(s, f)
                .map(|t| t.and_utc().timestamp_millis())
                .or_else(|_| NaiveDate::parse_from_str(s, f).map(day_ms))
                .map_err(|_| bad())
        }
    }
}

fn day_ms(d: NaiveDate) -> i64 {
    d.and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

/// A time as RFC 3339, to the second: `2020-01-01T16:00:00Z`.
fn show_ms(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms)
        .map_or_else(|| format!("{ms} ms"), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}
