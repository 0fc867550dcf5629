//! The first hour with real sources, as a new user lives it: a symbol
//! written as an exchange writes it, given without `--source`; an exchange
//! named where a source was meant; `--symbol all` on an exchange, its whole
//! market.

use std::io::Write;
use std::process::{Command, Stdio};

use pricequeue::error::{OK, USAGE};

use super::Sandbox;
use crate::common::{bin, wait, Output};

/// `pricequeue` with `args` (split on spaces) in a pseudo-terminal
/// (util-linux's `script`), `answer` typed at its question.
fn in_a_terminal(sb: &Sandbox, args: &str, answer: &str) -> Output {
    let line = format!("{} --db '{}' --server {} {args}", bin().display(), sb.db(), sb.server.url());
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(sb.dir.path())
        .env("TERM", "dumb")
        .env("XDG_CONFIG_HOME", sb.dir.path())
        .env_remove("PRICEQUEUE_SOURCE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    child.stdin.take().expect("piped stdin").write_all(answer.as_bytes()).expect("type the answer");
    wait(child)
}

#[test]
fn a_symbol_written_as_an_exchange_writes_it_names_the_source_to_give() {
    let Some(sb) = Sandbox::new() else { return };
    // The default source is the reference API, whose symbols are `btc`.
    let out = sb.run(&["fetch", "--symbol", "BTCUSDT", "--from", "2020-03-01"]).expect_code(USAGE);
    assert!(out.stderr.contains("no exchange given"), "{}", out.stderr);
    assert!(out.stderr.contains("BTCUSDT is written as binance writes its symbols"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean --source binance?"), "{}", out.stderr);
    // What a user tries next: the exchange's name as --exchange.
    let out = sb.run(&["fetch", "-s", "BTCUSDT", "--exchange", "binance", "--from", "2020-03-01"]).expect_code(USAGE);
    assert!(out.stderr.contains("unknown exchange 'binance'"), "{}", out.stderr);
    assert!(out.stderr.contains("binance is also a source of its own"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean --source binance?"), "{}", out.stderr);
    let out = sb.run(&["enqueue", "-s", "btc", "-e", "okx", "--from", "2020-03-01"]).expect_code(USAGE);
    assert!(out.stderr.contains("did you mean --source okx?"), "{}", out.stderr);
    // Each exchange's way of writing a pair points at it; an ambiguous one at each.
    for (symbol, hint) in [
        ("BTC-USD", "did you mean --source coinbase?"),
        ("XBTUSD", "did you mean --source kraken?"),
        ("btcusd", "did you mean --source bitstamp?"),
        ("tBTCUSD", "did you mean --source bitfinex?"),
        ("BTC-USDT", "did you mean --source okx (or --source coinbase)?"),
    ] {
        let out = sb.run(&["fetch", "-e", "all", "-s", symbol, "--from", "2020-03-01"]).expect_code(USAGE);
        assert!(out.stderr.contains(&format!("unknown symbol '{symbol}'")), "{symbol}: {}", out.stderr);
        assert!(out.stderr.contains(hint), "{symbol}: {}", out.stderr);
    }
    // From another exchange too: BTCUSDT is not how Coinbase writes it.
    let out = sb.run(&["fetch", "--source", "coinbase", "-s", "BTCUSDT", "--from", "2020-03-01"]).expect_code(USAGE);
    assert!(out.stderr.contains("did you mean --source binance?"), "{}", out.stderr);
    // The reference API's own symbols point nowhere else.
    let out = sb.run(&["fetch", "-s", "btc", "--from", "2020-03-01"]).expect_code(USAGE);
    assert!(out.stderr.contains("no exchange given") && !out.stderr.contains("--source"), "{}", out.stderr);
    assert!(sb.nothing_stored(), "nothing was queued");

    // Following the hint fetches the price.
    sb.run(&["fetch", "--source", "binance", "--symbol", "BTCUSDT", "--from", "2020-03-01"]).expect_code(OK);
    let stored: i64 = sb.count("SELECT count(*) FROM prices WHERE exchange = 'binance' AND symbol = 'BTCUSDT'");
    assert_eq!(stored, 1);
}

#[test]
fn all_on_an_exchange_says_how_many_pairs_and_asks_first() {
    let Some(sb) = Sandbox::new() else { return };
    let range = ["--from", "2020-03-01", "--to", "2020-03-02"];
    for command in ["fetch", "enqueue"] {
        // No terminal to answer on, no --yes: nothing is queued, exit 2.
        let out =
            sb.run(&[&[command, "--source", "binance", "--symbol", "all"][..], &range].concat()).expect_code(USAGE);
        assert!(out.stderr.contains("--symbol all on binance is 12 pairs (ADAUSDT, BNBUSDT,"), "{}", out.stderr);
        assert!(out.stderr.contains("queue 24 tasks for 2020-03-01 to 2020-03-02?"), "{}", out.stderr);
        assert!(out.stderr.contains("add --yes to queue them all"), "{}", out.stderr);
        assert!(out.stderr.contains("nothing was queued"), "{}", out.stderr);
        assert!(sb.nothing_stored(), "{command} queued something");
        assert_eq!(sb.server.requests_to("/api/v3/klines"), 0, "no price was asked for");
    }
    // On a terminal it asks: no leaves the queue as it was, yes queues them.
    let asked = "enqueue --source binance --symbol all --from 2020-03-01 --to 2020-03-02";
    let out = in_a_terminal(&sb, asked, "n\n").expect_code(OK);
    assert!(out.stdout.contains("is 12 pairs") && out.stdout.contains("[y/N]"), "{out:?}");
    assert!(out.stdout.contains("nothing was queued"), "{out:?}");
    assert!(sb.nothing_stored());
    let out = in_a_terminal(&sb, asked, "y\n").expect_code(OK);
    assert!(out.stdout.contains("enqueued 24 new tasks from binance"), "{out:?}");
    assert_eq!(sb.count("SELECT count(*) FROM tasks"), 24);
    // --yes takes them without asking, as a script must.
    let out = sb.run(&[&["fetch", "--source", "binance", "-s", "all", "--yes"][..], &range].concat()).expect_code(OK);
    assert!(!out.stderr.contains("[y/N]"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data', 'outside_history')"), 24);
    // Pairs named one by one, and the reference API's `all` (its lists are
    // the price API's handful, the README's everyday command), never ask.
    sb.run(&[&["fetch", "--source", "kraken", "-s", "XBTUSD,ETHUSD"][..], &range].concat()).expect_code(OK);
    let out = sb.run(&[&["enqueue", "-e", "all", "-s", "all"][..], &range].concat()).expect_code(OK);
    assert!(out.stderr.contains("enqueued 72 new tasks"), "{}", out.stderr);
}

/// A declaration with a mistake on line 5 (`max_days = 0`), beside a good one.
const BROKEN: &str = r#"# Mine, not yet right.
[mine]
server = "https://prices.example"
candles = "{server}/c?s={symbol}&from={first:unix}&to={last:unix}"
max_days = 0
paging = "forward"
order = "oldest_first"

[mine.rows]
json = "/rows"
time = 0
time_format = "s"
close_only = true
close = 1
"#;

#[test]
fn a_broken_declarations_file_blocks_only_the_sources_it_declares() {
    let Some(sb) = Sandbox::new() else { return };
    let said = "sources.toml:5:1: source [mine], key `max_days`: at least 1";
    // Given with --sources, and in the default place ($XDG_CONFIG_HOME/pricequeue/).
    let default = sb.dir.path().join("pricequeue");
    std::fs::create_dir_all(&default).unwrap();
    for (file, flags) in [
        (sb.dir.path().join("sources.toml"), &["--sources", "sources.toml"][..]),
        (default.join("sources.toml"), &[][..]),
    ] {
        std::fs::write(&file, BROKEN).unwrap();
        // A built-in source goes on; the file's error is said once beside it.
        let out = sb
            .run(&[flags, &["fetch", "--source", "binance", "-s", "BTCUSDT", "--from", "2020-03-01"]].concat())
            .expect_code(OK);
        assert_eq!(out.stderr.matches("key `max_days`").count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(said) && out.stderr.contains("binance, built in, can"), "{}", out.stderr);
        // So does the reference API, the default source.
        sb.run(&[flags, &["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]].concat()).expect_code(OK);
        // The source it declares is stopped, with the file's error, once.
        let out = sb.run(&[flags, &["fetch", "--source", "mine", "-s", "x", "--from", "2020-03-01"]].concat());
        let out = out.expect_code(pricequeue::error::ERROR);
        assert_eq!(out.stderr.matches("key `max_days`").count(), 1, "{}", out.stderr);
        assert!(
            out.stderr.contains(said) && out.stderr.contains("the source mine is declared there"),
            "{}",
            out.stderr
        );
        std::fs::remove_file(&file).unwrap();
    }
    let queued: Vec<(String, String, i64)> =
        sb.rows("SELECT source, exchange, count(*) FROM tasks GROUP BY source, exchange ORDER BY source", &[]);
    assert_eq!(queued, [("binance".into(), "binance".into(), 1), ("cryptodb".into(), "kraken".into(), 1)]);
    assert_eq!(sb.count("SELECT count(*) FROM prices WHERE exchange = 'binance'"), 1);

    // TOML that does not parse: the line and column, and binance still goes on.
    std::fs::write(sb.dir.path().join("sources.toml"), BROKEN.replace("[mine.rows]", "[mine.rows")).unwrap();
    let out = sb
        .run(&["--sources", "sources.toml", "fetch", "--source", "binance", "-s", "ETHUSDT", "--from", "2020-03-01"])
        .expect_code(OK);
    assert!(out.stderr.contains("sources.toml:9:11: not valid TOML"), "{}", out.stderr);
}
