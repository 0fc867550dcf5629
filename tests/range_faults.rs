//! Range answers that prove less than they seem, from each built-in
//! source's stand-in and a declared one, the fault on every candle request
//! (a server that keeps answering so): the latest candles whatever was
//! asked (`ignore-range`), a page cut at its start or its end (`cut-start`,
//! `cut-end`, `short-page`), times in the wrong unit (`wrong-unit`, and a
//! declaration's `time_format` off by 1000), times 8 hours early
//! (`off-utc-early`). For each: the tasks' states, the missing report's
//! reasons, the exit code and the requests. The pairs have a price every
//! day, so any `no data` would be a false fact: there is never one.

use chrono::{Duration as Days, Utc};
use pricequeue::error::{FAILED, OK};
use pricequeue::server::{stand_ins, Fault, FaultRule, ServerOptions};

use super::Sandbox;
use crate::common::day;

/// A source to fetch 20 days of a pair from, and its candle path.
struct Case {
    source: &'static str,
    symbol: &'static str,
    candles: &'static str,
    /// Its pages start at the first day asked (they may be cut at the end).
    forward: bool,
}

const CASES: [Case; 7] = [
    Case { source: "binance", symbol: "ETHUSDT", candles: "/api/v3/klines", forward: true },
    Case { source: "coinbase", symbol: "ETH-USD", candles: "/products/", forward: true },
    Case { source: "kraken", symbol: "ETHUSD", candles: "/0/public/OHLC", forward: true },
    Case { source: "bitstamp", symbol: "ethusd", candles: "/api/v2/ohlc/", forward: false },
    Case { source: "bitfinex", symbol: "tETHUSD", candles: "/v2/candles/", forward: true },
    Case { source: "okx", symbol: "ETH-USDT", candles: "/api/v5/market/history-candles", forward: false },
    // Declared (the README's declaration): pages backward, names only its last day.
    Case { source: "cryptocompare", symbol: "ETH", candles: "/data/v2/histoday", forward: false },
];

/// What a fetch left: each day's state, price and failure kind, the
/// missing report's reasons, the exit code, stderr and the candle requests.
struct Got {
    days: Vec<(String, String, Option<f64>, Option<String>)>,
    reasons: Vec<(String, String, String)>,
    code: i32,
    stderr: String,
    requests: u64,
}

impl Got {
    fn count(&self, state: &str) -> usize {
        self.days.iter().filter(|d| d.1 == state).count()
    }

    /// The missing report's days with this reason, and their errors.
    fn reasons(&self, reason: &str) -> Vec<&str> {
        self.reasons.iter().filter(|r| r.1 == reason).map(|r| r.2.as_str()).collect()
    }
}

/// The README's declarations, for the declared source.
fn readme_declarations() -> String {
    let text = include_str!("../README.md");
    let section = text.split("## Sources").nth(1).expect("a Sources section");
    section.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block").to_string()
}

/// Fetches 20 days of `case` (Kraken: from `kraken_ago` days back; the
/// others 2021-01) with `fault` on every candle request, two attempts.
fn fetch(fault: Fault, case: &Case, kraken_ago: i64) -> Option<Got> {
    let sb =
        Sandbox::with_server(ServerOptions { faults: vec![FaultRule::rate(fault, 1.0)], ..ServerOptions::default() })?;
    let today = Utc::now().date_naive();
    let (from, to) = if case.source == "kraken" {
        ((today - Days::days(kraken_ago)).to_string(), (today - Days::days(kraken_ago - 19)).to_string())
    } else {
        ("2021-01-01".to_string(), "2021-01-20".to_string())
    };
    std::fs::write(sb.dir.path().join("sources.toml"), readme_declarations()).unwrap();
    let args = [
        "--sources",
        "sources.toml",
        "fetch",
        "--source",
        case.source,
        "--symbol",
        case.symbol,
        "--from",
        &from,
        "--to",
        &to,
        "--rate",
        "50/s",
        "--retry-delay",
        "50ms",
        "--max-attempts",
        "2",
    ];
    let mut cmd = sb.command(&args);
    for key in ["CRYPTOCOMPARE_KEY", "ALPHAVANTAGE_KEY", "COINGECKO_KEY"] {
        cmd.env(key, "key-0d5e7a");
    }
    let out = crate::common::run(cmd);
    let days = sb.rows(
        "SELECT t.day, t.state, p.close, t.failure FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)
         ORDER BY t.day",
        &[],
    );
    let report = sb.run(&[
        "query",
        "--exchange",
        case.source,
        "--symbol",
        case.symbol,
        "--from",
        &from,
        "--to",
        &to,
        "--missing",
        "--each-day",
        "--format",
        "json",
    ]);
    let json: serde_json::Value =
        serde_json::from_str(&report.stdout).unwrap_or_else(|e| panic!("{e}: {}", report.stdout));
    let reasons = json
        .as_array()
        .expect("an array of missing cells")
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or("").to_string();
            (text("day"), text("reason"), text("error"))
        })
        .collect();
    let requests = sb.server.requests_to(case.candles);
    Some(Got { days, reasons, code: out.code, stderr: out.stderr, requests })
}

