//! A database made by the release before candles below a day (SQLite
//! schema version 7, PostgreSQL 5), opened by this build: every task and
//! price is still there, as it was, and the SQL people wrote against
//! `prices` answers the same.
//!
//! The old database is made as that release made it: its migrations,
//! 0001 up to its last, run in order from `migrations/` (which keeps
//! every one), its version recorded where it recorded it; then tasks,
//! their counts and prices written as it wrote them.

use std::path::Path;

use pricequeue::error::{MISSING, OK};
use pricequeue::store::testing;

use super::Sandbox;
use crate::common::counts_agree;

/// The migrations of the release before, in order: SQLite's up to 0007,
/// PostgreSQL's up to 0005.
fn old_migrations(postgres: bool) -> Vec<String> {
    let (dir, last) = if postgres { ("postgres", 5) } else { ("sqlite", 7) };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the migrations directory")
        .map(|e| e.expect("a migration").path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy().into_owned();
            name.ends_with(".sql") && name[..4].parse::<u32>().is_ok_and(|n| n <= last)
        })
        .collect();
    files.sort();
    assert_eq!(files.len(), last as usize, "{files:?}");
    files.iter().map(|p| std::fs::read_to_string(p).expect("a migration's text")).collect()
}

/// The old release's database: its schema, and what a few runs left in
/// it (two pairs; days done with their prices, one with no data, one
/// failed, one cooling down, one still queued).
fn old_database(sb: &Sandbox) {
    let postgres = testing::is_postgres(&sb.db());
    for sql in old_migrations(postgres) {
        sb.execute_batch(&sql);
    }
    if postgres {
        sb.execute_batch("INSERT INTO meta (key, value) VALUES ('pricequeue_schema', '5')");
    } else {
        // As its `open` left a file: WAL, its version, its mark.
        sb.execute_batch("PRAGMA journal_mode = WAL; PRAGMA user_version = 7; PRAGMA application_id = 1347515749;");
    }
    // ISO 8601 text, which SQLite keeps as it is and PostgreSQL reads as timestamptz.
    let at = "'2020-03-07T10:00:00.123Z'";
    sb.execute_batch(&format!(
        "INSERT INTO tasks (exchange, symbol, day, state, attempts, last_error, next_attempt_at, claims, enqueued_at,
                            finished_at, source, failure, rounds)
         VALUES ('kraken', 'btc', '2020-03-01', 'done', 1, NULL, 0, 1, {at}, {at}, 'cryptodb', NULL, 0),
                ('kraken', 'btc', '2020-03-02', 'done', 2, NULL, 0, 2, {at}, {at}, 'cryptodb', NULL, 0),
                ('kraken', 'btc', '2020-03-03', 'no_data', 1, NULL, 0, 1, {at}, {at}, 'cryptodb', NULL, 0),
                ('kraken', 'btc', '2020-03-04', 'failed', 3, 'HTTP 404', 0, 3, {at}, {at}, 'cryptodb', 'permanent', 0),
                ('kraken', 'btc', '2020-03-05', 'queued', 0, NULL, 0, 0, {at}, NULL, 'cryptodb', NULL, 0),
                ('bitstamp', 'btc', '2020-03-01', 'done', 1, NULL, 0, 1, {at}, {at}, 'cryptodb', NULL, 0),
                ('bitstamp', 'btc', '2020-03-02', 'cooling', 3, 'HTTP 503', 4102444800000, 3, {at}, {at},
                 'cryptodb', 'transient', 1);
         INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at)
         VALUES ('kraken', 'btc', '2020-03-01', 8500.5, 8600.25, 8400.125, 8550.75, 1234.5, {at}),
                ('kraken', 'btc', '2020-03-02', 8550.75, 8800.0, 8500.0, 8700.5, 2345.25, {at}),
                ('bitstamp', 'btc', '2020-03-01', 8510.0, 8610.0, 8410.0, 8560.0, 99.0, {at});"
    ));
    if !postgres {
        // The release before kept SQLite's counts itself (PostgreSQL's by
        // its triggers), in the same transaction as the tasks.
        sb.execute_batch(
            "INSERT INTO task_counts (exchange, symbol, source, state, n)
             SELECT exchange, symbol, source, state, count(*) FROM tasks GROUP BY exchange, symbol, source, state",
        );
    }
}

