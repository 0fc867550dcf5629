//! Busy servers, rate limits in a body, and candles not closed long after
//! their day, on each built-in source they apply to and on a declared one:
//! a busy answer is worth another attempt, a limit pauses the source and
//! costs no attempt, an unfinished candle never waits without end.

use chrono::{Duration as Days, Utc};
use pricequeue::error::{ERROR, MISSING, OK};
use pricequeue::server::{stand_ins, Fault, FaultRule, ServerOptions};

use super::Sandbox;
use crate::common::{counts_agree, day, Output};

/// An OKX-like API declared by its user, with its own error codes: the
/// built-in OKX stand-in answers it.
const DECLARED: &str = r#"
[okxlike]
server = "https://www.okx.com"
candles = "{server}/api/v5/market/history-candles?instId={symbol}&bar=1Dutc&after={last_end:ms}&before={first-1:ms}&limit={days}"
max_days = 100
paging = "backward"
order = "newest_first"

[okxlike.rows]
json = "/data"
time = 0
time_format = "ms"
open = 1
high = 2
low = 3
close = 4
volume = 5
closed = 8
closed_when = "1"

[[okxlike.error]]
at = "/code"
ok = ["0"]
message = "/msg"
rate_limit = ["50011"]
transient = ["50013"]

[okxlike.symbols]
url = "{server}/api/v5/public/instruments?instType=SPOT"
names = "/data/*/instId"
"#;

/// A source, a symbol, 20 days it serves, its candle path, and the source
/// whose stand-in answers it.
struct Case {
    source: &'static str,
    symbol: &'static str,
    from: String,
    to: String,
    path: &'static str,
    data: &'static str,
}

fn case(source: &'static str, symbol: &'static str, path: &'static str) -> Case {
    // Kraken serves its latest 720 days only.
    let (from, to) = if source == "kraken" {
        let today = Utc::now().date_naive();
        ((today - Days::days(40)).to_string(), (today - Days::days(21)).to_string())
    } else {
        ("2021-01-01".to_string(), "2021-01-20".to_string())
    };
    let data = if source == "okxlike" { "okx" } else { source };
    Case { source, symbol, from, to, path, data }
}

/// Every built-in source, and the declared one.
fn every_source() -> Vec<Case> {
    vec![
        case("binance", "ETHUSDT", "/api/v3/klines"),
        case("coinbase", "ETH-USD", "/products/ETH-USD/candles"),
        case("kraken", "ETHUSD", "/0/public/OHLC"),
        case("bitstamp", "ethusd", "/api/v2/ohlc/"),
        case("bitfinex", "tETHUSD", "/v2/candles/"),
        case("okx", "ETH-USDT", "/api/v5/market/history-candles"),
        case("okxlike", "ETH-USDT", "/api/v5/market/history-candles"),
    ]
}

fn with(faults: Vec<FaultRule>) -> Option<Sandbox> {
    let sb = Sandbox::with_server(ServerOptions { faults, record: true, ..ServerOptions::default() })?;
    std::fs::write(sb.dir.path().join("sources.toml"), DECLARED).expect("write the declaration");
    Some(sb)
}

/// `fetch` of the case's days, with the declaration file and `extra` flags.
fn fetch(sb: &Sandbox, c: &Case, extra: &[&str]) -> Output {
    let mut args = vec![
        "--sources",
        "sources.toml",
        "fetch",
        "--source",
        c.source,
        "--symbol",
        c.symbol,
        "--from",
        &c.from,
        "--to",
        &c.to,
        "--rate",
        "50/s",
        "--retry-delay",
        "100ms",
    ];
    args.extend_from_slice(extra);
    sb.run(&args)
}

/// Every task done with the stand-in's price, or no data where it has none.
fn all_stored(sb: &Sandbox, c: &Case) {
    let rows: Vec<(String, String, Option<f64>)> = sb.rows(
        "SELECT t.day, t.state, p.close FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)
         WHERE t.source = ?1",
        &[&c.source],
    );
    assert_eq!(rows.len(), 20, "{}", c.source);
    for (d, state, close) in rows {
        match stand_ins::expected(c.data, c.symbol, day(&d)) {
            Some(p) => assert_eq!((state.as_str(), close), ("done", Some(p.close)), "{} {d}", c.source),
            None => assert_eq!((state.as_str(), close), ("no_data", None), "{} {d}", c.source),
        }
    }
}

/// Each task's (state, failure, attempts), counted.
fn states(sb: &Sandbox) -> Vec<(String, Option<String>, i64, i64)> {
    sb.rows("SELECT state, failure, attempts, count(*) FROM tasks GROUP BY 1, 2, 3 ORDER BY 1, 2, 3", &[])
}