/// Every day with a price is the stand-in's, and none is `no data`.
fn nothing_false(case: &Case, got: &Got) {
    assert_eq!(got.days.len(), 20, "{}: {}", case.source, got.stderr);
    for (d, state, close, _) in &got.days {
        let want = stand_ins::expected(case.source, case.symbol, day(d)).map(|p| p.close);
        assert!(want.is_some(), "{} {d}: the stand-in has a price every day", case.source);
        assert_ne!(state, "no_data", "{} {d}: no answer showed it empty: {}", case.source, got.stderr);
        if state == "done" {
            assert_eq!(*close, want, "{} {d}", case.source);
        } else {
            assert_eq!(*close, None, "{} {d}: {state} with a price", case.source);
        }
    }
    assert!(got.reasons("no data").is_empty(), "{}: {:?}", case.source, got.reasons);
}

/// Days that a second asking did not show either: cooling down (a later
/// run asks again), with what the answers lacked.
fn cooling(case: &Case, got: &Got, lacked: &str) -> usize {
    let errors = got.reasons("cooling down");
    for e in &errors {
        assert!(e.contains("was asked twice") && e.contains(lacked), "{}: {e}", case.source);
    }
    let transient = got.days.iter().filter(|d| d.1 == "cooling" && d.3.as_deref() == Some("transient")).count();
    assert_eq!(transient, errors.len(), "{}", case.source);
    errors.len()
}

#[test]
fn an_answer_that_ignores_the_range_is_refused_and_proves_nothing() {
    for case in &CASES {
        // Kraken keeps only its latest candles: days older than the 300 it
        // sends are outside its history, asked twice to be sure.
        let Some(got) = fetch(Fault::IgnoreRange, case, 500) else { return };
        nothing_false(case, &got);
        if case.source == "kraken" {
            assert_eq!((got.code, got.count("outside_history"), got.requests), (OK, 20, 2), "{}", got.stderr);
            assert_eq!(got.reasons("outside the source's history").len(), 20);
            continue;
        }
        assert_eq!(got.code, FAILED, "{}: {}", case.source, got.stderr);
        assert_eq!((got.count("failed"), got.requests), (20, 1), "{}: refused at once, for good", case.source);
        for e in got.reasons("failed") {
            assert!(e.contains("fall outside the days asked (2021-01-01 to 2021-01-20)"), "{}: {e}", case.source);
            assert!(e.contains("the server ignored the days asked"), "{}: {e}", case.source);
        }
    }
}

#[test]
fn a_page_cut_at_its_start_is_followed_where_the_source_cuts_and_asked_once_more_where_not() {
    for case in &CASES {
        let Some(got) = fetch(Fault::CutStart, case, 40) else { return };
        nothing_false(case, &got);
        assert_eq!(got.code, OK, "{}: {}", case.source, got.stderr);
        if case.source == "kraken" {
            // Its latest candles start after the days asked, twice: outside its history.
            assert_eq!((got.count("outside_history"), got.requests), (20, 2), "{}", got.stderr);
            assert_eq!(got.reasons("outside the source's history").len(), 20);
        } else if case.forward {
            // Each of two attempts: one request, and once more for the days before its rows.
            assert_eq!(got.requests, 4, "{}", case.source);
            let left = cooling(case, &got, "its rows start at");
            assert!((1..=2).contains(&left), "{}: {left} cooling down", case.source);
            assert_eq!(got.count("done") + left, 20, "{}", case.source);
        } else {
            // The oldest end is where a backward source's pages stop:
            // followed, as a cap, halving (20, 10, 5, 2, 1 days; CryptoCompare
            // answers a day more, 21, 10, 5, 2).
            assert_eq!(got.count("done"), 20, "{}", case.source);
            assert!((4..=5).contains(&got.requests), "{}: {} requests", case.source, got.requests);
        }
    }
}

#[test]
fn a_page_cut_at_its_end_is_followed_where_the_source_cuts_and_asked_once_more_where_not() {
    for case in &CASES {
        let Some(got) = fetch(Fault::CutEnd, case, 40) else { return };
        nothing_false(case, &got);
        assert_eq!(got.code, OK, "{}: {}", case.source, got.stderr);
        if case.forward {
            // A forward page stops at a cap: followed from its last row
            // (Kraken's answers run to today: its oldest half holds them all).
            assert_eq!(got.count("done"), 20, "{}", case.source);
            let most = if case.source == "kraken" { 1 } else { 5 };
            assert!(got.requests <= most, "{}: {} requests", case.source, got.requests);
        } else {
            // Each of two attempts: one request, and once more for the days after its rows.
            assert_eq!(got.requests, 4, "{}", case.source);
            let left = cooling(case, &got, "its rows stop at");
            assert!((1..=2).contains(&left), "{}: {left} cooling down", case.source);
            assert_eq!(got.count("done") + left, 20, "{}", case.source);
        }
    }
}

