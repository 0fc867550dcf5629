//! Failures on transient errors cool down: a later run asks again, and
//! the run that gave up does not exit 4. Permanent ones wait for `retry`.

use pricequeue::clock::AHEAD;
use pricequeue::error::{FAILED, MISSING, OK};
use pricequeue::server::{Fault, FaultRule, ServerOptions};

use super::Sandbox;
use crate::common::{counts_agree, run};

/// Three days of one pair, two attempts each, retried at once.
const THREE: [&str; 12] = [
    "fetch",
    "-e",
    "bitstamp",
    "-s",
    "btc",
    "--from",
    "2020-03-01",
    "--to",
    "2020-03-03",
    "--retry-delay",
    "10ms",
    "--max-attempts",
];

/// Runs `args` with the queue's clock `ahead` of this machine's. On
/// PostgreSQL, whose server keeps the queue's clock, the cool-downs are
/// ended by hand instead: the same moment, seen from the database.
fn later(sb: &Sandbox, ahead: &str, args: &[&str]) -> crate::common::Output {
    if sb.db().starts_with("postgres") {
        sb.execute("UPDATE tasks SET next_attempt_at = 1 WHERE state = 'cooling'", &[]);
    }
    let mut cmd = sb.command(args);
    cmd.env(AHEAD, ahead);
    run(cmd)
}

#[test]
fn a_blip_of_server_errors_cools_down_and_a_later_run_fetches_it() {
    // Every price answers 500, 502 in its first two requests: a blip that
    // outlasts --max-attempts 2.
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(Fault::ServerError, 2)],
        record: true,
        ..ServerOptions::default()
    }) else {
        return;
    };
    let args = [&THREE[..], &["2", "-f", "json"]].concat();
    let out = sb.run(&args).expect_code(OK);
    let summary = out.summary();
    assert_eq!((summary["failed"].as_u64(), summary["cooling"].as_u64()), (Some(0), Some(3)), "{summary}");
    assert_eq!(summary["cooled"], 3, "{summary}");
    assert!(out.stderr.contains("3 tasks failed on transient errors"), "{}", out.stderr);
    let rows: Vec<(String, Option<String>, i64, i64)> =
        sb.rows("SELECT state, failure, rounds, attempts FROM tasks ORDER BY day", &[]);
    assert_eq!(rows, vec![("cooling".into(), Some("transient".into()), 1, 2); 3]);
    counts_agree(&sb);

    let status = sb.run(&["status"]).expect_code(OK);
    assert!(status.stdout.contains("transient"), "{}", status.stdout);
    assert!(status.stdout.contains("round 2 of 7"), "{}", status.stdout);
    assert!(status.stdout.contains("3 transient"), "{}", status.stdout);
    assert!(!status.stdout.contains("permanent:"), "{}", status.stdout);
    // Not a price yet: the selection is incomplete, each cell asked again later.
    let query = sb.run(&["query", "--missing"]).expect_code(MISSING);
    assert_eq!(query.stdout.matches("failed for now, on transient errors").count(), 3, "{}", query.stdout);
    assert!(query.stdout.contains("asked again from"), "{}", query.stdout);

    // Before the cool-down ends, a run asks nothing.
    let asked = sb.server.requests_to("/price/");
    assert_eq!(asked, 6);
    sb.run(&args).expect_code(OK);
    assert_eq!(sb.server.requests_to("/price/"), asked, "no request during the cool-down");

    // After it, a run asks again, with a fresh set of attempts.
    let out = later(&sb, "61m", &args).expect_code(OK);
    // (The server has no price for one of the days.)
    let summary = out.summary();
    let counts = ["fetched", "no_data", "failed", "cooled"].map(|c| summary[c].as_u64());
    assert_eq!(counts, [2, 1, 0, 0].map(Some), "{summary}");
    assert_eq!(sb.server.requests_to("/price/"), asked + 3);
    let states: Vec<String> = sb.rows("SELECT state FROM tasks ORDER BY day", &[]);
    assert_eq!(states, ["no_data", "done", "done"]);
    counts_agree(&sb);
}

