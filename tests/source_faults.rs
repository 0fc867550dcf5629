//! What a built-in source's stand-in can do wrong, and what pricequeue
//! makes of it: limits (429, Binance's 418 ban, limits said in a 200
//! body), an unknown symbol, a page cut short, a time off the UTC day, a
//! day twice, and today's unclosed candle. Nothing wrong is ever stored.

use chrono::{Duration as Days, Utc};
use pricequeue::error::{FAILED, OK, USAGE};
use pricequeue::server::{stand_ins, Fault, FaultRule, RetryAfter, ServerOptions};

use super::Sandbox;
use crate::common::day;

fn with(fault: Fault, n: u32) -> Option<Sandbox> {
    Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(fault, n)],
        retry_after: RetryAfter::Seconds(1),
        ..ServerOptions::default()
    })
}

/// `fetch --source S --symbol X` over `from..=to`.
fn fetch(sb: &Sandbox, source: &str, symbol: &str, from: &str, to: &str) -> crate::common::Output {
    sb.run(&[
        "fetch",
        "--source",
        source,
        "--symbol",
        symbol,
        "--from",
        from,
        "--to",
        to,
        "--retry-delay",
        "100ms",
        "-f",
        "json",
    ])
}

/// Every task done, each price the stand-in's.
fn all_stored(sb: &Sandbox, source: &str, symbol: &str) {
    let rows: Vec<(String, String, Option<f64>)> = sb.rows(
        "SELECT t.day, t.state, p.close FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)
         WHERE t.exchange = ?1 AND t.symbol = ?2",
        &[&source, &symbol],
    );
    assert!(!rows.is_empty());
    for (d, state, close) in rows {
        match stand_ins::expected(source, symbol, day(&d)) {
            Some(p) => assert_eq!((state.as_str(), close), ("done", Some(p.close)), "{source} {symbol} {d}"),
            None => assert_eq!((state.as_str(), close), ("no_data", None), "{source} {symbol} {d}"),
        }
    }
}

#[test]
fn a_binance_ban_stops_every_worker_until_its_retry_after_and_says_so() {
    let Some(sb) = with(Fault::Ban, 1) else { return };
    let out = fetch(&sb, "binance", "BTCUSDT,ETHUSDT", "2021-01-01", "2021-03-31").expect_code(OK);
    assert!(out.stderr.contains("banned this address (HTTP 418)"), "{}", out.stderr);
    let summary = out.summary();
    assert_eq!(summary["failed"], 0, "{summary}");
    assert!(summary["slowdowns"].as_u64() >= Some(1), "the ban is a pause: {summary}");
    all_stored(&sb, "binance", "BTCUSDT");
    all_stored(&sb, "binance", "ETHUSDT");
}

#[test]
fn a_429_pauses_the_source_and_costs_no_attempt() {
    let Some(sb) = with(Fault::RateLimited, 1) else { return };
    let out = fetch(&sb, "coinbase", "BTC-USD", "2021-01-01", "2021-03-31").expect_code(OK);
    assert!(out.stderr.contains("asked to slow down"), "{}", out.stderr);
    all_stored(&sb, "coinbase", "BTC-USD");
    let attempts: i64 = sb.one("SELECT max(attempts) FROM tasks", &[]);
    assert_eq!(attempts, 1, "the refused request did not count");
}

#[test]
fn a_limit_said_in_a_200_body_is_a_limit_not_a_failure() {
    // Kraken: {"error":["EAPI:Rate limit exceeded"]} with status 200.
    let Some(sb) = with(Fault::BodyLimit, 1) else { return };
    let today = Utc::now().date_naive();
    let (from, to) = ((today - Days::days(60)).to_string(), (today - Days::days(5)).to_string());
    let out = fetch(&sb, "kraken", "XBTUSD", &from, &to).expect_code(OK);
    let summary = out.summary();
    assert_eq!(summary["failed"], 0, "{summary}");
    all_stored(&sb, "kraken", "XBTUSD");
    let errors: Vec<String> = sb.rows("SELECT DISTINCT last_error FROM tasks WHERE last_error IS NOT NULL", &[]);
    assert!(errors.iter().all(|e| e.contains("Rate limit")), "{errors:?}");

    // Alpha Vantage-style and Bitfinex-style bodies go the same way, on their own sources.
    let Some(sb) = with(Fault::BodyLimit, 1) else { return };
    fetch(&sb, "bitfinex", "tBTCUSD", "2021-01-01", "2021-01-31").expect_code(OK);
    all_stored(&sb, "bitfinex", "tBTCUSD");
}

