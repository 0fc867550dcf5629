//! Two hosts on one PostgreSQL queue with a declared source: the
//! declaration is in the database, so neither needs the file; the API key
//! is in one host's environment only, and the other leaves those tasks
//! queued for it.

use pricequeue::error::OK;
use pricequeue::server::stand_ins;

use super::Sandbox;
use crate::common::{day, Running};

const DECLARATION: &str = r#"
[stocks]
server = "https://www.alphavantage.co"
candles = "{server}/query?function=TIME_SERIES_DAILY&symbol={symbol}&outputsize=full&apikey={env:STOCKS_KEY}"
max_days = 5000
paging = "backward"
order = "newest_first"

[stocks.rows]
keyed = "/Time Series (Daily)"
time_format = "date"
open = "1. open"
high = "2. high"
low = "3. low"
close = "4. close"
volume = "5. volume"

[[stocks.error]]
at = "/Error Message"
unknown_symbol = ["Invalid API call"]
"#;

#[test]
fn the_host_without_the_key_leaves_the_tasks_queued_for_the_one_with_it() {
    let Some(sb) = Sandbox::new() else { return };
    std::fs::write(sb.dir.path().join("sources.toml"), DECLARATION).unwrap();
    // The host with the key queues the tasks, from its file.
    let mut cmd = sb.command(&[
        "--sources",
        "sources.toml",
        "enqueue",
        "--source",
        "stocks",
        "-s",
        "IBM",
        "--allow-unknown",
        "--from",
        "2021-03-01",
        "--to",
        "2021-03-31",
    ]);
    cmd.env("STOCKS_KEY", "k-19f2");
    crate::common::run(cmd).expect_code(OK);
    std::fs::remove_file(sb.dir.path().join("sources.toml")).unwrap();

    // Host A, without the key (and without the file): says which variable,
    // leaves the tasks queued, and a cryptodb task of the same queue is
    // still fetched.
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-02"]).expect_code(OK);
    let mut a = sb.command(&["work"]);
    a.env_remove("STOCKS_KEY").env("PRICEQUEUE_HOSTNAME", "host-a");
    let out = Running::spawn(a).wait().expect_code(OK);
    assert!(out.stderr.contains("STOCKS_KEY") && out.stderr.contains("31 tasks are left queued"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE source = 'stocks' AND state = 'queued'"), 31);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE source = 'cryptodb' AND state = 'queued'"), 0);

    // Host B has the key: the declaration comes from the database.
    let mut b = sb.command(&["work"]);
    b.env("STOCKS_KEY", "k-19f2").env("PRICEQUEUE_HOSTNAME", "host-b");
    Running::spawn(b).wait().expect_code(OK);
    let rows: Vec<(String, String, Option<f64>)> = sb.rows(
        "SELECT t.day, t.state, p.close FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)
         WHERE t.source = 'stocks'",
        &[],
    );
    assert_eq!(rows.len(), 31);
    for (d, state, close) in rows {
        let want = stand_ins::expected("alphavantage", "IBM", day(&d))
            .filter(|_| chrono::Datelike::weekday(&day(&d)).number_from_monday() <= 5)
            .map(|p| p.close);
        let expect_state = if want.is_some() { "done" } else { "no_data" };
        assert_eq!((state.as_str(), close), (expect_state, want), "{d}");
    }
    assert!(!sb.dump().contains("k-19f2"), "the key is not in the database");
}
