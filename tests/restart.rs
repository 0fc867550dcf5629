//! The PostgreSQL server restarting under a running `work` (an upgrade, a
//! failover): nothing fetched is lost, and nothing is fetched twice but
//! what was in flight. The test runs alone (`Sandbox::alone`): no other
//! PostgreSQL test sees the restart.

use std::io::Write;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use pricequeue::error::{ERROR, OK};
use pricequeue::server::{data, ServerOptions};

use super::Sandbox;
use crate::common::{counts_agree, day, Running};

/// The local cluster's version, if this machine manages its PostgreSQL
/// with Debian's `pg_ctlcluster` (one version under /etc/postgresql).
fn local_cluster() -> Option<String> {
    let versions: Vec<String> = std::fs::read_dir("/etc/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    let found = Command::new("pg_ctlcluster").arg("--version").output().is_ok();
    match (found, &versions[..]) {
        (true, [version]) => Some(version.clone()),
        _ => None,
    }
}

#[test]
fn a_restart_during_work_loses_nothing_and_fetches_again_only_what_was_in_flight() {
    let Some(version) = local_cluster() else {
        // Straight to stderr: the harness captures eprintln! of a passing test.
        let _ = writeln!(std::io::stderr(), "skipped: no pg_ctlcluster to restart PostgreSQL with");
        return;
    };
    let options = ServerOptions { latency: Duration::from_millis(40), ..ServerOptions::default() };
    let Some(sb) = Sandbox::alone(options) else { return };
    // 1080 tasks at 40 ms over 8 workers: about five seconds of work.
    let tasks = 12 * 3 * 30;
    sb.run(&["enqueue", "-e", "all", "-s", "all", "--from", "2020-03-01", "--to", "2020-03-30"]).expect_code(OK);
    let boot = "SELECT CAST(pg_postmaster_start_time() AS text)";
    let booted: String = sb.one(boot, &[]);
    let workers = 8;
    let work = Running::spawn(sb.command(&["work", "--workers", "8"]));
    let started = Instant::now();
    while sb.server.requests_to("/price/") < 60 {
        assert!(started.elapsed() < Duration::from_secs(20), "work made no progress");
        thread::sleep(Duration::from_millis(10));
    }
    let restart = Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", "-m", "fast", &version, "main", "restart"])
        .output()
        .expect("run pg_ctlcluster");
    assert!(restart.status.success(), "pg_ctlcluster restart: {}", String::from_utf8_lossy(&restart.stderr));
    let asked_at_restart = sb.server.requests_to("/price/");
    assert!(asked_at_restart < tasks, "work was over before the restart: make it longer");
    assert_ne!(sb.one::<String>(boot, &[]), booted, "the server did not restart");

    let out = work.wait();
    eprintln!("work through the restart: exit {}\n{}", out.code, out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    // Riding through is best; stopping with an error that says to run it
    // again is allowed, and then the next run must carry on.
    assert!(out.code == OK || out.code == ERROR, "{}", out.stderr);
    if out.code == ERROR {
        sb.run(&["work", "--workers", "8"]).expect_code(OK);
    }

    // Every task finished, with the server's price: nothing fetched was lost.
    let rows: Vec<(String, String, String, String, Option<f64>)> = sb.rows(
        "SELECT t.exchange, t.symbol, t.day, t.state, p.close FROM tasks t
         LEFT JOIN prices p USING (exchange, symbol, day)",
        &[],
    );
    assert_eq!(rows.len() as u64, tasks);
    for (e, s, d, state, close) in rows {
        match data::price(&e, &s, day(&d)) {
            Some(p) => assert_eq!((state.as_str(), close), ("done", Some(p.close)), "{e} {s} {d}"),
            None => assert_eq!((state.as_str(), close), ("no_data", None), "{e} {s} {d}"),
        }
    }
    counts_agree(&sb);
    // Asked for twice only if in flight at the restart: at most what the
    // run held then (two tasks per worker).
    let stats = sb.server.path_stats();
    let prices: Vec<_> = stats.iter().filter(|(p, _)| p.starts_with("/price/")).collect();
    assert_eq!(prices.len() as u64, tasks);
    let again: u64 = prices.iter().map(|(_, s)| s.requests - 1).sum();
    eprintln!("{asked_at_restart} prices asked for before the restart ended; {again} asked for again");
    assert!(again <= 2 * workers, "{again} prices fetched again after one restart");
}
