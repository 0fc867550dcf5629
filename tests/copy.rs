//! `pricequeue copy` between an SQLite file and a PostgreSQL database, both
//! ways: what arrives, what a second copy does, and what it refuses.

use pricequeue::error::{ERROR, OK};

use crate::common::{counts_agree, PgSandbox, SqliteSandbox};

/// Runs `copy --from from --to to` and returns what it said on stderr.
fn copy(sb: &SqliteSandbox, from: &str, to: &str, code: i32) -> String {
    sb.run(&["copy", "--from", from, "--to", to]).expect_code(code).stderr
}

#[test]
fn copy_carries_tasks_and_prices_both_ways_and_a_second_copy_changes_nothing() {
    let file = SqliteSandbox::sqlite();
    let Some(pg) = PgSandbox::new() else { return };
    // Prices, days without a price, and tasks not fetched yet.
    file.run(&["fetch", "-e", "bitstamp,kraken", "-s", "btc,ltc", "--from", "2020-03-01", "--to", "2020-03-10"])
        .expect_code(OK);
    file.run(&["enqueue", "-e", "kraken", "-s", "eth", "--from", "2020-03-01", "--to", "2020-03-03"]).expect_code(OK);
    // One failure cooling down after transient errors: it keeps its kind and rounds.
    file.execute(
        "UPDATE tasks SET state = 'cooling', failure = 'transient', rounds = 2, attempts = 5, last_error = 'HTTP 502',
                          finished_at = '2020-03-11T00:00:00.000Z', next_attempt_at = 1
         WHERE exchange = 'kraken' AND symbol = 'eth' AND day = '2020-03-01'",
        &[],
    );
    file.run(&["status", "--recount"]).expect_code(OK);
    let tasks = file.count("SELECT count(*) FROM tasks");
    let prices = file.count("SELECT count(*) FROM prices");
    assert!(prices > 0 && tasks > prices, "{prices} prices of {tasks} tasks");

    let said = copy(&file, &file.db(), &pg.db(), OK);
    assert!(said.contains(&format!("prices {prices} new, 0 updated; tasks {tasks} new, 0 updated")), "{said}");
    assert_eq!(pg.dump(), file.dump());
    counts_agree(&pg);
    assert_eq!(pg.run(&["status", "--format", "json"]).stdout, file.run(&["status", "--format", "json"]).stdout);

    let said = copy(&file, &file.db(), &pg.db(), OK);
    assert!(said.contains("prices 0 new, 0 updated; tasks 0 new, 0 updated"), "{said}");
    assert_eq!(pg.dump(), file.dump());

    // And back, into a new file: the same rows.
    let back = SqliteSandbox::sqlite();
    copy(&file, &pg.db(), &back.db(), OK);
    assert_eq!(back.dump(), file.dump());
    counts_agree(&back);
}

#[test]
fn a_later_copy_brings_what_was_fetched_since_and_replaces_unfinished_tasks() {
    let file = SqliteSandbox::sqlite();
    let Some(pg) = PgSandbox::new() else { return };
    file.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-06"]).expect_code(OK);
    copy(&file, &file.db(), &pg.db(), OK);
    assert_eq!(pg.count("SELECT count(*) FROM tasks WHERE state = 'queued'"), 6);

    // The file fetches them, and queues more; the next copy carries both.
    file.run(&["work"]).expect_code(OK);
    file.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-07", "--to", "2020-03-08"]).expect_code(OK);
    let said = copy(&file, &file.db(), &pg.db(), OK);
    let prices = file.count("SELECT count(*) FROM prices");
    assert!(said.contains(&format!("prices {prices} new, 0 updated; tasks 2 new, 6 updated")), "{said}");
    assert_eq!(pg.dump(), file.dump());
    counts_agree(&pg);

    // A task the destination has finished is not undone by an unfinished one.
    let fresh = SqliteSandbox::sqlite();
    fresh.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-02"]).expect_code(OK);
    let before = pg.dump();
    let said = copy(&file, &fresh.db(), &pg.db(), OK);
    assert!(said.contains("tasks 0 new, 0 updated"), "{said}");
    assert_eq!(pg.dump(), before);
}

#[test]
fn copy_refuses_a_destination_of_a_newer_schema_and_the_same_database_twice() {
    let file = SqliteSandbox::sqlite();
    let Some(pg) = PgSandbox::new() else { return };
    file.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-03"]).expect_code(OK);
    pg.run(&["enqueue", "-e", "bitstamp", "-s", "eth", "--from", "2020-03-01"]).expect_code(OK);
    // The same database under another URL is found out, before any row is
    // read: copying it into itself would lock out its workers.
    let before = pg.dump();
    let other_name = format!("{}?application_name=another_name", pg.db());
    let said = copy(&file, &pg.db(), &other_name, pricequeue::error::USAGE);
    assert!(said.contains("are the same database"), "{said}");
    assert_eq!(pg.dump(), before);

    pg.execute("UPDATE meta SET value = '99' WHERE key = 'pricequeue_schema'", &[]);
    let before = pg.dump();
    let said = copy(&file, &file.db(), &pg.db(), ERROR);
    assert!(said.contains("newer pricequeue (schema version 99"), "{said}");
    assert_eq!(pg.dump(), before, "nothing was copied");

    let newer = SqliteSandbox::sqlite();
    newer.run(&["enqueue", "-e", "bitstamp", "-s", "eth", "--from", "2020-03-01"]).expect_code(OK);
    newer.execute_batch("PRAGMA user_version = 99");
    let said = copy(&file, &file.db(), &newer.db(), ERROR);
    assert!(said.contains("newer pricequeue (schema version 99"), "{said}");

    let said = copy(&file, &file.db(), &file.db(), pricequeue::error::USAGE);
    assert!(said.contains("both name"), "{said}");
}

#[test]
fn copy_carries_candles_below_a_day_and_a_done_day_arrives_with_them() {
    let file = SqliteSandbox::sqlite();
    let Some(pg) = PgSandbox::new() else { return };
    // 2024-03-12 holds the stand-in's maintenance window: a done day with proven gaps.
    let range = ["--from", "2024-03-11", "--to", "2024-03-12"];
    file.run(&[&["fetch", "--source", "binance", "--symbol", "BTCUSDT", "--interval", "5m"][..], &range].concat())
        .expect_code(OK);
    let candles = file.count("SELECT count(*) FROM series_candles");
    assert!(candles > 500, "{candles} candles");

    let said = copy(&file, &file.db(), &pg.db(), OK);
    assert!(said.contains(&format!("candles below a day {candles} new")), "{said}");
    assert_eq!(pg.count("SELECT count(*) FROM series_candles"), candles);
    let query =
        [&["query", "-e", "binance", "-s", "BTCUSDT", "--interval", "5m", "--format", "csv"][..], &range].concat();
    assert_eq!(pg.run(&query).stdout, file.run(&query).stdout, "the same candles");
    let missing = [&query[..], &["--missing"]].concat();
    assert_eq!(pg.run(&missing).stdout, file.run(&missing).stdout, "the same gaps, proven the same");

    let said = copy(&file, &file.db(), &pg.db(), OK);
    assert!(said.contains("candles below a day 0 new"), "{said}");
    let back = SqliteSandbox::sqlite();
    copy(&file, &pg.db(), &back.db(), OK);
    assert_eq!(back.run(&query).stdout, file.run(&query).stdout);
}
