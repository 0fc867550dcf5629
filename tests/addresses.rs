//! A source at its own address (no --server given) that cannot be
//! reached: the error names the source's address, and never sends the user
//! to a flag they did not give.

use std::process::Command;

use pricequeue::error::ERROR;

use crate::common::{bin, run, Output};

/// `pricequeue --db DIR/prices.db ARGS` with no --server nor
/// PRICEQUEUE_SERVER, in a network namespace of its own with no network
/// (`unshare -rn`): no test reaches a real price API, and the names of
/// real ones cannot be looked up, as on a machine offline.
fn offline(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut cmd = Command::new("unshare");
    cmd.arg("-rn")
        .arg(bin())
        .arg("--db")
        .arg(dir.join("prices.db"))
        .args(args)
        .current_dir(dir)
        .env_remove("PRICEQUEUE_SERVER")
        .env_remove("PRICEQUEUE_DB")
        .env_remove("PRICEQUEUE_SOURCE")
        .env_remove("PRICEQUEUE_SOURCES")
        .env("XDG_CONFIG_HOME", dir);
    run(cmd)
}

#[test]
fn an_exchange_that_cannot_be_found_at_its_own_address_is_not_blamed_on_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = offline(dir.path(), &["fetch", "--source", "binance", "--symbol", "BTCUSDT", "--from", "2020-03-01"])
        .expect_code(ERROR);
    assert!(out.stderr.contains("cannot find binance's server"), "{}", out.stderr);
    assert!(out.stderr.contains("binance's own (https://api.binance.com)"), "{}", out.stderr);
    assert!(out.stderr.contains("--server points binance at another address"), "{}", out.stderr);
    assert!(!out.stderr.contains("Check the host name in --server"), "{}", out.stderr);
    assert!(!out.stderr.contains("--server https://api.binance.com"), "{}", out.stderr);
    assert!(!dir.path().join("prices.db").exists(), "nothing was queued");

    // A declared source at its declared address: the same.
    let file = dir.path().join("sources.toml");
    std::fs::write(
        &file,
        r#"[mine]
server = "http://prices.invalid"
candles = "{server}/candles?symbol={symbol}&from={first:unix}&to={last:unix}"
max_days = 100
paging = "forward"
order = "oldest_first"

[mine.rows]
json = "/rows"
time = 0
time_format = "s"
close_only = true
close = 1

[mine.symbols]
url = "{server}/symbols"
names = "/*"
"#,
    )
    .unwrap();
    let sources = file.to_string_lossy().to_string();
    let out =
        offline(dir.path(), &["--sources", &sources, "fetch", "--source", "mine", "-s", "x", "--from", "2020-03-01"])
            .expect_code(ERROR);
    assert!(out.stderr.contains("mine's own (http://prices.invalid)"), "{}", out.stderr);
    assert!(!out.stderr.contains("Check the host name in --server"), "{}", out.stderr);
    // Given with --server, the address is the user's, and checked there.
    let out = offline(
        dir.path(),
        &["--server", "http://prices.invalid", "fetch", "--source", "binance", "-s", "BTCUSDT", "--from", "2020-03-01"],
    )
    .expect_code(ERROR);
    assert!(out.stderr.contains("Check the host name in --server http://prices.invalid"), "{}", out.stderr);
}
