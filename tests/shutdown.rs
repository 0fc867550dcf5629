//! SIGTERM and Ctrl-C: stop claiming, finish what is in flight, lose nothing.

use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use pricequeue::error::{INTERRUPTED, OK};
use pricequeue::server::ServerOptions;

use super::Sandbox;
use crate::common::{counts_agree, wait};

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn slow_sandbox(latency_ms: u64) -> Option<Sandbox> {
    let sb =
        Sandbox::with_server(ServerOptions { latency: Duration::from_millis(latency_ms), ..ServerOptions::default() })?;
    sb.run(&["enqueue", "-e", "all", "-s", "all", "--from", "2020-03-01", "--to", "2020-03-31"]).expect_code(OK);
    Some(sb)
}

fn start_work(sb: &Sandbox) -> Child {
    sb.command(&["work", "--workers", "8"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
}

fn wait_for_prices(sb: &Sandbox, n: i64) {
    for _ in 0..1000 {
        if sb.count("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')") >= n {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    panic!("work made no progress");
}

#[test]
fn sigterm_commits_what_is_in_flight_and_leaves_nothing_in_progress() {
    let Some(sb) = slow_sandbox(100) else { return };
    let child = start_work(&sb);
    wait_for_prices(&sb, 20);
    signal(&child, "TERM");
    let out = wait(child).expect_code(INTERRUPTED);
    assert!(out.stderr.contains("interrupted: run the same command again"), "{}", out.stderr);

    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'in_progress'"), 0);
    // Every price the server sent is stored: nothing fetched was lost.
    let answered: u64 =
        sb.server.path_stats().iter().filter(|(p, _)| p.starts_with("/price/")).map(|(_, s)| s.requests).sum();
    let finished = sb.count("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')");
    assert_eq!(answered, finished as u64, "answers sent vs tasks finished");
    assert!(sb.count("SELECT count(*) FROM tasks WHERE state = 'queued'") > 0, "it stopped early");
    counts_agree(&sb);

    // The next run carries on, and asks for nothing twice.
    sb.run(&["work", "--workers", "32"]).expect_code(OK);
    for (path, s) in sb.server.path_stats().iter().filter(|(p, _)| p.starts_with("/price/")) {
        assert_eq!(s.requests, 1, "{path}");
    }
}

#[test]
fn a_second_ctrl_c_exits_at_once_and_the_next_run_recovers() {
    // Each answer takes 5 s: a first Ctrl-C would wait for them, a second must not.
    let Some(sb) = slow_sandbox(5000) else { return };
    let child = start_work(&sb);
    for _ in 0..500 {
        if sb.server.requests_to("/price/") >= 8 {
            break;
        }
        thread::sleep(Duration::from_millis(10));
    }
    signal(&child, "INT");
    thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let out = wait(child).expect_code(INTERRUPTED);
    assert!(out.stderr.contains("press Ctrl-C again to quit at once"), "{}", out.stderr);
    // It did not wait for the 5 s answers: their tasks are still held.
    let held = sb.count("SELECT count(*) FROM tasks WHERE state = 'in_progress'");
    assert!(held >= 8, "{held} tasks in progress");
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')"), 0);
    counts_agree(&sb);

    // The process is gone, so the next run takes its tasks back at once.
    let fast = pricequeue::server::Server::start("127.0.0.1:0", ServerOptions::default()).unwrap();
    let out = sb.run(&["--server", &fast.url(), "work"]).expect_code(OK);
    assert!(out.stderr.contains(&format!("took back {held} tasks")), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state NOT IN ('done', 'no_data')"), 0);
}