/// What people asked of `prices`: every column of every row, in order.
const PRICES: &str = "SELECT exchange, symbol, day, open, high, low, close, volume, fetched_at FROM prices
                      ORDER BY exchange, symbol, day";

type PriceRow = (String, String, String, f64, f64, f64, f64, f64, String);
type TaskRow = (String, String, String, String, i64, String, String);

const TASKS: &str = "SELECT exchange, symbol, day, state, attempts, coalesce(last_error, ''), source FROM tasks
                     ORDER BY exchange, symbol, day";

#[test]
fn a_database_of_the_release_before_keeps_every_task_and_price_and_its_sql() {
    let Some(sb) = Sandbox::new() else { return };
    old_database(&sb);
    let prices: Vec<PriceRow> = sb.rows(PRICES, &[]);
    let tasks: Vec<TaskRow> = sb.rows(TASKS, &[]);
    assert_eq!((prices.len(), tasks.len()), (3, 7));

    // A reading command brings an SQLite file up to date itself; a
    // PostgreSQL database is changed by a command that writes only.
    let status = sb.run(&["status", "--format", "json"]);
    if testing::is_postgres(&sb.db()) {
        assert!(status.stderr.contains("written by an older pricequeue (schema version 5"), "{}", status.stderr);
        assert_eq!(sb.rows::<TaskRow>(TASKS, &[]), tasks, "a refusal changes nothing");
        sb.run(&["work"]).expect_code(OK);
    } else {
        let status: serde_json::Value = serde_json::from_str(&status.expect_code(OK).stdout).unwrap();
        let n = |state: &str| {
            status["states"].as_array().unwrap().iter().find(|r| r["state"] == state).map(|r| r["tasks"].clone())
        };
        assert_eq!(
            (n("done"), n("failed"), n("cooling"), n("queued")),
            (Some(3.into()), Some(1.into()), Some(1.into()), Some(1.into()))
        );
        sb.run(&["work"]).expect_code(OK);
    }

    // The queued day was fetched at 1d, as it would have been; the rest
    // are as they were, every one of them a task at 1d.
    let now: Vec<TaskRow> = sb.rows(TASKS, &[]);
    let queued = tasks.iter().position(|t| t.3 == "queued").unwrap();
    for (i, (before, after)) in tasks.iter().zip(&now).enumerate() {
        if i == queued {
            assert_eq!((&after.2, after.3.as_str()), (&before.2, "done"));
        } else {
            assert_eq!(before, after);
        }
    }
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE interval = '1d'"), 7);
    counts_agree(&sb);

    // `prices` answers the same SQL, with the new day's price beside.
    let after: Vec<PriceRow> = sb.rows(PRICES, &[]);
    assert_eq!(after.len(), 4);
    assert_eq!(after.iter().filter(|p| p.2 != "2020-03-05").cloned().collect::<Vec<_>>(), prices);
    let sql = sb.run(&[
        "sql",
        "SELECT count(*) AS n, sum(volume) AS v FROM prices WHERE day < '2020-03-05'",
        "--format",
        "json",
    ]);
    let rows: serde_json::Value = serde_json::from_str(&sql.expect_code(OK).stdout).unwrap();
    assert_eq!((rows[0]["n"].as_i64(), rows[0]["v"].as_f64()), (Some(3), Some(1234.5 + 2345.25 + 99.0)));
    // And the `candles` view shows them as 1d candles.
    assert_eq!(sb.count("SELECT count(*) FROM candles WHERE interval = '1d'"), 4);

    let query = sb.run(&[
        "query",
        "-e",
        "kraken",
        "-s",
        "btc",
        "--from",
        "2020-03-01",
        "--to",
        "2020-03-05",
        "--format",
        "csv",
    ]);
    let out = query.expect_code(MISSING).stdout;
    assert!(out.contains("2020-03-01") && out.contains("8550.75") && out.contains("8700.5"), "{out}");
    let status = sb.run(&["status", "--format", "json"]).expect_code(OK);
    assert!(status.stdout.contains("\"failed\""), "{}", status.stdout);
}
