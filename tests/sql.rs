//! `sql`: a user's read-only statement, in every format. The statements
//! here are ones both backends take; SQLite's own (PRAGMA, ATTACH, VACUUM)
//! are tested in `files.rs`.

use serde_json::Value;

use super::Sandbox;

pub(super) fn fetched() -> Option<Sandbox> {
    let sb = Sandbox::new()?;
    sb.run(&["fetch", "-e", "bitstamp,kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"])
        .expect_code(0);
    Some(sb)
}

#[test]
fn sql_runs_a_select_in_every_format() {
    let Some(sb) = fetched() else { return };
    let q =
        "SELECT exchange, count(*) AS days, max(close) AS max_close FROM prices GROUP BY exchange ORDER BY exchange";
    let json = sb.run(&["sql", q, "--format", "json"]).expect_code(0);
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    let (expected, max_close): (i64, f64) =
        sb.one("SELECT count(*), max(close) FROM prices WHERE exchange = 'bitstamp'", &[]);
    assert_eq!(rows[0]["exchange"], "bitstamp");
    assert_eq!(rows[0]["days"], expected);
    assert_eq!(rows[0]["max_close"].as_f64(), Some(max_close));

    let csv = sb.run(&["sql", q, "--format", "csv"]).expect_code(0);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["exchange", "days", "max_close"]);
    assert_eq!(reader.records().count(), 2);

    let table = sb.run(&["sql", q]).expect_code(0);
    assert!(table.stdout.starts_with("exchange  days  max_close\n"), "{}", table.stdout);

    // Columns keep the table's order.
    let ndjson = sb.run(&["sql", "SELECT * FROM prices LIMIT 1", "--format", "ndjson"]).expect_code(0);
    let row: serde_json::Map<String, Value> = serde_json::from_str(ndjson.stdout.trim()).unwrap();
    assert_eq!(
        row.keys().collect::<Vec<_>>(),
        ["exchange", "symbol", "day", "open", "high", "low", "close", "volume", "fetched_at"]
    );
}

#[test]
fn sql_refuses_anything_that_could_write() {
    let Some(sb) = fetched() else { return };
    let before = sb.dump();
    let attempts = [
        "DELETE FROM prices",
        "UPDATE prices SET close = 0",
        "INSERT INTO tasks (exchange, symbol, day, enqueued_at) VALUES ('x', 'y', '2020-01-01', '2020-01-01')",
        "DROP TABLE tasks",
        "CREATE TABLE notes (x integer)",
        "ALTER TABLE prices ADD COLUMN x integer",
        "SELECT 1; DELETE FROM prices",
        "WITH gone AS (SELECT 1) DELETE FROM prices",
    ];
    for sql in attempts {
        refused(&sb, sql);
    }
    assert_eq!(sb.dump(), before, "the database changed");
    assert_ne!(sb.run(&["sql", "SELECT 1 FROM notes"]).code, 0, "CREATE TABLE made a table");
}

/// Asserts that `sql` was refused, with an error that says why.
#[track_caller]
pub(super) fn refused(sb: &Sandbox, sql: &str) {
    let out = sb.run(&["sql", sql]);
    assert_ne!(out.code, 0, "{sql} was run: {}", out.stdout);
    assert!(out.stderr.starts_with("error: "), "{sql}: {}", out.stderr);
    assert!(
        out.stderr.contains("read-only") || out.stderr.contains("one statement"),
        "{sql}: the error should say why: {}",
        out.stderr
    );
}

#[test]
fn sql_names_a_bad_statement() {
    let Some(sb) = fetched() else { return };
    let out = sb.run(&["sql", "SELEKT * FROM prices"]).expect_code(1);
    assert!(out.stderr.contains("not valid"), "{}", out.stderr);
    let out = sb.run(&["sql", "SELECT nope FROM prices"]).expect_code(1);
    assert!(out.stderr.contains("nope"), "the column is named: {}", out.stderr);
    let out = sb.run(&["sql", "  ;  "]).expect_code(2);
    assert!(out.stderr.contains("no SQL statement given"), "{}", out.stderr);
}

#[test]
fn sql_json_keeps_columns_with_the_same_name() {
    let Some(sb) = fetched() else { return };
    let out = sb.run(&["sql", "SELECT 1 AS a, 2 AS a, 3 AS a", "--format", "json"]).expect_code(0);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"a": 1, "a_2": 2, "a_3": 3}]));
}

#[test]
fn a_misspelt_table_is_answered_with_the_tables_there_are() {
    let Some(sb) = fetched() else { return };
    let out = sb.run(&["sql", "select * from pricez"]);
    assert_eq!(out.code, pricequeue::error::ERROR, "{}", out.stderr);
    assert!(out.stderr.contains("pricez"), "{}", out.stderr);
    let listed = out.stderr.split("the tables are ").nth(1).unwrap_or_else(|| panic!("{}", out.stderr));
    for table in ["prices", "tasks", "task_counts"] {
        assert!(listed.split([',', ' ', '\n']).any(|t| t == table), "{table} not listed: {}", out.stderr);
    }
}
