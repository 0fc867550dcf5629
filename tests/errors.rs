//! Bad input: each a clear error, a non-zero exit, and nothing stored changed.

use pricequeue::error::{ERROR, USAGE};

use super::Sandbox;

/// A sandbox whose database already holds fetched prices and queued tasks.
pub(super) fn with_data() -> Option<Sandbox> {
    let sb = Sandbox::new()?;
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc,eth", "--from", "2020-03-01", "--to", "2020-03-04"]).expect_code(0);
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-05", "--to", "2020-03-06"]).expect_code(0);
    Some(sb)
}

#[test]
fn a_bad_day_is_a_usage_error() {
    let Some(sb) = with_data() else { return };
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
    let Some(sb) = with_data() else { return };
    let before = sb.dump();
    for cmd in ["enqueue", "fetch", "query"] {
        let out = sb
            .run(&[cmd, "-e", "bitstamp", "-s", "btc", "--from", "2020-03-05", "--to", "2020-03-01"])
            .expect_code(USAGE);
        assert!(out.stderr.contains("--to 2020-03-01 is before --from 2020-03-05"), "{cmd}: {}", out.stderr);
    }
    assert_eq!(sb.dump(), before);
    // A fresh database is not even created.
    let Some(fresh) = Sandbox::new() else { return };
    fresh.run(&["enqueue", "-e", "x", "-s", "y", "--from", "2020-03-05", "--to", "2020-03-01"]).expect_code(USAGE);
    assert!(fresh.nothing_stored());
}

#[test]
fn an_unknown_format_is_a_usage_error() {
    let Some(sb) = with_data() else { return };
    let out = sb.run(&["query", "--format", "xml"]).expect_code(USAGE);
    assert!(out.stderr.contains("invalid value 'xml'"), "{}", out.stderr);
    assert!(out.stderr.contains("table, csv, json, ndjson"), "{}", out.stderr);
}

#[test]
fn an_unreachable_server_is_one_clear_error() {
    let Some(sb) = with_data() else { return };
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
fn a_server_url_with_a_mistake_is_refused_before_any_task_is_touched() {
    let Some(sb) = with_data() else { return };
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
fn days_must_be_written_in_full() {
    let Some(sb) = Sandbox::new() else { return };
    for bad in ["+12020-01-01", "2020-3-1", "20200301"] {
        let out = sb.run(&["enqueue", "-e", "x", "-s", "y", "--from", bad]).expect_code(USAGE);
        assert!(out.stderr.contains(&format!("'{bad}' is not a day")), "{bad}: {}", out.stderr);
        assert!(out.stderr.contains("YYYY-MM-DD"), "{bad}: {}", out.stderr);
    }
    assert!(sb.nothing_stored());
}

#[test]
fn new_databases_opened_by_several_processes_at_once_all_work() {
    for round in 0..4 {
        let Some(sb) = Sandbox::new() else { return };
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
                cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
                cmd.spawn().unwrap()
            })
            .collect();
        for child in children {
            crate::common::wait(child).expect_code(0);
        }
        let n = sb.count("SELECT count(*) FROM tasks");
        assert_eq!(n, 60, "round {round}");
    }
}

#[test]
fn a_server_host_that_cannot_be_found_is_named_as_a_typo_not_a_wait() {
    let Some(sb) = with_data() else { return };
    let before = sb.dump();
    // RFC 2606: a name under `.invalid` never resolves, and needs no network.
    let server = "http://prices.invalid:8080";
    for args in [
        &["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--server", server][..],
        &["work", "--server", server][..],
    ] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("no host named 'prices.invalid' was found"), "{}", out.stderr);
        assert!(out.stderr.contains("Check the host name in --server"), "{}", out.stderr);
        assert!(!out.stderr.contains("in trouble") && !out.stderr.contains("later"), "{}", out.stderr);
    }
    assert_eq!(sb.dump(), before);
}

#[test]
fn a_postgres_url_missing_a_slash_is_refused_with_the_form_to_use() {
    let Some(sb) = Sandbox::new() else { return };
    for db in ["postgresql:/127.0.0.1/db", "postgres:127.0.0.1/db", "POSTGRES:/u@h/db"] {
        let out = sb.run(&["status", "--db", db]).expect_code(USAGE);
        assert!(out.stderr.contains("starts like a PostgreSQL URL but is not one"), "{db}: {}", out.stderr);
        assert!(out.stderr.contains("postgres://postgres@127.0.0.1:5432/prices"), "{db}: {}", out.stderr);
        let out = sb.run(&["copy", "--from", db, "--to", "copy.db"]).expect_code(USAGE);
        assert!(out.stderr.contains("is not one"), "{db}: {}", out.stderr);
        assert!(!sb.dir.path().join(db.split('/').next().unwrap_or(db)).exists(), "{db}: a file was made");
    }
    assert!(!sb.dir.path().join("copy.db").exists());
}