/// The missing report's reasons and errors, from its JSON.
fn missing(sb: &Sandbox, c: &Case) -> Vec<(String, String)> {
    let out = sb.run(&[
        "--sources",
        "sources.toml",
        "query",
        "-e",
        c.source,
        "-s",
        c.symbol,
        "--from",
        &c.from,
        "--to",
        &c.to,
        "--missing",
        "--each-day",
        "--format",
        "json",
    ]);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let cells = report["missing"].as_array().or_else(|| report.as_array()).cloned().unwrap_or_default();
    cells
        .iter()
        .map(|m| (m["reason"].as_str().unwrap_or("").to_string(), m["error"].as_str().unwrap_or("").to_string()))
        .collect()
}

/// "asked to slow down" lines said, and the count the summary gives.
fn slow_downs(stderr: &str) -> (usize, Option<u64>) {
    let said = stderr.lines().filter(|l| l.contains(" asked to slow down: every worker on it waits")).count();
    let counted = stderr.split("the server asked to slow down ").nth(1).map(|rest| {
        let word = rest.split([' ', ',']).next().unwrap_or("");
        if word == "once" {
            1
        } else {
            word.parse().unwrap_or(u64::MAX)
        }
    });
    (said, counted)
}

#[test]
fn a_busy_answer_is_asked_again_on_every_source() {
    for c in every_source() {
        let Some(sb) = with(vec![FaultRule::first(Fault::Busy, 1)]) else { return };
        let out = fetch(&sb, &c, &[]);
        assert_eq!(out.code, OK, "{}: {}", c.source, out.stderr);
        all_stored(&sb, &c);
        // One attempt refused as busy, one answered: both counted.
        assert_eq!(states(&sb).iter().map(|s| s.2).max(), Some(2), "{}: {:?}", c.source, states(&sb));
        assert_eq!(sb.server.requests_to(c.path), 2, "{}: {:?}", c.source, sb.server.counts());
        counts_agree(&sb);
    }
}

#[test]
fn a_source_that_stays_busy_cools_down_and_needs_no_person_yet() {
    // OKX's 50013 and Kraken's EGeneral:Internal error, both with status
    // 200, on every request: the tasks cool down, exit 0.
    for c in every_source().into_iter().filter(|c| ["kraken", "okx", "okxlike"].contains(&c.source)) {
        let Some(sb) = with(vec![FaultRule::rate(Fault::Busy, 1.0)]) else { return };
        let out = fetch(&sb, &c, &["--max-attempts", "2", "-f", "json"]);
        assert_eq!(out.code, OK, "{}: {}", c.source, out.stderr);
        let summary = out.summary();
        let counts = ["failed", "cooling", "cooled", "requests"].map(|n| summary[n].as_u64());
        assert_eq!(counts, [0, 20, 20, 2].map(Some), "{}: {summary}", c.source);
        assert_eq!(states(&sb), vec![("cooling".into(), Some("transient".into()), 2, 20)], "{}", c.source);
        assert_eq!(sb.server.requests_to(c.path), 2, "{}: one request a round of 20 days, twice", c.source);
        let reasons = missing(&sb, &c);
        assert_eq!(reasons.len(), 20, "{}: {reasons:?}", c.source);
        let busy = if c.source == "kraken" { "EGeneral:Internal error" } else { "50013" };
        assert!(reasons.iter().all(|(r, e)| r == "cooling down" && e.contains(busy)), "{}: {reasons:?}", c.source);
        counts_agree(&sb);
    }
}

#[test]
fn a_limit_said_in_a_body_or_a_429_without_a_time_pauses_and_costs_no_attempt() {
    // Kraken's EAPI:Rate limit exceeded with 200; OKX's 50011 with 429 and
    // no Retry-After (on the declared source too); Coinbase's, Bitstamp's
    // and Bitfinex's 429s with their bodies; Binance's with Retry-After.
    for c in every_source() {
        let Some(sb) = with(vec![FaultRule::first(Fault::BodyLimit, 1)]) else { return };
        let out = fetch(&sb, &c, &["--max-attempts", "1", "-f", "json"]);
        assert_eq!(out.code, OK, "{}: {}", c.source, out.stderr);
        all_stored(&sb, &c);
        assert_eq!(states(&sb).iter().map(|s| s.2).max(), Some(1), "{}: the limit cost no attempt", c.source);
        assert_eq!(slow_downs(&out.stderr), (1, Some(1)), "{}: {}", c.source, out.stderr);
        assert!(out.stderr.contains("the server asked to slow down once,"), "{}: {}", c.source, out.stderr);
        let summary = out.summary();
        let counts = ["slowdowns", "failed", "retried", "requests"].map(|n| summary[n].as_u64());
        assert_eq!(counts, [1, 0, 0, 2].map(Some), "{}: {summary}", c.source);
        assert_eq!(sb.server.requests_to(c.path), 2, "{}", c.source);
    }
}

