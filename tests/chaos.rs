//! Kill -9 at random moments against a faulty server, and four processes
//! on one queue: every price fetched once, none lost, none wrong.

use std::collections::HashMap;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use pricequeue::error::{FAILED, OK};
use pricequeue::server::{data, Fault, FaultRule, PathStats, RetryAfter, ServerOptions};

use super::Sandbox;
use crate::common::{counts_agree, day, wait};

/// Checks the end state: every task finished (done, no data, or failed
/// with its error), every price equal to the server's, one row per cell.
fn consistent(sb: &Sandbox) -> (i64, i64) {
    // A task, its error, and its price's five numbers (NULL without a price).
    type Number = Option<f64>;
    type Checked = (String, String, String, String, Option<String>, Number, Number, Number, Number, Number);
    let rows: Vec<Checked> = sb.rows(
        "SELECT t.exchange, t.symbol, t.day, t.state, t.last_error, p.open, p.high, p.low, p.close, p.volume
         FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)",
        &[],
    );
    let (mut tasks, mut failed) = (0, 0);
    for (e, s, d, state, error, open, high, low, close, volume) in rows {
        tasks += 1;
        let number = |x: Number| x.expect("a price with an open has all five numbers");
        let stored: Option<[f64; 5]> =
            open.map(|open| [open, number(high), number(low), number(close), number(volume)]);
        let want = data::price(&e, &s, day(&d)).map(|p| [p.open, p.high, p.low, p.close, p.volume]);
        match state.as_str() {
            "done" => assert_eq!(stored, want, "{e} {s} {d}"),
            "no_data" => assert_eq!((stored, want), (None, None), "{e} {s} {d}"),
            "failed" => {
                failed += 1;
                assert!(error.is_some_and(|e| !e.is_empty()), "{e} {s} {d} failed without a reason");
            }
            other => panic!("{e} {s} {d} is still {other}"),
        }
    }
    let doubles = sb.count(
        "SELECT count(*) FROM (SELECT 1 FROM prices GROUP BY exchange, symbol, day HAVING count(*) > 1) AS doubles",
    );
    assert_eq!(doubles, 0);
    counts_agree(sb);
    (tasks, failed)
}

/// Answers beyond the first for each price (faults are not answers).
fn refetches(stats: &HashMap<String, PathStats>) -> u64 {
    stats.iter().filter(|(p, _)| p.starts_with("/price/")).map(|(_, s)| (s.requests - s.faults).saturating_sub(1)).sum()
}

