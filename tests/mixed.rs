//! One queue, several sources: one `work` fetches each task from its own
//! source; and, between two hosts, a declared source whose key only one
//! of them has.

use chrono::{Duration, Utc};
use pricequeue::error::OK;
use pricequeue::server::{data, venues};

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

    let out = sb.run(&["work"]).expect_code(OK);
    assert!(out.stderr.contains("0 failed"), "{}", out.stderr);
    let rows: Vec<(String, String, String, String, Option<f64>)> = sb.rows(
        "SELECT t.source, t.exchange, t.symbol, t.day, p.close FROM tasks t
         LEFT JOIN prices p USING (exchange, symbol, day) ORDER BY 1, 2, 3, 4",
        &[],
    );
    for (source, exchange, symbol, d, close) in rows {
        let want = match source.as_str() {
            "cryptodb" => data::price(&exchange, &symbol, day(&d)).map(|p| p.close),
            _ => venues::expected(&source, &symbol, day(&d)).map(|p| p.close),
        };
        assert_eq!(close, want, "{source} {exchange} {symbol} {d}");
    }
    // Each source was asked in its own way: one request a day for the
    // reference API, one a run for the others.
    assert_eq!(sb.server.requests_to("/price/"), 31);
    assert_eq!(sb.server.requests_to("/api/v3/klines"), 1);
    assert_eq!(sb.server.requests_to("/0/public/OHLC"), 1);
}
