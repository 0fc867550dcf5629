//! The SQL of docs/schema.md, "Candles below a day, in SQL", run as
//! written against a database of each backend holding a day of 1m candles
//! with gaps: each example must answer what the text says it does.

use std::time::Duration;

use chrono::NaiveDate;

use super::{backends, TestDb};
use crate::interval::Interval;
use crate::price::{Candle, Price};
use crate::store::{testing, Completion, Outcome};
use crate::value::Value;

/// The examples: (backend, title, SQL), each block opened by a line
/// `-- SQLite: title` or `-- PostgreSQL: title`.
fn examples() -> Vec<(String, String, String)> {
    let doc = include_str!("../../../docs/schema.md");
    let section = doc.split("## Candles below a day, in SQL").nth(1).expect("the section in docs/schema.md");
    section
        .split("```sql\n")
        .skip(1)
        .map(|block| {
            let sql = block.split("```").next().unwrap_or_default();
            let (first, _) = sql.split_once('\n').unwrap_or_default();
            let (backend, title) = first.trim_start_matches("-- ").split_once(": ").expect("-- Backend: title");
            (backend.to_string(), title.to_string(), sql.to_string())
        })
        .collect()
}

/// The minutes of 2024-03-01 without a candle in the test's data.
fn gaps(k: i64) -> bool {
    (125..130).contains(&k) || k == 0 || k == 1439 || (600..660).contains(&k)
}

/// The day's candles: minute `k` opens at 100 + k, volume k % 5 (some zero).
fn day_candles(day: NaiveDate) -> Vec<Candle> {
    let first = Interval::M1.first_slot(day);
    (0..1440)
        .filter(|k| !gaps(*k))
        .map(|k| {
            let x = 100.0 + k as f64;
            Candle {
                minute: first + k,
                price: Price { open: x, high: x + 2.0, low: x - 1.0, close: x + 0.5, volume: (k % 5) as f64 },
            }
        })
        .collect()
}

fn filled(db: &TestDb, day: NaiveDate) -> Vec<Candle> {
    let store = db.open();
    let (e, s) = (["binance".to_string()], ["BTCUSDT".to_string()]);
    store.enqueue_days("binance", &e, &s, Interval::M1, &[day], crate::clock::now_ms(), Duration::ZERO).unwrap();
    let task = store.claim("docs", 1, crate::clock::now_ms(), i64::MAX, &["binance".into()], None).unwrap().remove(0);
    let candles = day_candles(day);
    store.complete(&[Completion { task, outcome: Outcome::Candles(candles.clone()) }]).unwrap();
    candles
}

fn number(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Real(x) => *x,
        other => panic!("{other:?} is no number"),
    }
}

fn text(v: &Value) -> &str {
    match v {
        Value::Text(s) => s,
        other => panic!("{other:?} is no text"),
    }
}

#[test]
fn the_candle_examples_of_the_schema_doc_answer_as_it_says_on_both_backends() {
    let all = examples();
    let titles = ["1m resampled to 1h", "the minutes with no candle in a day", "each day's VWAP"];
    for backend in ["SQLite", "PostgreSQL"] {
        let mine: Vec<&str> = all.iter().filter(|(b, ..)| b == backend).map(|(_, t, _)| t.as_str()).collect();
        assert_eq!(mine, titles, "each example written for {backend}");
    }
    let day = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
    for db in backends() {
        let backend = if testing::is_postgres(&db.url()) { "PostgreSQL" } else { "SQLite" };
        let candles = filled(&db, day);
        for (_, title, sql) in all.iter().filter(|(b, ..)| b == backend) {
            let rows: Vec<Vec<Value>> = testing::rows(db.url(), sql, &[]);
            match title.as_str() {
                "1m resampled to 1h" => {
                    // 02:00 lacks 02:05-02:09; 10:00 has no candle at all
                    // (no row); 00:00 lacks its first minute.
                    assert_eq!(rows.len(), 23, "{backend}: {title}");
                    let hour = |h: &str| rows.iter().find(|r| text(&r[2]).starts_with(&format!("2024-03-01T{h}")));
                    assert!(hour("10:00").is_none(), "{backend}: an hour without candles has no row");
                    let two = hour("02:00").expect("02:00");
                    assert_eq!(number(&two[8]), 55.0, "{backend}: minutes");
                    let midnight = hour("00:00").expect("00:00");
                    let (open, close) = (100.0 + 1.0, 100.0 + 59.0 + 0.5);
                    assert_eq!([number(&midnight[3]), number(&midnight[6])], [open, close], "{backend}");
                    assert_eq!([number(&midnight[4]), number(&midnight[5])], [161.0, 100.0], "{backend}: high, low");
                    let volume: f64 = (1..60).map(|k| (k % 5) as f64).sum();
                    assert_eq!(number(&midnight[7]), volume, "{backend}");
                }
                "the minutes with no candle in a day" => {
                    let missing: Vec<String> = rows.iter().map(|r| text(&r[0]).replace(".000Z", "Z")).collect();
                    let expected: Vec<String> = (0..1440)
                        .filter(|k| gaps(*k))
                        .map(|k| format!("2024-03-01T{:02}:{:02}:00Z", k / 60, k % 60))
                        .collect();
                    assert_eq!(missing, expected, "{backend}: {title}");
                }
                "each day's VWAP" => {
                    assert_eq!(rows.len(), 1, "{backend}: {title}");
                    let typical = |c: &Candle| (c.price.high + c.price.low + c.price.close) / 3.0;
                    let volume: f64 = candles.iter().map(|c| c.price.volume).sum();
                    let vwap = candles.iter().map(|c| typical(c) * c.price.volume).sum::<f64>() / volume;
                    assert!(text(&rows[0][2]).starts_with("2024-03-01"), "{backend}: {:?}", rows[0]);
                    assert!(
                        (number(&rows[0][3]) - vwap).abs() < 1e-9,
                        "{backend}: {} against {vwap}",
                        number(&rows[0][3])
                    );
                    assert_eq!([number(&rows[0][4]), number(&rows[0][5])], [volume, candles.len() as f64]);
                }
                other => panic!("no check for the example {other:?}"),
            }
        }
    }
}
