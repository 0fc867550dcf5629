//! One queue, several sources: one `work` fetches each task from its own
//! source; and, between two hosts, a declared source whose key only one
//! of them has.

use chrono::{Duration, Utc};
use pricequeue::error::OK;
use pricequeue::server::{data, stand_ins};

use super::Sandbox;
use crate::common::day;

#[test]
fn one_work_fetches_a_queue_of_three_sources_each_task_from_its_own() {
    let Some(sb) = Sandbox::new() else { return };
    let today = Utc::now().date_naive();
    let (from, to) = ((today - Duration::days(40)).to_string(), (today - Duration::days(10)).to_string());
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-31"]).expect_code(OK);
    sb.run(&["enqueue", "--source", "binance", "-s", "BTCUSDT", "--from", &from, "--to", &to]).expect_code(OK);
    sb.run(&["enqueue", "--source", "kraken", "-s", "XBTUSD", "--from", &from, "--to", &to]).expect_code(OK);
    let sources: Vec<(String, i64)> = sb.rows("SELECT source, count(*) FROM tasks GROUP BY source ORDER BY 1", &[]);
    assert_eq!(sources, [("binance".into(), 31), ("cryptodb".into(), 31), ("kraken".into(), 31)]);
    let status = sb.run(&["status"]).expect_code(OK).stdout;
    assert!(status.contains("Sources with tasks waiting") && status.contains("kraken"), "{status}");

    let out = sb.run(&["work", "-f", "json"]).expect_code(OK);
    let summary = out.summary();
    let counts = ["failed", "cooling", "retried"].map(|n| summary[n].as_u64());
    assert_eq!(counts, [0, 0, 0].map(Some), "{summary}");
    let sources: Vec<&str> =
        summary["sources"].as_array().unwrap().iter().filter_map(|s| s["source"].as_str()).collect();
    assert_eq!(sources.len(), 3, "each source answered: {summary}");
    let rows: Vec<(String, String, String, String, Option<f64>)> = sb.rows(
        "SELECT t.source, t.exchange, t.symbol, t.day, p.close FROM tasks t
         LEFT JOIN prices p USING (exchange, symbol, day) ORDER BY 1, 2, 3, 4",
        &[],
    );
    for (source, exchange, symbol, d, close) in rows {
        let want = match source.as_str() {
            "cryptodb" => data::price(&exchange, &symbol, day(&d)).map(|p| p.close),
            _ => stand_ins::expected(&source, &symbol, day(&d)).map(|p| p.close),
        };
        assert_eq!(close, want, "{source} {exchange} {symbol} {d}");
    }
    // Each source was asked in its own way: one request a day for the
    // reference API, one a run for the others.
    assert_eq!(sb.server.requests_to("/price/"), 31);
    assert_eq!(sb.server.requests_to("/api/v3/klines"), 1);
    assert_eq!(sb.server.requests_to("/0/public/OHLC"), 1);

    // The reports name the source where the exchange does not say it:
    // bitstamp's prices came from the reference API, binance's from
    // binance, and the crossed pairs were never asked of any.
    let range = ["-e", "bitstamp,binance", "-s", "btc,BTCUSDT", "--from", "2020-03-01", "--to", &to];
    let csv = sb.run(&[&["query", "--missing", "--format", "csv"], &range[..]].concat()).stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    // The source comes after the columns a row per day had; a row's last
    // day and its length after it (the rows are runs of days now).
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[3..], ["reason", "error", "source", "last_day", "days"], "{csv}");
    let mut seen = std::collections::BTreeSet::new();
    for record in reader.records() {
        let r = record.unwrap();
        let want = match (&r[0], &r[1], &r[3]) {
            (_, _, "not queued") => "",
            ("bitstamp", "btc", _) => "cryptodb",
            (e, s, reason) => panic!("{e} {s} {reason}: only bitstamp btc has tasks with no price"),
        };
        assert_eq!(&r[5], want, "{r:?}");
        seen.insert(r[5].to_string());
    }
    assert_eq!(seen.len(), 2, "both kinds of row were checked: {seen:?}");
    let table = sb.run(&[&["query", "--missing"], &range[..]].concat()).stdout;
    let header = table.lines().find(|l| l.starts_with("exchange")).expect("the missing report's header");
    assert!(header.split_whitespace().eq(["exchange", "symbol", "days", "source", "reason"]), "{header}");

    let grid = sb.run(&[&["coverage"], &range[..]].concat()).stdout;
    let row = |label: &str| grid.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{label}: {grid}"));
    assert!(row("bitstamp btc").split('|').next().unwrap().trim_end().ends_with("cryptodb"), "{grid}");
    assert!(!row("binance  BTCUSDT").contains("binance  binance"), "binance's rows say it once: {grid}");
    assert!(grid.contains("Left out, nothing queued in this range: 2 pairs (binance btc, bitstamp BTCUSDT)"), "{grid}");
}
