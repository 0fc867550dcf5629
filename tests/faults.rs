//! Each fault a price server sends, handled deliberately.

use std::time::Duration;

use pricequeue::error::{ERROR, OK};
use pricequeue::server::{data, AnswerKind, Fault, FaultRule, RetryAfter, Server, ServerOptions};

use super::Sandbox;
use crate::common::{counts_agree, day};

/// Ten tasks: two exchanges, one symbol, five days.
const TEN: [&str; 8] = ["-e", "bitstamp,kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"];

fn faulty(rules: Vec<FaultRule>) -> Option<Sandbox> {
    Sandbox::with_server(ServerOptions {
        faults: rules,
        stall: Duration::from_secs(3),
        record: true,
        ..ServerOptions::default()
    })
}

/// Checks that every task ended well and every price equals the server's.
fn all_fetched_correctly(sb: &Sandbox) {
    let rows: Vec<(String, String, String, String, Option<f64>)> = sb.rows(
        "SELECT t.exchange, t.symbol, t.day, t.state, p.close FROM tasks t
         LEFT JOIN prices p USING (exchange, symbol, day)",
        &[],
    );
    for (e, s, d, state, close) in rows {
        match data::price(&e, &s, day(&d)) {
            Some(p) => assert_eq!((state.as_str(), close), ("done", Some(p.close)), "{e} {s} {d}"),
            None => assert_eq!((state.as_str(), close), ("no_data", None), "{e} {s} {d}"),
        }
    }
}

/// The first two requests of every price get `fault`; the third succeeds.
fn survives(fault: Fault, extra: &[&str]) {
    let Some(sb) = faulty(vec![FaultRule::first(fault, 2)]) else { return };
    let mut args = vec!["fetch", "--retry-delay", "10ms", "-f", "json"];
    args.extend_from_slice(&TEN);
    args.extend_from_slice(extra);
    let out = sb.run(&args).expect_code(OK);
    let summary = out.summary();
    let counts = ["failed", "retried", "requests"].map(|c| summary[c].as_u64());
    assert_eq!(counts, [0, 20, 30].map(Some), "{}: {summary}", fault.name());
    all_fetched_correctly(&sb);
    let attempts: Vec<i64> = sb.rows("SELECT attempts FROM tasks", &[]);
    assert_eq!(attempts, vec![3; 10], "{}", fault.name());
    let stats = sb.server.path_stats();
    let prices: Vec<_> = stats.iter().filter(|(p, _)| p.starts_with("/price/")).collect();
    assert_eq!(prices.len(), 10);
    for (path, s) in prices {
        assert_eq!((s.requests, s.faults), (3, 2), "{}: {path}", fault.name());
    }
}

#[test]
fn server_errors_500_502_504_are_retried() {
    survives(Fault::ServerError, &[]);
}

#[test]
fn reset_connections_are_retried() {
    survives(Fault::Reset, &[]);
}

#[test]
fn malformed_json_is_retried() {
    survives(Fault::Malformed, &[]);
}

#[test]
fn truncated_bodies_are_retried() {
    survives(Fault::Truncated, &[]);
}

#[test]
fn oversized_bodies_are_cut_off_and_retried() {
    survives(Fault::Oversized, &[]);
}

#[test]
fn stalls_time_out_and_are_retried() {
    // The server stalls for 3 s; the client gives up after 300 ms.
    survives(Fault::Stall, &["--timeout", "300ms"]);
}

#[test]
fn a_503_without_retry_after_is_busy_and_retried() {
    survives(Fault::Unavailable, &[]);
}

#[test]
fn a_429_without_retry_after_pauses_every_worker_and_costs_no_attempt() {
    // The first request of each of three days is refused with no time
    // given: a limit all the same, not the task's failure.
    let Some(sb) = faulty(vec![FaultRule::first(Fault::RateLimited, 1)]) else { return };
    let out = sb
        .run(&[
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
            "50ms",
            "-f",
            "json",
        ])
        .expect_code(OK);
    all_fetched_correctly(&sb);
    let attempts: Vec<i64> = sb.rows("SELECT attempts FROM tasks", &[]);
    assert_eq!(attempts, vec![1; 3], "only the answered request counts");
    let summary = out.summary();
    let counts = ["failed", "retried", "deferred", "requests"].map(|c| summary[c].as_u64());
    assert_eq!(counts, [0, 0, 3, 6].map(Some), "one refusal and one answer per day: {summary}");
    // Each pause said once, and counted as said.
    let said = out.stderr.matches("asked to slow down: every worker on it waits").count();
    let counted = match said {
        1 => "once".to_string(),
        n => format!("{n} times"),
    };
    assert!(said >= 1, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("the server asked to slow down {counted},")), "{}", out.stderr);
    assert_eq!(summary["slowdowns"], said, "{summary}");
    assert_eq!(sb.server.requests_to("/price/"), 6, "one refusal and one answer per day");
}

