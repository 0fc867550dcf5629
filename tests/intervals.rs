//! Candles below a day, fetched as a user would: `fetch --interval` against
//! the Binance stand-in, every candle it serves stored (its quiet minutes
//! and its maintenance window proven empty), at the fewest requests, and a
//! second run asks for none.

use pricequeue::error::OK;
use pricequeue::interval::Interval;
use pricequeue::server::stand_ins::expected_at;

use super::Sandbox;
use crate::common::day;

/// The klines path of the Binance stand-in, whose requests are counted.
const KLINES: &str = "/api/v3/klines";

/// A stored candle: its open time in Unix minutes, open, high, low, close
/// and volume.
type Row = (i64, f64, f64, f64, f64, f64);

/// The candles the stand-in serves for BTCUSDT at `interval` over the days
/// `from..=to`; and how many slots the days have.
fn served(interval: Interval, from: &str, to: &str) -> (Vec<Row>, i64) {
    let first = interval.first_slot(day(from));
    let end = interval.day_slots(day(to)).end;
    let candles = (first..end)
        .filter_map(|slot| {
            let p = expected_at("binance", "BTCUSDT", interval, slot)?;
            Some((slot * interval.minutes(), p.open, p.high, p.low, p.close, p.volume))
        })
        .collect();
    (candles, end - first)
}

/// The candles stored for BTCUSDT at `interval`, as `served` gives them.
fn stored<B: crate::common::Backend>(sb: &crate::common::Sandbox<B>, interval: Interval) -> Vec<Row> {
    sb.rows(
        "SELECT CAST(c.minute AS BIGINT), c.open, c.high, c.low, c.close, c.volume
         FROM series_candles c JOIN series s ON s.id = c.series
         WHERE s.exchange = 'binance' AND s.symbol = 'BTCUSDT' AND s.interval = ?1 ORDER BY c.minute",
        &[&interval.name()],
    )
}

/// Fetches BTCUSDT from Binance at `interval` over `from..=to`, with
/// `more` flags; returns the run's JSON summary.
fn fetch<B: crate::common::Backend>(
    sb: &crate::common::Sandbox<B>,
    interval: Interval,
    from: &str,
    to: &str,
    more: &[&str],
) -> serde_json::Value {
    let args = [
        "fetch",
        "--source",
        "binance",
        "--symbol",
        "BTCUSDT",
        "--interval",
        interval.name(),
        "--from",
        from,
        "--to",
        to,
        "--rate",
        "1000/s",
        "-f",
        "json",
    ];
    sb.run(&[&args[..], more].concat()).expect_code(OK).summary()
}

#[test]
fn three_days_of_1m_are_every_candle_at_the_fewest_requests_and_asked_once() {
    let Some(sb) = Sandbox::new() else { return };
    // 2024-03-12 holds the stand-in's maintenance window (no candle for
    // hours); every day has quiet minutes.
    let (from, to) = ("2024-03-11", "2024-03-13");
    let (want, slots) = served(Interval::M1, from, to);
    assert!(want.len() < 4_320 - 180, "the stand-in's gaps are in the days asked");

    let summary = fetch(&sb, Interval::M1, from, to, &[]);
    assert_eq!(stored(&sb, Interval::M1), want, "every candle the stand-in serves, none else");
    assert_eq!(summary["candles"], want.len() as u64, "{summary}");
    assert_eq!((summary["fetched"].as_u64(), summary["failed"].as_u64()), (Some(3), Some(0)), "{summary}");
    // Gaps and all, the days' slots cost ceil(slots / 1000) requests, and
    // at most one more.
    let requests = sb.server.requests_to(KLINES);
    let fewest = (slots as u64).div_ceil(1000);
    assert!(requests >= fewest && requests <= fewest + 1, "{requests} requests for {slots} slots");
    assert_eq!(summary["requests"], requests, "{summary}");
    let done = sb.count("SELECT count(*) FROM tasks WHERE interval = '1m' AND state = 'done'");
    assert_eq!(done, 3);

    // Everything settled: a second run asks for nothing.
    let again = fetch(&sb, Interval::M1, from, to, &[]);
    assert_eq!(sb.server.requests_to(KLINES), requests, "no candle request the second time: {again}");
    assert_eq!(stored(&sb, Interval::M1), want);
}

#[test]
fn a_month_of_1h_is_one_request() {
    let Some(sb) = Sandbox::new() else { return };
    let (from, to) = ("2024-03-01", "2024-03-31");
    let (want, slots) = served(Interval::H1, from, to);
    assert_eq!(slots, 744);
    let summary = fetch(&sb, Interval::H1, from, to, &[]);
    assert_eq!(stored(&sb, Interval::H1), want);
    assert_eq!((summary["fetched"].as_u64(), summary["candles"].as_u64()), (Some(31), Some(want.len() as u64)));
    assert_eq!(sb.server.requests_to(KLINES), 1, "744 candles, under Binance's 1000 a request: {summary}");
    // The daily prices are another interval's: none stored by this.
    assert_eq!(sb.count("SELECT count(*) FROM prices"), 0);
}

#[test]
fn today_at_1h_stores_the_hours_closed_and_waits_for_the_next() {
    let Some(sb) = Sandbox::new() else { return };
    let today = chrono::Utc::now().date_naive().to_string();
    // An hour may turn during the run: what was closed before it or after.
    let before = served(Interval::H1, &today, &today).0;
    let summary = fetch(&sb, Interval::H1, &today, &today, &["--grace", "0s"]);
    let after = served(Interval::H1, &today, &today).0;
    let got = stored(&sb, Interval::H1);
    assert!(got == before || got == after, "{} candles stored, {} closed: {summary}", got.len(), before.len());
    assert!(got.len() < 24);
    let state: String = sb.one("SELECT state FROM tasks WHERE interval = '1h'", &[]);
    assert_eq!(state, "not_yet_due", "the day waits for its next hour: {summary}");
    assert_eq!((summary["waiting"].as_u64(), summary["failed"].as_u64()), (Some(1), Some(0)), "{summary}");
}
