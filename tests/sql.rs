use serde_json::Value;

use crate::common::Sandbox;

fn fetched() -> Sandbox {
    let sb = Sandbox::new();
    sb.run(&["fetch", "-e", "bitstamp,kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"])
        .expect_code(0);
    sb
}

#[test]
fn sql_runs_a_select_in_every_format() {
    let sb = fetched();
    let q = "SELECT exchange, count(*) AS days, round(avg(close), 2) AS avg_close FROM prices GROUP BY exchange ORDER BY exchange";
    let json = sb.run(&["sql", q, "--format", "json"]).expect_code(0);
    let rows: Value = serde_json::from_str(&json.stdout).unwrap();
    let expected = sb.count("SELECT count(*) FROM prices WHERE exchange = 'bitstamp'");
    assert_eq!(rows[0]["exchange"], "bitstamp");
    assert_eq!(rows[0]["days"], expected);

    let csv = sb.run(&["sql", q, "--format", "csv"]).expect_code(0);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), ["exchange", "days", "avg_close"]);
    assert_eq!(reader.records().count(), 2);

    let table = sb.run(&["sql", q]).expect_code(0);
    assert!(table.stdout.starts_with("exchange  days  avg_close\n"), "{}", table.stdout);

    let ndjson = sb.run(&["sql", "PRAGMA table_info(prices)", "--format", "ndjson"]).expect_code(0);
    let names: Vec<String> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["exchange", "symbol", "day", "open", "high", "low", "close", "volume", "fetched_at"]);
}

#[test]
fn sql_refuses_anything_that_could_write() {
    let sb = fetched();
    let before = sb.dump();
    let attempts = [
        "DELETE FROM prices",
        "UPDATE prices SET close = 0",
        "INSERT INTO tasks (exchange, symbol, day, enqueued_at) VALUES ('x', 'y', '2020-01-01', 'now')",
        "DROP TABLE tasks",
        "CREATE TABLE notes (x)",
        "ALTER TABLE prices ADD COLUMN x",
        "ATTACH DATABASE 'other.db' AS other",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA user_version = 99",
        "VACUUM",
        "REINDEX",
        "SELECT 1; DELETE FROM prices",
        "WITH gone AS (SELECT 1) DELETE FROM prices",
        "BEGIN",
    ];
    for sql in attempts {
        let out = sb.run(&["sql", sql]);
        assert_ne!(out.code, 0, "{sql} was run: {}", out.stdout);
        assert!(out.stderr.starts_with("error: "), "{sql}: {}", out.stderr);
        assert!(
            out.stderr.contains("read-only") || out.stderr.contains("one statement"),
            "{sql}: the error should say why: {}",
            out.stderr
        );
    }
    assert_eq!(sb.dump(), before, "the database changed");
    assert!(!sb.dir.path().join("other.db").exists(), "ATTACH created a file");
    let version: i64 = sb.one("PRAGMA user_version", &[]);
    assert_eq!(version, pricequeue::store::latest_version(&pricequeue::store::Location::from("x.db")));
}

#[test]
fn sql_names_a_bad_statement() {
    let sb = fetched();
    let out = sb.run(&["sql", "SELEKT * FROM prices"]).expect_code(1);
    assert!(out.stderr.contains("not valid"), "{}", out.stderr);
    let out = sb.run(&["sql", "SELECT nope FROM prices"]).expect_code(1);
    assert!(out.stderr.contains("no such column"), "{}", out.stderr);
}

#[test]
fn sql_refuses_writes_hidden_in_functions_and_pragma_tables() {
    let sb = fetched();
    let before = std::fs::read(sb.db()).unwrap();
    let before_dump = sb.dump();
    let copy = sb.dir.path().join("copy.db");
    for sql in [
        "SELECT * FROM pragma_optimize".to_string(),
        "SELECT * FROM pragma_journal_mode('delete')".into(),
        "SELECT * FROM pragma_user_version".into(),
        "SELECT load_extension('/nonexistent')".into(),
        format!("VACUUM INTO '{}'", copy.display()),
    ] {
        let out = sb.run(&["sql", &sql]);
        assert_ne!(out.code, 0, "{sql} was run: {}", out.stdout);
        assert!(out.stderr.contains("read-only statement"), "{sql}: {}", out.stderr);
    }
    assert!(!copy.exists(), "VACUUM INTO wrote a copy");
    assert_eq!(sb.dump(), before_dump);
    assert_eq!(std::fs::read(sb.db()).unwrap(), before);

    // What is allowed still works: reading pragma tables.
    let out =
        sb.run(&["sql", "SELECT name FROM pragma_table_info('tasks') WHERE pk", "--format", "csv"]).expect_code(0);
    assert_eq!(out.stdout, "name\nid\n");
    let out = sb.run(&["sql", "  ;  "]).expect_code(2);
    assert!(out.stderr.contains("no SQL statement given"), "{}", out.stderr);
}

#[test]
fn sql_json_keeps_columns_with_the_same_name() {
    let sb = fetched();
    let out = sb.run(&["sql", "SELECT 1 AS a, 2 AS a, 3 AS a", "--format", "json"]).expect_code(0);
    let rows: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(rows, serde_json::json!([{"a": 1, "a_2": 2, "a_3": 3}]));
}
