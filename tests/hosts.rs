//! Workers on several machines sharing one queue, played on one machine by
//! processes that name different hosts (`PRICEQUEUE_HOSTNAME`): none can
//! see that another is gone, so only leases decide.

use std::collections::HashMap;
use std::thread;
use std::time::{Duration, Instant};

use pricequeue::error::OK;
use pricequeue::server::ServerOptions;
use pricequeue::store::testing;

use super::Sandbox;
use crate::common::{counts_agree, Running};

/// `work` on the host `host`, with `workers` workers and a 2 s lease.
fn work_on(sb: &Sandbox, host: &str, workers: &str) -> Running {
    let mut cmd = sb.command(&["work", "--workers", workers, "--lease", "2s", "-f", "json"]);
    cmd.env("PRICEQUEUE_HOSTNAME", host);
    Running::spawn(cmd)
}

/// The price path of a task, as the server counts it.
fn path(exchange: &str, symbol: &str, day: &str) -> String {
    format!("/price/{exchange}/{symbol}/{day}")
}

#[test]
fn a_stopped_hosts_tasks_are_taken_back_when_its_lease_ends_and_its_late_answers_are_ignored() {
    // Each answer takes 300 ms: a stopped worker surely has some on the way.
    let options = ServerOptions { latency: Duration::from_millis(300), record: true, ..ServerOptions::default() };
    let Some(sb) = Sandbox::with_server(options) else { return };
    sb.run(&["enqueue", "-e", "all", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"]).expect_code(OK);
    let a = work_on(&sb, "host-a", "2");
    let holds = "SELECT count(*) FROM tasks WHERE state = 'in_progress' AND owner LIKE 'host-a:%'";
    let started = Instant::now();
    while sb.count(holds) < 2 || sb.server.requests_to("/price/") < 2 {
        assert!(started.elapsed() < Duration::from_secs(20), "host-a claimed nothing");
        thread::sleep(Duration::from_millis(10));
    }

    // Stopped outside a transaction: inside one, its locks would hold
    // everyone up, which is another test's matter.
    for tries in 0.. {
        a.signal("STOP");
        thread::sleep(Duration::from_millis(50));
        if !testing::another_transaction_open(sb.db()) {
            break;
        }
        assert!(tries < 50, "host-a is always inside a transaction");
        a.signal("CONT");
        thread::sleep(Duration::from_millis(20));
    }
    // The wall clock is read after the monotonic one, so `lease_end` below
    // is never later than the lease's true end.
    let stopped_at = Instant::now();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let held: Vec<(String, String, String, i64)> = sb.rows(
        "SELECT exchange, symbol, day, lease_until FROM tasks WHERE state = 'in_progress' AND owner LIKE 'host-a:%'",
        &[],
    );
    assert!(!held.is_empty(), "host-a holds nothing");
    let lease_end = |lease_until: i64| stopped_at + Duration::from_millis((lease_until - now_ms).max(0) as u64);

    let others = [work_on(&sb, "host-b", "4"), work_on(&sb, "host-c", "4")];
    for other in others {
        let out = other.wait().expect_code(OK);
        assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    }
    let open = sb.count("SELECT count(*) FROM tasks WHERE state NOT IN ('done', 'no_data')");
    assert_eq!(open, 0, "host-b and host-c finished the queue, host-a's tasks too");

    // host-a's tasks were asked for again only once its lease had ended.
    let log = sb.server.log();
    for (e, s, d, lease_until) in &held {
        let p = path(e, s, d);
        let again: Vec<Instant> = log.iter().filter(|r| r.path == p && r.at > stopped_at).map(|r| r.at).collect();
        assert_eq!(again.len(), 1, "{p} was asked for by one other host, once: {again:?}");
        let early = lease_end(*lease_until).saturating_duration_since(again[0]);
        assert!(early.is_zero(), "{p} was taken {early:?} before host-a's lease ended");
    }
    // Everything else was asked for exactly once.
    let held_paths: Vec<String> = held.iter().map(|(e, s, d, _)| path(e, s, d)).collect();
    for (p, stats) in sb.server.path_stats().iter().filter(|(p, _)| p.starts_with("/price/")) {
        if !held_paths.contains(p) {
            assert_eq!(stats.requests, 1, "{p}");
        }
    }

    // host-a wakes up with its answers long late: none of them counts.
    type Finished = (String, String, String, String, Option<String>, Option<String>);
    let finished = "SELECT t.exchange, t.symbol, t.day, t.state, t.owner, p.fetched_at
                    FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)";
    let before: HashMap<(String, String, String), Finished> =
        sb.rows::<Finished>(finished, &[]).into_iter().map(|r| ((r.0.clone(), r.1.clone(), r.2.clone()), r)).collect();
    let dump = sb.dump();
    a.signal("CONT");
    let out = a.wait();
    eprintln!("host-a after SIGCONT: exit {}\n{}", out.code, out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(out.code, OK, "{}", out.stderr);
    let summary = out.summary();
    let discarded = summary["discarded"].as_u64().unwrap_or_default();
    assert!(discarded >= 1 && discarded <= held.len() as u64, "{} held: {summary}", held.len());
    let after: HashMap<(String, String, String), Finished> =
        sb.rows::<Finished>(finished, &[]).into_iter().map(|r| ((r.0.clone(), r.1.clone(), r.2.clone()), r)).collect();
    for (e, s, d, _) in &held {
        let key = (e.clone(), s.clone(), d.clone());
        assert_eq!(after[&key], before[&key], "host-a's late answer for {e} {s} {d} was stored");
    }
    assert_eq!(sb.dump(), dump);
    counts_agree(&sb);
}
