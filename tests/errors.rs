//! Bad input: each a clear error, a non-zero exit, and nothing stored changed.

use pricequeue::error::{ERROR, USAGE};
use pricequeue::store::testing;

use crate::common::Sandbox;

/// A sandbox whose database already holds fetched prices and queued tasks.
fn with_data() -> Sandbox {
    let sb = Sandbox::new();
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc,eth", "--from", "2020-03-01", "--to", "2020-03-04"]).expect_code(0);
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-05", "--to", "2020-03-06"]).expect_code(0);
    sb
}

#[test]
fn a_bad_day_is_a_usage_error() {
    let sb = with_data();
    let before = sb.dump();
    for bad in ["2020-13-01", "2020-02-30", "03/01/2020", "yesterday-ish"] {
        let out = sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", bad]).expect_code(USAGE);
        assert!(out.stderr.contains(&format!("'{bad}' is not a day")), "{}", out.stderr);
        assert!(out.stderr.contains("YYYY-MM-DD"), "{}", out.stderr);
    }
    assert_eq!(sb.dump(), before);
    assert_eq!(sb.server.requests_to("/price/"), 8, "only the first fetch asked for prices");
}

#[test]
fn a_reversed_range_is_a_usage_error() {
    let sb = with_data();
    let before = sb.dump();
    for cmd in ["enqueue", "fetch", "query"] {
        let out = sb
            .run(&[cmd, "-e", "bitstamp", "-s", "btc", "--from", "2020-03-05", "--to", "2020-03-01"])
            .expect_code(USAGE);
        assert!(out.stderr.contains("--to 2020-03-01 is before --from 2020-03-05"), "{cmd}: {}", out.stderr);
    }
    assert_eq!(sb.dump(), before);
    // A fresh path is not even created.
    let fresh = sb.dir.path().join("fresh.db");
    let mut cmd = sb.command(&["enqueue", "-e", "x", "-s", "y", "--from", "2020-03-05", "--to", "2020-03-01"]);
    cmd.arg("--db").arg(&fresh);
    crate::common::run(cmd).expect_code(USAGE);
    assert!(!fresh.exists());
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let sb = with_data();
    let out = sb.run(&["query", "--format", "xml"]).expect_code(USAGE);
    assert!(out.stderr.contains("invalid value 'xml'"), "{}", out.stderr);
    assert!(out.stderr.contains("table, csv, json, ndjson"), "{}", out.stderr);
}