#[test]
fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    for (fault, retry_after) in
        [(Fault::RateLimited, RetryAfter::Seconds(1)), (Fault::Unavailable, RetryAfter::Date(1))]
    {
        let Some(sb) = Sandbox::with_server(ServerOptions {
            faults: vec![FaultRule::first(fault, 1)],
            retry_after,
            record: true,
            ..ServerOptions::default()
        }) else {
            return;
        };
        // One worker: each request is sent after the answer to the one before.
        sb.run(&[
            "fetch",
            "-e",
            "bitstamp",
            "-s",
            "btc",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-03",
            "--workers",
            "1",
        ])
        .expect_code(OK);
        all_fetched_correctly(&sb);
        let log: Vec<_> = sb.server.log().into_iter().filter(|s| s.path.starts_with("/price/")).collect();
        assert_eq!(log.len(), 6, "one refusal and one answer per day");
        for pair in log.windows(2) {
            if let AnswerKind::Fault(_) = pair[0].answer {
                let gap = pair[1].at - pair[0].at;
                assert!(gap >= Duration::from_millis(990), "{}: next request after {gap:?}", fault.name());
            }
        }
    }
}

#[test]
fn retry_after_holds_every_worker() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        latency: Duration::from_millis(30),
        faults: vec![FaultRule::first(Fault::RateLimited, 1).only("/2020-03-10")],
        retry_after: RetryAfter::Seconds(2),
        record: true,
        ..ServerOptions::default()
    }) else {
        return;
    };
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-31", "--workers", "4"])
        .expect_code(OK);
    all_fetched_correctly(&sb);
    let log = sb.server.log();
    let refused = log.iter().find(|s| matches!(s.answer, AnswerKind::Fault(_))).expect("the 429 was sent").at;
    // Requests already on their way when the 429 went out arrive at once;
    // after that, no worker may send anything until the 2 s are over.
    let grace = Duration::from_millis(300);
    let early: Vec<Duration> = log
        .iter()
        .filter(|s| s.at > refused + grace && s.at < refused + Duration::from_millis(1990))
        .map(|s| s.at - refused)
        .collect();
    assert!(early.is_empty(), "requests during the pause, at {early:?} after the 429");
    assert!(log.iter().any(|s| s.at >= refused + Duration::from_secs(2)), "the run went on after the pause");
}

#[test]
fn one_attempt_is_counted_in_the_singular() {
    let Some(sb) = faulty(vec![FaultRule::rate(Fault::ServerError, 1.0)]) else { return };
    let mut args = vec!["fetch", "--max-attempts", "1"];
    args.extend_from_slice(&TEN);
    // Server errors are transient: the tasks fail for now and cool down.
    sb.run(&args).expect_code(OK);
    let error: String = sb.one("SELECT last_error FROM tasks WHERE state = 'cooling' LIMIT 1", &[]);
    assert!(error.ends_with("(gave up after 1 attempt)"), "{error}");
}

#[test]
fn a_task_that_keeps_failing_fails_with_its_error_and_retry_queues_it_again() {
    let Some(sb) = faulty(vec![FaultRule::rate(Fault::ServerError, 1.0)]) else { return };
    let mut args = vec!["fetch", "--retry-delay", "10ms", "--max-attempts", "3", "-f", "json"];
    args.extend_from_slice(&TEN);
    // Server errors are transient: the tasks fail for now and cool down,
    // and no person is needed yet (see cooling.rs).
    let out = sb.run(&args).expect_code(OK);
    let summary = out.summary();
    let counts = ["failed", "retried", "cooling", "cooled"].map(|c| summary[c].as_u64());
    assert_eq!(counts, [0, 20, 10, 10].map(Some), "{summary}");
    assert!(out.stderr.contains("10 tasks failed on transient errors"), "{}", out.stderr);
    for (path, s) in sb.server.path_stats().iter().filter(|(p, _)| p.starts_with("/price/")) {
        assert_eq!(s.requests, 3, "{path}: exactly --max-attempts requests");
    }
    let (attempts, error): (i64, String) =
        sb.one("SELECT attempts, last_error FROM tasks WHERE state = 'cooling' LIMIT 1", &[]);
    assert_eq!(attempts, 3);
    assert!(error.contains("HTTP 50") && error.contains("gave up after 3 attempts"), "{error}");

    let status = sb.run(&["status"]).expect_code(OK);
    assert!(status.stdout.contains("Failed tasks (10 most recent of 10)"), "{}", status.stdout);
    assert!(status.stdout.contains("gave up after 3 attempts"), "{}", status.stdout);
    let query = sb.run(&["query", "--missing"]).expect_code(pricequeue::error::MISSING);
    assert_eq!(query.stdout.matches("failed for now, on transient errors: GET ").count(), 10, "{}", query.stdout);

    // The server is mended (here: another one); retry, then work.
    let mended = Server::start("127.0.0.1:0", ServerOptions::default()).unwrap();
    let out = sb.run(&["retry", "-e", "kraken"]).expect_code(OK);
    assert!(out.stderr.contains("queued 5 failed tasks again"), "{}", out.stderr);
    sb.run(&["retry"]).expect_code(OK);
    sb.run(&["--server", &mended.url(), "work"]).expect_code(OK);
    all_fetched_correctly(&sb);
    counts_agree(&sb);
}

