//! What a `--quiet` run (cron's) must still say: a source that has
//! answered nothing usable for over an hour, and a command that can never
//! store anything because every day is older than its source serves. A
//! blip stays silent, with exit 0.

use chrono::{Duration as Days, Utc};
use pricequeue::clock::AHEAD;
use pricequeue::error::OK;
use pricequeue::server::{Fault, FaultRule, ServerOptions};

use super::Sandbox;
use crate::common::{counts_agree, run, Output};

/// `--quiet fetch` of 20 days of Kraken's, two attempts a round.
fn quiet_fetch(sb: &Sandbox, ahead: Option<&str>) -> Output {
    let today = Utc::now().date_naive();
    let (from, to) = ((today - Days::days(40)).to_string(), (today - Days::days(21)).to_string());
    let mut cmd = sb.command(&[
        "--quiet",
        "fetch",
        "--source",
        "kraken",
        "--symbol",
        "XBTUSD",
        "--from",
        &from,
        "--to",
        &to,
        "--rate",
        "50/s",
        "--retry-delay",
        "10ms",
        "--max-attempts",
        "2",
    ]);
    if let Some(ahead) = ahead {
        // On PostgreSQL, whose server keeps the queue's clock, the
        // cool-downs are ended in the database: the same moment, seen from it.
        if sb.db().starts_with("postgres") {
            sb.execute("UPDATE tasks SET next_attempt_at = 1 WHERE state = 'cooling'", &[]);
        }
        cmd.env(AHEAD, ahead);
    }
    run(cmd)
}

#[test]
fn a_source_that_answers_garbage_for_over_an_hour_is_said_once_under_quiet() {
    for fault in [Fault::Malformed, Fault::Busy] {
        let Some(sb) = Sandbox::with_server(ServerOptions {
            faults: vec![FaultRule::rate(fault, 1.0)],
            ..ServerOptions::default()
        }) else {
            return;
        };
        // The first round: a blip, as far as anyone can tell. Silent, exit 0.
        let first = quiet_fetch(&sb, None).expect_code(OK);
        assert_eq!(first.stderr, "", "{}", fault.name());
        let rounds: Vec<i64> = sb.rows("SELECT DISTINCT rounds FROM tasks", &[]);
        assert_eq!(rounds, [1], "{}", fault.name());
        // A run during the cool-down asks nothing, and says nothing.
        let asked = sb.server.requests_to("/0/public/OHLC");
        quiet_fetch(&sb, None).expect_code(OK);
        assert_eq!(sb.server.requests_to("/0/public/OHLC"), asked);
        // The second round, an hour later, fails as well: one line, still exit 0.
        let second = quiet_fetch(&sb, Some("61m")).expect_code(OK);
        let lines: Vec<&str> = second.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{}: {}", fault.name(), second.stderr);
        assert!(lines[0].starts_with("kraken has answered nothing usable for over an hour"), "{}", lines[0]);
        assert!(lines[0].contains("20 tasks failed a second round"), "{}", lines[0]);
        assert_eq!(sb.server.requests_to("/0/public/OHLC"), asked + 2, "{}", fault.name());
        let failed: Vec<(String, String, i64)> = sb.rows("SELECT DISTINCT state, failure, rounds FROM tasks", &[]);
        assert_eq!(failed, [("cooling".into(), "transient".into(), 2)], "{}", fault.name());
        counts_agree(&sb);
    }
}

#[test]
fn a_source_that_comes_back_in_its_second_round_is_not_said() {
    // The first two requests fail (the first round), the third answers.
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(Fault::Malformed, 2)],
        ..ServerOptions::default()
    }) else {
        return;
    };
    assert_eq!(quiet_fetch(&sb, None).expect_code(OK).stderr, "");
    let second = quiet_fetch(&sb, Some("61m")).expect_code(OK);
    assert_eq!(second.stderr, "", "a blip, over");
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'done'"), 20);
}

#[test]
fn a_quiet_fetch_of_days_older_than_the_source_keeps_says_so_in_one_line() {
    let Some(sb) = Sandbox::new() else { return };
    let args = ["--quiet", "fetch", "--source", "kraken", "--symbol", "XBTUSD", "--from", "2018"];
    let out = sb.run(&args).expect_code(OK);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", out.stderr);
    assert!(lines[0].starts_with("nothing stored: every day of this selection (2018-01-01 to 2018-12-31, 365 tasks)"));
    assert!(lines[0].contains("outside kraken's history"), "{}", lines[0]);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'outside_history'"), 365);
    assert_eq!(sb.server.requests_to("/0/public/OHLC"), 0, "nothing to ask");
    // The next run (cron's, say) can store nothing either, and says so again.
    let again = sb.run(&args).expect_code(OK);
    assert_eq!(again.stderr.lines().count(), 1, "{}", again.stderr);

    // `work` over such tasks says it of its own run.
    sb.run(&["enqueue", "--source", "kraken", "--symbol", "ETHUSD", "--from", "2019-01-01", "--to", "2019-01-31"])
        .expect_code(OK);
    let out = sb.run(&["--quiet", "work"]).expect_code(OK);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("nothing stored: all 31 days this run asked for are outside"), "{}", out.stderr);
    counts_agree(&sb);
}

#[test]
fn a_selection_partly_inside_the_source_s_history_is_quiet() {
    let Some(sb) = Sandbox::new() else { return };
    let from = (Utc::now().date_naive() - Days::days(730)).to_string();
    let to = (Utc::now().date_naive() - Days::days(700)).to_string();
    let out = sb
        .run(&["--quiet", "fetch", "--source", "kraken", "--symbol", "XBTUSD", "--from", &from, "--to", &to])
        .expect_code(OK);
    assert_eq!(out.stderr, "");
    assert!(sb.count("SELECT count(*) FROM tasks WHERE state = 'outside_history'") > 0);
    assert!(sb.count("SELECT count(*) FROM tasks WHERE state = 'done'") > 0);
}