#[test]
fn a_source_that_only_ever_limits_ends_the_run_at_the_deadline_or_max_pause_with_its_tasks_queued() {
    let c = case("kraken", "XBTUSD", "/0/public/OHLC");
    let Some(sb) = with(vec![FaultRule::rate(Fault::BodyLimit, 1.0)]) else { return };
    let out = fetch(&sb, &c, &["--deadline", "3s"]).expect_code(MISSING);
    assert!(out.stderr.contains("stopped at the --deadline"), "{}", out.stderr);
    let (said, counted) = slow_downs(&out.stderr);
    assert!(said >= 2, "pauses of 1 s, then 2 s: {}", out.stderr);
    assert_eq!(Some(said as u64), counted, "the summary counts the lines it said: {}", out.stderr);
    assert_eq!(states(&sb), vec![("queued".into(), None, 0, 20)], "queued, no attempt spent");
    assert!(missing(&sb, &c).iter().all(|(r, e)| r == "queued" && e.contains("Rate limit")), "{:?}", missing(&sb, &c));
    let asked = sb.server.requests_to(c.path);
    assert_eq!(asked as usize, said, "one request a pause: the pause grows, no worker asks during it");

    // Without a deadline, --max-pause bounds the pauses a run takes.
    let out = fetch(&sb, &c, &["--max-pause", "3s"]).expect_code(ERROR);
    assert!(out.stderr.contains("kept asking to slow down"), "{}", out.stderr);
    assert!(out.stderr.contains("the tasks stay queued"), "{}", out.stderr);
    assert_eq!(states(&sb), vec![("queued".into(), None, 0, 20)]);
    counts_agree(&sb);
}

#[test]
fn a_candle_not_closed_long_after_its_day_fails_as_transient_and_names_settle() {
    // OKX's confirm "0" on days of 2021, on the built-in and the declared source.
    for c in every_source().into_iter().filter(|c| ["okx", "okxlike"].contains(&c.source)) {
        let Some(sb) = with(vec![FaultRule::first(Fault::Unclosed, 1)]) else { return };
        let out = fetch(&sb, &c, &[]);
        assert_eq!(out.code, OK, "{}: {}", c.source, out.stderr);
        assert_eq!(states(&sb), vec![("cooling".into(), Some("transient".into()), 1, 20)], "{}", c.source);
        assert_eq!(sb.count("SELECT count(*) FROM prices"), 0, "{}: nothing unfinished is stored", c.source);
        assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'not_yet_due'"), 0, "{}", c.source);
        let reasons = missing(&sb, &c);
        assert_eq!(reasons.len(), 20, "{}: {reasons:?}", c.source);
        let named =
            |(r, e): &(String, String)| r == "cooling down" && e.contains("not closed") && e.contains("--settle");
        assert!(reasons.iter().all(named), "{reasons:?}");
        assert_eq!(sb.server.requests_to(c.path), 1, "{}", c.source);
        assert!(!out.stderr.contains("null"), "{}: {}", c.source, out.stderr);
        counts_agree(&sb);
    }
}

#[test]
fn kraken_s_last_row_is_its_open_candle_whatever_its_day() {
    // A Kraken that lags ten days: its last row, the current candle by its
    // documentation, is a day that ended long ago.
    let Some(sb) = with(vec![FaultRule::first(Fault::Unclosed, 1)]) else { return };
    let today = Utc::now().date_naive();
    let last = today - Days::days(stand_ins::KRAKEN_LAG_DAYS);
    let c = Case { to: last.to_string(), ..case("kraken", "XBTUSD", "/0/public/OHLC") };
    fetch(&sb, &c, &[]).expect_code(OK);
    let (state, failure, error): (String, Option<String>, String) =
        sb.one("SELECT state, failure, last_error FROM tasks WHERE day = ?1", &[&last]);
    assert_eq!((state.as_str(), failure.as_deref()), ("cooling", Some("transient")));
    assert!(error.contains("not closed") && error.contains("--settle"), "{error}");
    let stored: i64 = sb.one("SELECT count(*) FROM prices WHERE day = ?1", &[&last]);
    assert_eq!(stored, 0, "an open candle is no price");
    let done: i64 = sb.one("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')", &[]);
    let asked: i64 = sb.one("SELECT count(*) FROM tasks", &[]);
    assert_eq!(done, asked - 1, "the days before it are its answer's");
    assert_eq!(sb.server.requests_to("/0/public/OHLC"), 1);
}

#[test]
fn a_candle_not_closed_within_settle_waits_and_the_summary_says_so_without_null() {
    let Some(sb) = with(vec![FaultRule::first(Fault::Unclosed, 1)]) else { return };
    let today = Utc::now().date_naive();
    let c = Case {
        from: (today - Days::days(8)).to_string(),
        to: (today - Days::days(6)).to_string(),
        ..case("okx", "ETH-USDT", "/api/v5/market/history-candles")
    };
    let out = fetch(&sb, &c, &["--settle", "30d"]).expect_code(OK);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'not_yet_due'"), 3, "{}", out.stderr);
    assert!(out.stderr.contains("the server has not published 3 prices yet"), "{}", out.stderr);
    assert!(out.stderr.contains("a candle not closed yet"), "{}", out.stderr);
    assert!(!out.stderr.contains("null"), "{}", out.stderr);
}
