use pricequeue::store::testing;

use super::Sandbox;
use crate::common::run;

#[test]
fn demo_fetches_march_2020_and_reports_what_is_missing() {
    let sb = Sandbox::sqlite();
    // As a new user runs it: no --db, no server, in an empty directory.
    let mut cmd = std::process::Command::new(crate::common::bin());
    cmd.arg("demo").current_dir(sb.dir.path()).env_remove("PRICEQUEUE_DB").env_remove("PRICEQUEUE_SERVER");
    // PRICEQUEUE_DB must not redirect the demo onto a real database.
    cmd.env("PRICEQUEUE_DB", sb.dir.path().join("precious.db"));
    let out = run(cmd).expect_code(0);
    assert!(!sb.dir.path().join("precious.db").exists());
    let db = sb.dir.path().join("demo.db");
    assert!(db.exists());

    assert!(out.stdout.contains("== status: "), "{}", out.stdout);
    assert!(out.stdout.contains("Missing: "), "{}", out.stdout);
    assert!(out.stdout.contains("no data"), "{}", out.stdout);
    let (tasks, open): (i64, i64) = testing::one(
        &db,
        "SELECT count(*), count(*) FILTER (WHERE state NOT IN ('done', 'no_data')) FROM tasks
         WHERE day BETWEEN '2020-03-01' AND '2020-03-31'",
        &[],
    );
    assert_eq!((tasks, open), (12 * 3 * 31, 0));
    let prices = testing::count(&db, "SELECT count(*) FROM prices");
    let line = format!("1116 prices asked for: {prices} stored, {} missing", 1116 - prices);
    assert!(out.stdout.contains(&line), "expected {line:?} in\n{}", out.stdout);

    // Run again: the database is made anew, not added to.
    let mut again = std::process::Command::new(crate::common::bin());
    again.arg("demo").current_dir(sb.dir.path()).env_remove("PRICEQUEUE_DB");
    let out = run(again).expect_code(0);
    assert!(out.stderr.contains("enqueued 1116 new tasks (0 already in the queue)"), "{}", out.stderr);
}

#[test]
fn demo_refuses_to_replace_a_database_that_is_not_its_own() {
    let sb = Sandbox::sqlite();
    sb.execute_batch("CREATE TABLE ledger (x); INSERT INTO ledger VALUES (42);");
    let out = sb.run(&["demo"]).expect_code(1);
    assert!(out.stderr.contains("refusing to replace"), "{}", out.stderr);
    let kept: i64 = sb.one("SELECT x FROM ledger", &[]);
    assert_eq!(kept, 42);
}

#[test]
fn demo_refuses_to_replace_a_pricequeue_database_that_is_not_a_demo() {
    let sb = Sandbox::sqlite();
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2019-01-01", "--to", "2019-01-03"]).expect_code(0);
    let before = sb.dump();
    let out = sb.run(&["demo"]).expect_code(1);
    assert!(out.stderr.contains("refusing to replace"), "{}", out.stderr);
    assert!(out.stderr.contains("`pricequeue demo` did not make it"), "{}", out.stderr);
    assert_eq!(sb.dump(), before);
}

#[test]
fn demo_fits_on_one_screen_and_its_closing_commands_run_as_printed() {
    let sb = Sandbox::sqlite();
    let mut cmd = std::process::Command::new(crate::common::bin());
    // As after `cargo run`: nothing named pricequeue on the PATH.
    cmd.arg("demo").current_dir(sb.dir.path()).env_remove("PRICEQUEUE_DB").env("PATH", "/usr/bin:/bin");
    let out = run(cmd).expect_code(0);
    let lines = out.stdout.lines().count() + out.stderr.lines().count();
    assert!(lines <= 40, "{lines} lines:\n{}{}", out.stderr, out.stdout);
    assert!(out.stdout.contains(" more rows"), "{}", out.stdout);

    let hints: Vec<&str> = out.stdout.lines().skip_while(|l| !l.contains("go on with")).skip(1).collect();
    assert!(hints.len() >= 3, "{}", out.stdout);
    let ran = run_as_printed(&sb, &hints);
    assert!(ran >= 2, "{}", out.stdout);
}

/// Runs each of the demo's closing commands as a user pastes it: a shell
/// in the demo's directory, with the PATH a fresh checkout has (`sqlite3`
/// ones skipped where it is not installed). Each must exit 0, or 5 (query
/// on the demo: complete, with days the server has no price for), print
/// something and complain of nothing. Returns how many ran.
fn run_as_printed(sb: &Sandbox, hints: &[&str]) -> usize {
    let mut ran = 0;
    for hint in hints {
        let hint = hint.trim();
        if hint.starts_with("sqlite3 ") && !std::path::Path::new("/usr/bin/sqlite3").exists() {
            continue;
        }
        let mut sh = std::process::Command::new("sh");
        sh.args(["-c", hint]).current_dir(sb.dir.path()).env_remove("PRICEQUEUE_DB").env("PATH", "/usr/bin:/bin");
        let done = run(sh);
        assert!([0, 5].contains(&done.code), "{hint}: {done:?}");
        assert!(!done.stdout.is_empty() && done.stderr.is_empty(), "{hint}: {done:?}");
        ran += 1;
    }
    ran
}

#[test]
fn demo_at_an_interval_fetches_candles_and_its_closing_commands_run_as_printed() {
    let sb = Sandbox::sqlite();
    let mut cmd = std::process::Command::new(crate::common::bin());
    cmd.args(["demo", "--source", "binance", "--interval", "1h"])
        .current_dir(sb.dir.path())
        .env_remove("PRICEQUEUE_DB")
        .env("PATH", "/usr/bin:/bin");
    let out = run(cmd).expect_code(0);
    let db = sb.dir.path().join("demo.db");
    let hours = testing::count(&db, "SELECT count(*) FROM candles WHERE interval = '1h'");
    let (tasks, open): (i64, i64) = testing::one(
        &db,
        "SELECT count(*), count(*) FILTER (WHERE state NOT IN ('done', 'no_data')) FROM tasks WHERE interval = '1h'",
        &[],
    );
    assert!(tasks >= 31 && open == 0, "{tasks} tasks, {open} not finished");
    assert!(hours > 24 * 31, "{hours} candles");
    let hints: Vec<&str> = out.stdout.lines().skip_while(|l| !l.contains("go on with")).skip(1).collect();
    assert!(hints.iter().any(|h| h.contains("--interval 1h")), "{}", out.stdout);
    run_as_printed(&sb, &hints);
    // The reference API serves days only, and the demo says so.
    let mut cmd = std::process::Command::new(crate::common::bin());
    cmd.args(["demo", "--interval", "1h", "--db", "other.db"]).current_dir(sb.dir.path());
    let refused = run(cmd);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("cryptodb has no 1h candles: it serves days only (1d)"), "{refused:?}");
}