#[test]
fn an_unknown_symbol_is_refused_with_the_closest_and_nothing_is_queued() {
    let Some(sb) = Sandbox::new() else { return };
    let out = fetch(&sb, "binance", "BTCUSDX", "2021-01-01", "2021-01-31").expect_code(USAGE);
    assert!(out.stderr.contains("Did you mean 'BTCUSDT'?"), "{}", out.stderr);
    assert!(sb.nothing_stored() || sb.count("SELECT count(*) FROM tasks") == 0);
    // Taken anyway, the source's own error names it.
    let out = sb
        .run(&["fetch", "--source", "okx", "--symbol", "NOPE-USDT", "--from", "2021-01-01", "--to", "2021-01-05"])
        .expect_code(USAGE);
    assert!(out.stderr.contains("NOPE-USDT"), "{}", out.stderr);
    let out = sb
        .run(&[
            "fetch",
            "--source",
            "okx",
            "--symbol",
            "NOPE-USDT",
            "--from",
            "2021-01-01",
            "--to",
            "2021-01-05",
            "--allow-unknown",
            "-f",
            "json",
        ])
        .expect_code(FAILED);
    let error: String = sb.one("SELECT DISTINCT last_error FROM tasks WHERE symbol = 'NOPE-USDT'", &[]);
    assert!(error.contains("NOPE-USDT"), "{error}");
    let summary = out.summary();
    assert_eq!(summary["failed"], 5, "{summary}");
}

#[test]
fn a_page_cut_short_is_asked_again_from_the_day_after_its_last_row() {
    // The first request (from 2019-01-01) gets half the rows it asked for.
    let Some(sb) = Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::first(Fault::ShortPage, 1).only("startTime=1546300800000")],
        ..ServerOptions::default()
    }) else {
        return;
    };
    fetch(&sb, "binance", "BTCUSDT", "2019-01-01", "2021-12-31").expect_code(OK);
    all_stored(&sb, "binance", "BTCUSDT");
    // Two runs (1000 and 96 days), the first asked again from its 501st day.
    assert_eq!(sb.server.requests_to("/api/v3/klines"), 3, "{:?}", sb.server.counts());
}

#[test]
fn a_time_off_the_utc_day_is_never_stored_and_the_error_says_so() {
    let Some(sb) = with(Fault::OffUtc, 1) else { return };
    fetch(&sb, "okx", "BTC-USDT", "2021-01-01", "2021-01-10").expect_code(FAILED);
    let stored = sb.count("SELECT count(*) FROM prices");
    assert_eq!(stored, 0, "nothing off the UTC day is a day's price");
    let errors: Vec<String> = sb.rows("SELECT DISTINCT last_error FROM tasks", &[]);
    assert!(errors.iter().all(|e| e.contains("not the start of a UTC day")), "{errors:?}");
    // Asked again (the stand-in's fault struck the first request only): all there.
    sb.run(&["retry"]).expect_code(OK);
    fetch(&sb, "okx", "BTC-USDT", "2021-01-01", "2021-01-10").expect_code(OK);
    all_stored(&sb, "okx", "BTC-USDT");
}

#[test]
fn two_different_rows_for_one_day_fail_that_day_only() {
    let Some(sb) = with(Fault::Duplicate, 1) else { return };
    fetch(&sb, "bitstamp", "btcusd", "2021-01-01", "2021-01-10").expect_code(FAILED);
    let failed: Vec<(String, String)> = sb.rows("SELECT day, last_error FROM tasks WHERE state = 'failed'", &[]);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].1.contains("two different rows"), "{failed:?}");
    let stored: i64 = sb.one("SELECT count(*) FROM prices WHERE day = ?1", &[&failed[0].0]);
    assert_eq!(stored, 0);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'done'"), 9);
}

#[test]
fn today_s_unclosed_candle_waits_and_is_not_stored() {
    let Some(sb) = Sandbox::new() else { return };
    for (source, symbol) in [("binance", "BTCUSDT"), ("kraken", "XBTUSD"), ("okx", "BTC-USDT"), ("coinbase", "BTC-USD")]
    {
        let out = sb
            .run(&["fetch", "--source", source, "--symbol", symbol, "--from", "-3d", "--to", "today", "--grace", "0s"])
            .expect_code(OK);
        let today = Utc::now().date_naive();
        let (state, price): (String, Option<f64>) = sb.one(
            "SELECT t.state, p.close FROM tasks t LEFT JOIN prices p USING (exchange, symbol, day)
             WHERE t.exchange = ?1 AND t.symbol = ?2 AND t.day = ?3",
            &[&source, &symbol, &today],
        );
        assert_eq!((state.as_str(), price), ("not_yet_due", None), "{source}: {}", out.stderr);
        let done: i64 = sb.one("SELECT count(*) FROM tasks WHERE exchange = ?1 AND state = 'done'", &[&source]);
        assert_eq!(done, 3, "{source}: the three days before it");
    }
}