#[test]
fn a_404_stays_failed_and_exits_4_beside_transient_failures() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::rate(Fault::ServerError, 1.0).only("/bitstamp/")],
        ..ServerOptions::default()
    }) else {
        return;
    };
    // `a/b` is no exchange of the server's: a 404, permanent.
    let args = [
        "fetch",
        "-e",
        "bitstamp,a/b",
        "-s",
        "btc",
        "--from",
        "2020-03-01",
        "--allow-unknown",
        "--retry-delay",
        "10ms",
        "--max-attempts",
        "2",
        "-f",
        "json",
    ];
    let out = sb.run(&args).expect_code(FAILED);
    let summary = out.summary();
    let counts = ["failed", "cooling", "failed_earlier", "exit"].map(|c| summary[c].as_u64());
    assert_eq!(counts, [1, 1, 0, 4].map(Some), "{summary}");
    let kinds: Vec<(String, String, String)> =
        sb.rows("SELECT exchange, state, failure FROM tasks ORDER BY exchange", &[]);
    assert_eq!(
        kinds,
        vec![
            ("a/b".into(), "failed".into(), "permanent".into()),
            ("bitstamp".into(), "cooling".into(), "transient".into())
        ]
    );
    let status = sb.run(&["status"]).expect_code(OK);
    assert!(status.stdout.contains("1 permanent: a person is needed"), "{}", status.stdout);
    assert!(status.stdout.contains("1 transient"), "{}", status.stdout);

    // The cool-down over, the transient one is asked again; the 404 is not.
    let out = later(&sb, "61m", &args).expect_code(FAILED);
    assert!(out.stderr.contains("1 task of this selection failed in earlier runs"), "{}", out.stderr);
    let summary = out.summary();
    let counts = ["failed", "cooling", "failed_earlier"].map(|c| summary[c].as_u64());
    assert_eq!(counts, [0, 1, 1].map(Some), "{summary}");
    let rounds: i64 = sb.one("SELECT rounds FROM tasks WHERE exchange = 'bitstamp'", &[]);
    assert_eq!(rounds, 2, "a second round, cooling down again");

    // retry takes both kinds, at once.
    sb.run(&["retry"]).expect_code(OK);
    let queued: Vec<(String, i64)> = sb.rows("SELECT state, rounds FROM tasks", &[]);
    assert_eq!(queued, vec![("queued".into(), 0); 2]);
    counts_agree(&sb);
}

#[test]
fn after_its_last_round_a_transient_failure_needs_a_person() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::rate(Fault::ServerError, 1.0)],
        ..ServerOptions::default()
    }) else {
        return;
    };
    let args = ["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--max-attempts", "1", "-f", "json"];
    sb.run(&args).expect_code(OK);
    // The cool-downs, 1 h doubling to 24 h, add up: each run comes a
    // minute after the one before ended its cool-down.
    for (round, ahead) in [(2, "62m"), (3, "3h 3m"), (4, "7h 4m"), (5, "15h 5m"), (6, "31h 6m")] {
        later(&sb, ahead, &args).expect_code(OK);
        let rounds: i64 = sb.one("SELECT rounds FROM tasks", &[]);
        assert_eq!(rounds, round, "after {ahead}");
    }
    let out = later(&sb, "55h 7m", &args).expect_code(FAILED);
    let summary = out.summary();
    assert_eq!((summary["failed"].as_u64(), summary["cooling"].as_u64()), (Some(1), Some(0)), "{summary}");
    let (failure, error): (String, String) = sb.one("SELECT failure, last_error FROM tasks", &[]);
    assert_eq!(failure, "permanent");
    assert!(error.contains("failing for at least 2days 7h over 7 rounds"), "{error}");
    // Where it is shown, it comes with what to do.
    let status = sb.run(&["status"]).expect_code(OK);
    assert!(
        status.stdout.contains("1 permanent: a person is needed. `pricequeue retry` queues them again"),
        "{}",
        status.stdout
    );
    // And it stays failed: the next run asks nothing and exits 4.
    later(&sb, "80h", &args).expect_code(FAILED);
    counts_agree(&sb);
}