#[test]
fn losing_the_server_mid_run_stops_with_one_error_and_fails_nothing() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "all", "-s", "all", "--from", "2020-01-01", "--to", "2020-03-31"]).expect_code(OK);
    // Its own server, closing every connection, so that when it goes away
    // every new request is refused.
    let server = Server::start(
        "127.0.0.1:0",
        ServerOptions { latency: Duration::from_millis(10), close_connections: true, ..ServerOptions::default() },
    )
    .unwrap();
    let work = sb
        .command(&["--server", &server.url(), "work", "--workers", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..500 {
        if server.requests_to("/price/") >= 50 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(server);
    let out = crate::common::wait(work).expect_code(ERROR);
    assert!(out.stderr.contains("lost the price server at http://127.0.0.1:"), "{}", out.stderr);
    assert!(out.stderr.contains("Run the same command again when it is back"), "{}", out.stderr);
    let (failed, in_progress, queued): (i64, i64, i64) = sb.one(
        "SELECT count(*) FILTER (WHERE state IN ('failed', 'cooling')), count(*) FILTER (WHERE state = 'in_progress'),
                count(*) FILTER (WHERE state = 'queued') FROM tasks",
        &[],
    );
    assert_eq!((failed, in_progress), (0, 0));
    assert!(queued > 1000, "the rest waits for the next run: {queued}");
    counts_agree(&sb);
}

#[test]
fn rate_limits_with_retry_after_do_not_use_up_attempts() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(Fault::RateLimited, 2)],
        retry_after: RetryAfter::Seconds(1),
        ..ServerOptions::default()
    }) else {
        return;
    };
    let out = sb
        .run(&[
            "fetch",
            "-e",
            "bitstamp",
            "-s",
            "btc",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-02",
            "--max-attempts",
            "2",
        ])
        .expect_code(OK);
    assert!(out.stderr.contains("the server asked to slow down"), "{}", out.stderr);
    all_fetched_correctly(&sb);
}

#[test]
fn one_request_to_slow_down_is_counted_as_once() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(Fault::RateLimited, 1)],
        retry_after: RetryAfter::Seconds(1),
        ..ServerOptions::default()
    }) else {
        return;
    };
    let out = sb
        .run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-01", "-f", "json"])
        .expect_code(OK);
    assert!(out.stderr.contains("the server asked to slow down once,"), "{}", out.stderr);
    assert!(!out.stderr.contains("1 times"), "{}", out.stderr);
    assert_eq!(out.summary()["slowdowns"], 1, "{}", out.stdout);
}

#[test]
fn a_pause_longer_than_max_pause_stops_the_run_and_the_next_one_at_once() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(Fault::RateLimited, 1)],
        retry_after: RetryAfter::Seconds(3600),
        ..ServerOptions::default()
    }) else {
        return;
    };
    let out = sb
        .run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"])
        .expect_code(ERROR);
    assert!(out.stderr.contains("asked for no requests until"), "{}", out.stderr);
    assert!(out.stderr.contains("longer than --max-pause 5m"), "{}", out.stderr);
    let (open, failed): (i64, i64) = sb.one(
        "SELECT count(*) FILTER (WHERE state IN ('queued', 'in_progress')), count(*) FILTER (WHERE state IN ('failed', 'cooling')) FROM tasks",
        &[],
    );
    assert!(open > 0 && failed == 0, "{open} open, {failed} failed");
    // The pause is recorded: the next run stops before asking anything.
    let asked = sb.server.requests();
    let again = sb.run(&["work"]).expect_code(ERROR);
    assert!(again.stderr.contains("asked for no requests until"), "{}", again.stderr);
    assert_eq!(sb.server.requests(), asked);
}