/// A number from the environment, or `default`.
fn scale(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The scale comes from the environment, for a long run on demand:
/// `PRICEQUEUE_CHAOS_KILLS=100 PRICEQUEUE_CHAOS_DAYS=167 cargo test chaos_sigkill -- --nocapture`
/// (100 kills over 36 x 167 = 6012 tasks). The default, 10 kills over
/// 3600 tasks, takes about 25 s. The server's pace follows from the kills
/// and the tasks, so that the queue outlasts them all whatever the speed
/// of the database (a faster SQLite once drained it after 8 of 10).
#[test]
fn chaos_sigkill_at_random_moments_against_a_faulty_server() {
    let seed = scale("PRICEQUEUE_CHAOS_SEED", fastrand::u64(..));
    let kills_wanted = scale("PRICEQUEUE_CHAOS_KILLS", 10);
    let days = scale("PRICEQUEUE_CHAOS_DAYS", 100);
    eprintln!("chaos seed {seed}: {kills_wanted} kills over {} tasks", 36 * days);
    let mut rng = fastrand::Rng::with_seed(seed);
    let workers = 8;
    let tasks = 12 * 3 * days;
    // The kills come 300 to 1200 ms apart, 750 ms on average. Answers take
    // `mean` ms on average (latency + half the jitter), so the queue's work
    // without a fault takes tasks x mean / workers: twice the kills' time.
    let mean = (2 * kills_wanted * 750 * workers).div_ceil(tasks);
    let Some(sb) = Sandbox::with_server(ServerOptions {
        latency: Duration::from_millis(mean / 2),
        latency_jitter: Duration::from_millis(mean),
        faults: vec![
            FaultRule::rate(Fault::ServerError, 0.03),
            FaultRule::rate(Fault::Reset, 0.02),
            FaultRule::rate(Fault::Malformed, 0.01),
            FaultRule::rate(Fault::Truncated, 0.01),
            FaultRule::rate(Fault::Unavailable, 0.001),
            FaultRule::rate(Fault::RateLimited, 0.001),
            FaultRule::rate(Fault::Stall, 0.002),
        ],
        retry_after: RetryAfter::Seconds(1),
        stall: Duration::from_secs(2),
        seed,
        ..ServerOptions::default()
    }) else {
        return;
    };
    let to = (day("2020-01-01") + chrono::Duration::days(days as i64 - 1)).to_string();
    let args = [
        "fetch",
        "-e",
        "all",
        "-s",
        "all",
        "--from",
        "2020-01-01",
        "--to",
        &to,
        "--workers",
        &workers.to_string(),
        "--retry-delay",
        "20ms",
        "--max-attempts",
        "10",
        "--timeout",
        "1s",
    ];
    let tasks = tasks as i64;

    let mut kills = 0;
    let started = Instant::now();
    while kills < kills_wanted {
        assert!(started.elapsed() < Duration::from_secs(60 + 3 * kills_wanted), "chaos loop ran too long");
        let child = sb.command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let mut child = child;
        thread::sleep(Duration::from_millis(rng.u64(300..1200)));
        if child.try_wait().unwrap().is_some() {
            break; // it finished before the kill: nothing left to interrupt
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
    }
    let open = sb.count("SELECT count(*) FROM tasks WHERE state IN ('queued', 'in_progress')");
    eprintln!("{kills} kills, {open} of {tasks} tasks still open before the last run");
    assert!(kills >= kills_wanted, "only {kills} kills before the queue was drained: slow the server down");

    let last = sb.run(&args);
    assert!(last.code == OK || last.code == FAILED, "{last:?}");
    let (n, failed) = consistent(&sb);
    assert_eq!(n, tasks);
    assert_eq!(last.code == FAILED, failed > 0);

    // Fetched more than once only when the kill caught it in flight: at
    // most the tasks a run holds (two per worker) per kill.
    let stats = sb.server.path_stats();
    let again = refetches(&stats);
    let faults: u64 = stats.values().map(|s| s.faults).sum();
    eprintln!(
        "{} price requests, {faults} faults, {again} answers fetched again, {failed} failed",
        sb.server.requests_to("/price/")
    );
    assert!(again <= kills * 2 * workers, "{again} prices fetched again after {kills} kills");

    // And now the queue is drained: the same command asks for no price.
    let before = sb.server.requests_to("/price/");
    sb.run(&args);
    assert_eq!(sb.server.requests_to("/price/"), before);
}

#[test]
fn four_processes_drain_one_queue_and_fetch_each_price_once() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        latency: Duration::from_millis(1),
        latency_jitter: Duration::from_millis(2),
        ..ServerOptions::default()
    }) else {
        return;
    };
    sb.run(&["enqueue", "-e", "all", "-s", "all", "--from", "2020-01-01", "--to", "2020-02-29"]).expect_code(OK);
    let children: Vec<_> = (0..4)
        .map(|_| {
            sb.command(&["work", "--workers", "16"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
        })
        .collect();
    let mut fetched_by = Vec::new();
    for child in children {
        let out = wait(child).expect_code(OK);
        assert!(!out.stderr.contains("locked"), "{}", out.stderr);
        fetched_by.push(out.stderr.lines().last().unwrap_or("").to_string());
    }
    eprintln!("{}", fetched_by.join("\n"));
    let (n, failed) = consistent(&sb);
    assert_eq!((n, failed), (12 * 3 * 60, 0));
    let stats = sb.server.path_stats();
    let prices: Vec<_> = stats.iter().filter(|(p, _)| p.starts_with("/price/")).collect();
    assert_eq!(prices.len(), 12 * 3 * 60);
    for (path, s) in prices {
        assert_eq!(s.requests, 1, "{path} was fetched {} times", s.requests);
    }
}