#[test]
fn a_source_s_documented_pace_holds_over_every_process_on_the_database() {
    // Bitfinex: 30 candle requests a minute, one every 2 s. Two processes,
    // each with two pairs of two runs: eight requests, never two closer
    // than the pace (a quarter of it for the clocks' play).
    let Some(sb) = Sandbox::with_server(ServerOptions { record: true, ..ServerOptions::default() }) else { return };
    sb.run(&[
        "enqueue",
        "--source",
        "bitfinex",
        "-s",
        "tBTCUSD,tETHUSD,tDOTUSD,tZECUSD",
        "--from",
        "2021-01-01",
        "--to",
        "2021-01-04",
    ])
    .expect_code(OK);
    let a = crate::common::Running::spawn(sb.command(&["work", "--workers", "4"]));
    let b = crate::common::Running::spawn(sb.command(&["work", "--workers", "4"]));
    a.wait().expect_code(OK);
    b.wait().expect_code(OK);
    let mut at: Vec<std::time::Instant> =
        sb.server.log().into_iter().filter(|s| s.path.starts_with("/v2/candles/")).map(|s| s.at).collect();
    at.sort();
    assert_eq!(at.len(), 4, "one request a pair");
    for pair in at.windows(2) {
        let gap = pair[1].duration_since(pair[0]);
        assert!(gap >= std::time::Duration::from_millis(1500), "requests {gap:?} apart: {at:?}");
    }
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'done'"), 16);
}

/// Each built-in source with a symbol and 20 days it serves.
fn every_source() -> Vec<(&'static str, &'static str, String, String)> {
    let today = Utc::now().date_naive();
    let recent = ((today - Days::days(40)).to_string(), (today - Days::days(21)).to_string());
    let past = ("2021-01-01".to_string(), "2021-01-20".to_string());
    vec![
        ("binance", "ETHUSDT", past.0.clone(), past.1.clone()),
        ("coinbase", "ETH-USD", past.0.clone(), past.1.clone()),
        ("kraken", "ETHUSD", recent.0, recent.1),
        ("bitstamp", "ethusd", past.0.clone(), past.1.clone()),
        ("bitfinex", "tETHUSD", past.0.clone(), past.1.clone()),
        ("okx", "ETH-USDT", past.0, past.1),
    ]
}

/// Runs `fetch` of 20 days on every source with `fault` on the first
/// request of every candle URL (a faster `--rate` than the documented
/// pace, which has its own test), and hands each sandbox and its exit
/// code and stderr to `check`.
fn on_every_source(fault: Fault, check: impl Fn(&str, &str, &Sandbox, i32, &str)) {
    for (source, symbol, from, to) in every_source() {
        let Some(sb) = with(fault, 1) else { return };
        let out = sb.run(&[
            "fetch",
            "--source",
            source,
            "--symbol",
            symbol,
            "--from",
            &from,
            "--to",
            &to,
            "--rate",
            "50/s",
            "--retry-delay",
            "100ms",
        ]);
        check(source, symbol, &sb, out.code, &out.stderr);
    }
}

#[test]
fn every_source_asks_again_after_a_short_page_and_stores_every_day() {
    on_every_source(Fault::ShortPage, |source, symbol, sb, code, stderr| {
        assert_eq!(code, OK, "{source}: {stderr}");
        all_stored(sb, source, symbol);
    });
}

#[test]
fn every_source_stores_nothing_off_the_utc_day() {
    on_every_source(Fault::OffUtc, |source, _, sb, code, stderr| {
        assert_eq!(code, FAILED, "{source}: {stderr}");
        assert_eq!(sb.count("SELECT count(*) FROM prices"), 0, "{source}");
        let errors: Vec<String> = sb.rows("SELECT DISTINCT last_error FROM tasks", &[]);
        assert!(errors.iter().all(|e| e.contains("not the start of a UTC day")), "{source}: {errors:?}");
    });
}

#[test]
fn every_source_fails_a_day_with_two_rows_and_only_that_day() {
    on_every_source(Fault::Duplicate, |source, _, sb, code, stderr| {
        assert_eq!(code, FAILED, "{source}: {stderr}");
        let failed: Vec<String> = sb.rows("SELECT last_error FROM tasks WHERE state = 'failed'", &[]);
        assert_eq!(failed.len(), 1, "{source}: {failed:?}");
        assert!(failed[0].contains("two different rows"), "{source}: {failed:?}");
        assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'done'"), 19, "{source}");
    });
}

#[test]
fn every_source_waits_out_its_limits_and_bans_and_loses_nothing() {
    for fault in [Fault::Ban, Fault::BodyLimit, Fault::RateLimited] {
        on_every_source(fault, |source, symbol, sb, code, stderr| {
            assert_eq!(code, OK, "{source} {}: {stderr}", fault.name());
            all_stored(sb, source, symbol);
            let failed = sb.count("SELECT count(*) FROM tasks WHERE state IN ('failed', 'cooling')");
            assert_eq!(failed, 0, "{source} {}", fault.name());
        });
    }
}

#[test]
fn every_source_refuses_a_symbol_it_does_not_list_and_names_the_closest() {
    for (source, symbol, from, to) in every_source() {
        let Some(sb) = Sandbox::new() else { return };
        let typo = format!("{}X", &symbol[..symbol.len() - 1]);
        let out = sb.run(&["fetch", "--source", source, "--symbol", &typo, "--from", &from, "--to", &to]);
        assert_eq!(out.code, USAGE, "{source}: {}", out.stderr);
        assert!(out.stderr.contains(&typo) && out.stderr.contains("Did you mean"), "{source}: {}", out.stderr);
    }
}
