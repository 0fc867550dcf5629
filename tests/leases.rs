//! Tasks left in progress by a run that died come back to the queue.

use std::time::Duration;

use pricequeue::error::OK;

use super::Sandbox;

/// Marks every task in progress, held by `owner` until `lease_until` (ms).
fn held_by(sb: &Sandbox, owner: &str, lease_until: i64) {
    sb.execute(
        "UPDATE tasks SET state = 'in_progress', owner = ?1, lease_until = ?2, claims = claims + 1",
        &[&owner, &lease_until],
    );
    // A hand edit: the counts are brought back in line the documented way.
    sb.run(&["status", "--recount"]).expect_code(pricequeue::error::OK);
}

fn open_tasks(sb: &Sandbox) -> i64 {
    crate::common::counts_agree(sb);
    sb.count("SELECT count(*) FROM tasks WHERE state NOT IN ('done', 'no_data')")
}

#[test]
fn a_dead_process_on_this_host_gives_its_tasks_back_at_once() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc,eth", "--from", "2020-03-01", "--to", "2020-03-10"])
        .expect_code(OK);
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    // A lease that would outlast the test: only the dead-owner check frees these.
    held_by(&sb, &pricequeue::owner::local(pid, "0badc0de"), i64::MAX / 2);
    let out = sb.run(&["work", "-f", "json"]).expect_code(OK);
    let summary = out.summary();
    assert_eq!(summary["recovered"], 20, "{summary}");
    assert_eq!(open_tasks(&sb), 0);
}

#[test]
fn a_silent_worker_elsewhere_gives_its_tasks_back_when_the_lease_ends() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"]).expect_code(OK);
    let now = chrono::Utc::now().timestamp_millis();
    held_by(&sb, "another-machine:0123456789ab:4026531836:4242:12345678", now + 1500);
    let started = std::time::Instant::now();
    let out = sb.run(&["work", "-f", "json"]).expect_code(OK);
    let summary = out.summary();
    assert_eq!(summary["recovered"], 5, "{summary}");
    assert_eq!(open_tasks(&sb), 0);
    // It waited for the lease rather than taking a live worker's tasks.
    assert!(started.elapsed() >= Duration::from_millis(1000), "took them after {:?}", started.elapsed());
}