#[test]
fn a_short_page_is_followed_on_every_source() {
    for case in &CASES {
        let Some(got) = fetch(Fault::ShortPage, case, 40) else { return };
        nothing_false(case, &got);
        assert_eq!((got.code, got.count("done")), (OK, 20), "{}: {}", case.source, got.stderr);
        assert!(got.requests <= 5, "{}: {} requests", case.source, got.requests);
    }
}

#[test]
fn times_in_the_wrong_unit_are_refused_naming_the_unit() {
    for case in &CASES {
        let Some(got) = fetch(Fault::WrongUnit, case, 40) else { return };
        nothing_false(case, &got);
        assert_eq!(got.code, FAILED, "{}: {}", case.source, got.stderr);
        assert_eq!((got.count("failed"), got.requests), (20, 1), "{}", case.source);
        for e in got.reasons("failed") {
            assert!(e.contains("the time unit looks wrong") && e.contains("check time_format"), "{}: {e}", case.source);
        }
    }
}

#[test]
fn times_eight_hours_early_are_refused_and_the_last_day_is_not_no_data() {
    for case in &CASES {
        let Some(got) = fetch(Fault::OffUtcEarly, case, 40) else { return };
        nothing_false(case, &got);
        assert_eq!(got.code, FAILED, "{}: {}", case.source, got.stderr);
        assert_eq!(got.count("done"), 0, "{}", case.source);
        let refused = got.reasons("failed");
        assert!(refused.iter().all(|e| e.contains("is not the start of a UTC day")), "{}: {refused:?}", case.source);
        // Each day's row falls in the day before: the last day asked has
        // none (and its second asking, none on a day's start), unless the
        // answer ran past it (Kraken's run to today).
        let left = cooling(case, &got, "none of its rows in the days asked is at the start of a day");
        assert_eq!(refused.len() + left, 20, "{}", case.source);
        let (want, requests) = if case.source == "kraken" { (0, 1) } else { (1, 4) };
        assert_eq!((left, got.requests), (want, requests), "{}", case.source);
    }
}

#[test]
fn a_declaration_whose_time_format_is_off_by_1000_stores_nothing_and_says_so() {
    // Binance's klines, declared with seconds where it writes milliseconds.
    let Some(sb) = Sandbox::new() else { return };
    let decl = include_str!("../src/source/builtin/binance.toml")
        .replace("[binance", "[klines")
        .replace("time_format = \"ms\"", "time_format = \"s\"");
    std::fs::write(sb.dir.path().join("mine.toml"), decl).unwrap();
    let out = sb.run(&[
        "--sources",
        "mine.toml",
        "fetch",
        "--source",
        "klines",
        "--symbol",
        "BTCUSDT",
        "--from",
        "2019-01-01",
        "--to",
        "2021-12-31",
    ]);
    assert_eq!(out.code, FAILED, "{}", out.stderr);
    let states: Vec<(String, i64)> = sb.rows("SELECT state, count(*) FROM tasks GROUP BY state", &[]);
    assert_eq!(states, [("failed".to_string(), 1096)], "{}", out.stderr);
    assert_eq!(sb.server.requests_to("/api/v3/klines"), 2, "one request a run of 1000 days");
    let error: String = sb.one("SELECT DISTINCT last_error FROM tasks", &[]);
    assert!(error.contains("the time unit looks wrong (milliseconds read as seconds)"), "{error}");
    assert!(error.contains("check time_format (\"s\")"), "{error}");
}

#[test]
fn kraken_asked_from_before_its_window_makes_one_request() {
    let Some(sb) = Sandbox::new() else { return };
    let today = Utc::now().date_naive();
    let (from, to) = ((today - Days::days(800)).to_string(), (today - Days::days(3)).to_string());
    sb.run(&["fetch", "--source", "kraken", "--symbol", "XBTUSD", "--from", &from, "--to", &to]).expect_code(OK);
    assert_eq!(sb.server.requests_to("/0/public/OHLC"), 1, "{:?}", sb.server.counts());
    let counts: Vec<(String, i64)> = sb.rows("SELECT state, count(*) FROM tasks GROUP BY state ORDER BY state", &[]);
    assert_eq!(counts, [("done".to_string(), 717), ("outside_history".to_string(), 81)]);
}
