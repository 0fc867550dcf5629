//! `remove`: the tasks of a selection out of the queue, their prices only
//! when asked, never without a yes.

use std::io::Write;
use std::process::{Command, Stdio};

use chrono::Datelike;
use pricequeue::error::{OK, USAGE};

use super::Sandbox;
use crate::common::{counts_agree, wait, Output};

/// `remove` with `args` in a pseudo-terminal (util-linux's `script`),
/// `answer` typed at its question.
fn remove_in_a_terminal(sb: &Sandbox, args: &str, answer: &str) -> Output {
    let line = format!("{} --db '{}' remove {args}", crate::common::bin().display(), sb.db());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("TERM", "dumb")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    child.stdin.take().expect("piped stdin").write_all(answer.as_bytes()).expect("type the answer");
    wait(child)
}

const KRAKEN: &str = "SELECT count(*) FROM prices WHERE exchange = 'kraken'";

fn tasks(sb: &Sandbox) -> i64 {
    sb.count("SELECT count(*) FROM tasks")
}

#[test]
fn remove_says_how_many_and_removes_only_with_a_yes() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "kraken,bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"])
        .expect_code(OK);
    let prices = sb.count("SELECT count(*) FROM prices");
    assert!(prices > 0);

    // Nothing named is refused: everything must be asked for by name.
    let out = sb.run(&["remove"]).expect_code(USAGE);
    assert!(out.stderr.contains("--exchange all"), "{}", out.stderr);
    // No terminal to answer on, no --yes: nothing goes.
    let out = sb.run(&["remove", "-e", "kraken", "--from", "2020-03-02", "--to", "2020-03-03"]).expect_code(USAGE);
    assert!(out.stderr.contains("remove 2 tasks of 1 exchange x 1 symbol x 2 days"), "{}", out.stderr);
    assert!(out.stderr.contains("add --yes"), "{}", out.stderr);
    assert_eq!(tasks(&sb), 10);

    let out = sb.run(&["remove", "-e", "kraken", "--from", "2020-03-02", "--to", "2020-03-03", "--yes"]);
    assert!(out.expect_code(OK).stderr.contains("removed 2 tasks of"));
    assert_eq!(tasks(&sb), 8);
    assert_eq!(sb.count("SELECT count(*) FROM prices"), prices, "prices are kept without --prices");
    let kept = "SELECT count(*) FROM prices WHERE exchange = 'kraken' AND day IN ('2020-03-02', '2020-03-03')";
    assert_eq!(sb.count(kept), 2, "the removed tasks' prices stay");

    let (bitstamp, kraken) = ("SELECT count(*) FROM prices WHERE exchange = 'bitstamp'", sb.count(KRAKEN));
    let priced = sb.count(bitstamp);
    let out = sb.run(&["remove", "-e", "bitstamp", "--prices", "-y"]).expect_code(OK);
    assert!(out.stderr.contains(&format!("removed 5 tasks and {priced} prices")), "{}", out.stderr);
    assert_eq!(sb.count(bitstamp), 0);
    assert_eq!(sb.count(KRAKEN), kraken, "only the selection's prices go");
    let out = sb.run(&["remove", "-e", "bitstamp", "-y"]).expect_code(OK);
    assert!(out.stderr.contains("nothing to remove"), "{}", out.stderr);
    counts_agree(&sb);
}

#[test]
fn a_typod_year_is_undone_and_source_limits_what_goes() {
    let Some(sb) = Sandbox::new() else { return };
    let today = chrono::Utc::now().date_naive();
    let recent = (today - chrono::Duration::days(5)).to_string();
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2102", "--far-future"])
        .expect_code(OK);
    sb.run(&["enqueue", "--source", "kraken", "-s", "XBTUSD", "--from", &recent, "--to", "yesterday"]).expect_code(OK);
    let all = tasks(&sb);
    let next_year = (today.year_ce().1 + 1).to_string();
    let out = sb.run(&["remove", "--from", &next_year, "--to", "2102", "--yes"]).expect_code(OK);
    let future = sb.count(&format!("SELECT count(*) FROM tasks WHERE day >= '{next_year}-01-01'"));
    assert_eq!(future, 0, "{}", out.stderr);
    assert!(out.stderr.contains("removed "), "{}", out.stderr);
    let left = tasks(&sb);
    assert!(left < all && left > 5);

    sb.run(&["remove", "-e", "kraken", "--source", "kraken", "-y"]).expect_code(OK);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE source = 'kraken'"), 0);
    assert_eq!(tasks(&sb), left - 5, "the cryptodb tasks of kraken stay");
    counts_agree(&sb);
}

#[test]
fn on_a_terminal_remove_asks_first() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-04"]).expect_code(OK);
    let out = remove_in_a_terminal(&sb, "-e kraken --to 2020-03-02", "n\n");
    assert!(out.stdout.contains("remove 2 tasks of") && out.stdout.contains("[y/N]"), "{out:?}");
    assert!(out.stdout.contains("nothing was removed"), "{out:?}");
    assert_eq!(tasks(&sb), 4);
    let out = remove_in_a_terminal(&sb, "-e kraken --to 2020-03-02", "y\n").expect_code(OK);
    assert!(out.stdout.contains("removed 2 tasks"), "{out:?}");
    assert_eq!(tasks(&sb), 2);
    counts_agree(&sb);
}