#[test]
fn an_unreachable_server_is_one_clear_error() {
    let sb = with_data();
    let before = sb.dump();
    // Port 9 (discard) on loopback: nothing listens there in the test machine.
    let dead = "http://127.0.0.1:9";
    let out = sb.run(&["--server", dead, "work"]).expect_code(ERROR);
    assert!(out.stderr.contains("cannot reach the price server"), "{}", out.stderr);
    assert!(out.stderr.contains("127.0.0.1:9"), "{}", out.stderr);
    assert!(out.stderr.contains("pricequeue serve"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "one error, not one per task: {}", out.stderr);
    assert_eq!(sb.dump(), before, "no task was touched");

    let out = sb.run(&["--server", dead, "fetch", "-e", "all", "-s", "btc", "--from", "2020-03-01"]).expect_code(ERROR);
    assert!(out.stderr.contains("cannot ask the price server for `all` exchanges"), "{}", out.stderr);
    assert_eq!(sb.dump(), before);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let sb = Sandbox::new();
    let text = b"exchange,symbol\nbitstamp,btc\n".repeat(100);
    std::fs::write(sb.db(), &text).unwrap();
    for args in [
        &["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"][..],
        &["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"],
        &["status"],
        &["query"],
        &["work"],
        &["demo"],
    ] {
        let mut cmd = sb.command(args);
        if args[0] == "demo" {
            cmd.arg("--db").arg(sb.db());
        }
        let out = crate::common::run(cmd).expect_code(ERROR);
        assert!(out.stderr.contains("is not an SQLite database"), "{args:?}: {}", out.stderr);
        assert_eq!(std::fs::read(sb.db()).unwrap(), text, "{args:?} changed the file");
    }
    // Said of the file, not blamed on the SQL.
    let out = sb.run(&["sql", "SELECT 1 FROM tasks"]).expect_code(ERROR);
    assert!(out.stderr.contains("is not an SQLite database"), "{}", out.stderr);
    assert!(!out.stderr.contains("statement is not valid"), "{}", out.stderr);
    assert_eq!(std::fs::read(sb.db()).unwrap(), text);
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let sb = Sandbox::new();
    sb.execute_batch(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x');",
    );
    let bytes = std::fs::read(sb.db()).unwrap();
    let out = sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"]).expect_code(ERROR);
    assert!(out.stderr.contains("not a pricequeue one"), "{}", out.stderr);
    assert_eq!(std::fs::read(sb.db()).unwrap(), bytes);
}

#[test]
fn a_database_from_a_newer_pricequeue_is_refused_untouched() {
    let sb = with_data();
    sb.execute("PRAGMA user_version = 99", &[]);
    let before = sb.dump();
    for args in [&["status"][..], &["work"], &["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("written by a newer pricequeue (schema version 99"), "{}", out.stderr);
    }
    assert_eq!(sb.dump(), before);
}

#[test]
fn reading_a_database_that_does_not_exist_creates_nothing() {
    let sb = Sandbox::new();
    for args in [&["status"][..], &["query"], &["work"], &["sql", "SELECT 1"]] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("there is no database at"), "{args:?}: {}", out.stderr);
    }
    assert!(!sb.db().exists());
}

#[test]
fn a_server_url_with_a_mistake_is_refused_before_any_task_is_touched() {
    let sb = with_data();
    let before = sb.dump();
    let port = sb.server.addr().port();
    for bad in [format!("127.0.0.1:{port}"), "ftp://127.0.0.1".into(), "http://".into(), "http://x?y=1".into()] {
        let out = sb.run(&["--server", &bad, "work"]).expect_code(USAGE);
        assert!(out.stderr.contains("--server"), "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("like http://localhost:8080"), "{bad}: {}", out.stderr);
    }
    // A real server, but the wrong base path: its /exchanges is a 404.
    let wrong = format!("{}/nope", sb.server.url());
    let out = sb.run(&["--server", &wrong, "work"]).expect_code(ERROR);
    assert!(out.stderr.contains("does not answer like the price API"), "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 404"), "{}", out.stderr);
    assert_eq!(sb.dump(), before);
}

#[test]
fn reading_commands_do_not_turn_an_empty_file_into_a_database() {
    let sb = Sandbox::new();
    std::fs::write(sb.db(), b"").unwrap();
    for args in [&["status"][..], &["query"], &["work"], &["retry"]] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("is empty, not a pricequeue database yet"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(std::fs::metadata(sb.db()).unwrap().len(), 0);
}

#[test]
fn days_must_be_written_in_full() {
    let sb = Sandbox::new();
    for bad in ["+12020-01-01", "2020-3-1", "20200301"] {
        let out = sb.run(&["enqueue", "-e", "x", "-s", "y", "--from", bad]).expect_code(USAGE);
        assert!(out.stderr.contains(&format!("'{bad}' is not a day")), "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("YYYY-MM-DD"), "{bad}: {}", out.stderr);
    }
    assert!(!sb.db().exists());
}

#[test]
fn new_databases_opened_by_several_processes_at_once_all_work() {
    let sb = Sandbox::new();
    for round in 0..4 {
        let db = sb.dir.path().join(format!("race-{round}.db"));
        let children: Vec<_> = (0..6)
            .map(|i| {
                let mut cmd = sb.command(&[
                    "enqueue",
                    "--allow-unknown",
                    "-e",
                    &format!("ex{i}"),
                    "-s",
                    "btc",
                    "--from",
                    "2020-03-01",
                    "--to",
                    "2020-03-10",
                ]);
                cmd.arg("--db").arg(&db).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            crate::common::wait(child).expect_code(0);
        }
        let n = testing::count(&db, "SELECT count(*) FROM tasks");
        assert_eq!(n, 60, "round {round}");
    }
}

#[test]
fn a_locked_database_is_named_with_what_to_do_and_nothing_is_lost() {
    let sb = with_data();
    let before = sb.dump();
    // Another program holds the write lock (a sqlite3 shell inside BEGIN).
    let holder = testing::hold_write_lock(&sb.db());
    let out = sb
        .run(&["--busy-timeout", "300ms", "enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"])
        .expect_code(ERROR);
    assert!(out.stderr.contains("database is locked"), "{}", out.stderr);
    assert!(out.stderr.contains("hint: another program holds a lock on the database"), "{}", out.stderr);
    drop(holder);
    assert_eq!(sb.dump(), before);
    // Once the lock is gone, the same command works.
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]).expect_code(0);
}
