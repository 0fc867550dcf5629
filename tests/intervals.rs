//! Candles below a day, fetched as a user would: `fetch --interval` against
//! the Binance stand-in, every candle it serves stored (its quiet minutes
//! and its maintenance window proven empty), at the fewest requests, and a
//! second run asks for none.

use std::time::Duration;

use pricequeue::clock::AHEAD;
use pricequeue::error::OK;
use pricequeue::interval::Interval;
use pricequeue::server::stand_ins::{expected_at, Series};
use pricequeue::server::ServerOptions;

use super::Sandbox;
use crate::common::{day, Running};

/// The klines path of the Binance stand-in, whose requests are counted.
const KLINES: &str = "/api/v3/klines";

/// A stored candle: its open time in Unix minutes, open, high, low, close
/// and volume.
type Row = (i64, f64, f64, f64, f64, f64);

/// The candles the stand-in serves for BTCUSDT at `interval` over the days
/// `from..=to`; and how many slots the days have.
fn served(interval: Interval, from: &str, to: &str) -> (Vec<Row>, i64) {
    served_by("binance", "BTCUSDT", interval, from, to)
}

/// The same for `symbol` of `source`.
fn served_by(source: &str, symbol: &str, interval: Interval, from: &str, to: &str) -> (Vec<Row>, i64) {
    let first = interval.first_slot(day(from));
    let end = interval.day_slots(day(to)).end;
    let candles = (first..end)
        .filter_map(|slot| {
            let p = expected_at(source, symbol, interval, slot)?;
            Some((slot * interval.minutes(), p.open, p.high, p.low, p.close, p.volume))
        })
        .collect();
    (candles, end - first)
}

/// The candles stored for BTCUSDT at `interval`, as `served` gives them.
fn stored<B: crate::common::Backend>(sb: &crate::common::Sandbox<B>, interval: Interval) -> Vec<Row> {
    stored_of(sb, "binance", "BTCUSDT", interval)
}

/// The same for `symbol` of `exchange`.
fn stored_of<B: crate::common::Backend>(
    sb: &crate::common::Sandbox<B>,
    exchange: &str,
    symbol: &str,
    interval: Interval,
) -> Vec<Row> {
    sb.rows(
        "SELECT CAST(c.minute AS BIGINT), c.open, c.high, c.low, c.close, c.volume
         FROM series_candles c JOIN series s ON s.id = c.series
         WHERE s.exchange = ?1 AND s.symbol = ?2 AND s.interval = ?3 ORDER BY c.minute",
        &[&exchange, &symbol, &interval.name()],
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

#[test]
fn each_exchange_stand_in_s_5m_candles_are_stored_as_it_serves_them() {
    let Some(sb) = Sandbox::new() else { return };
    // Four days around the stand-ins' maintenance window (2024-03-12):
    // several pages each at 5m (1,152 candles; Coinbase 300 a page, OKX 100).
    let (from, to) = ("2024-03-10", "2024-03-13");
    for (source, symbol) in [
        ("binance", "ETHUSDT"),
        ("coinbase", "ETH-USD"),
        ("bitstamp", "ethusd"),
        ("bitfinex", "tETHUSD"),
        ("okx", "ETH-USDT"),
    ] {
        let args = ["fetch", "--source", source, "--symbol", symbol, "--interval", "5m", "--from", from, "--to", to];
        let out = sb.run(&[&args[..], &["--rate", "1000/s", "-f", "json"]].concat()).expect_code(OK);
        let summary = out.summary();
        let (want, _) = served_by(source, symbol, Interval::M5, from, to);
        assert!(!want.is_empty(), "{source}");
        assert_eq!(stored_of(&sb, source, symbol, Interval::M5), want, "{source}: {summary}");
        assert_eq!(
            (summary["fetched"].as_u64(), summary["failed"].as_u64()),
            (Some(4), Some(0)),
            "{source}: {summary}"
        );
    }
}

#[test]
fn a_run_killed_mid_way_loses_at_most_the_pages_in_flight_and_the_next_stores_the_rest() {
    let options = ServerOptions { latency: Duration::from_millis(40), ..ServerOptions::default() };
    let Some(sb) = Sandbox::with_server(options) else { return };
    // Ten days of 1m: 14,400 candles, 15 pages, one after another.
    let (from, to) = ("2024-03-01", "2024-03-10");
    let args = ["fetch", "--source", "binance", "--symbol", "BTCUSDT", "--interval", "1m", "--from", from, "--to", to];
    let run = Running::spawn(sb.command(&args));
    let done = || sb.count("SELECT count(*) FROM tasks WHERE interval = '1m' AND state = 'done'");
    for _ in 0..1000 {
        // The database is there once candles are asked for.
        if sb.server.requests_to(KLINES) > 0 && done() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    run.signal("KILL");
    drop(run.wait());
    let (settled, asked) = (done(), sb.server.requests_to(KLINES));
    assert!((3..10).contains(&settled), "killed after {settled} days");
    // Each day settled was stored whole, with its task.
    let stored_days = sb.count(
        "SELECT count(DISTINCT CAST(c.minute / 1440 AS BIGINT)) FROM series_candles c JOIN series s ON s.id = c.series
         WHERE s.interval = '1m'",
    );
    assert_eq!(stored_days, settled, "candles only of the days settled");

    sb.run(&[&args[..], &["-f", "json"]].concat()).expect_code(OK);
    let (want, slots) = served(Interval::M1, from, to);
    assert_eq!(stored(&sb, Interval::M1), want, "the candles of a clean run");
    let again = sb.server.requests_to(KLINES) - asked;
    // The second run asks for the days not settled: their pages, and
    // the page the first may have had in flight across a day's end.
    let left = (10 - settled as u64) * 1440;
    assert!(again <= left.div_ceil(1000) + 2, "{again} requests for {left} slots left");
    assert!(asked + again <= (slots as u64).div_ceil(1000) + 3, "{asked} + {again} requests in all");
}

/// `pricequeue serve` on a free loopback port with the queue's clock
/// `ahead` (the stand-ins' current candle moves with it); killed when dropped.
struct AheadServer {
    child: std::process::Child,
    url: String,
}

impl AheadServer {
    fn start(ahead: &str) -> AheadServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new(crate::common::bin())
            .args(["serve", "--addr", "127.0.0.1:0"])
            .env(AHEAD, ahead)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start pricequeue serve");
        let mut line = String::new();
        if let Some(e) = child.stderr.take() {
            std::io::BufReader::new(e).read_line(&mut line).expect("its first line");
        }
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).unwrap_or_default().to_string();
        let server = AheadServer { child, url };
        assert!(!server.url.is_empty(), "no URL in {line:?}");
        server
    }
}

impl Drop for AheadServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn today_at_1h_under_a_test_clock_stores_each_hour_once_closed_and_is_done_after_the_last() {
    let Some(sb) = Sandbox::new() else { return };
    if sb.db().starts_with("postgres") {
        // PostgreSQL keeps the queue's times on its own clock, which the
        // test clock does not move (`clock::AHEAD`): SQLite only.
        return;
    }
    // "Today" is tomorrow, on a clock set ahead: 12:30, 15:20, then 00:30
    // the day after, server and client alike.
    let d = chrono::Utc::now().date_naive() + chrono::Duration::days(1);
    let at = |day: chrono::NaiveDate, h: u32, m: u32| day.and_hms_opt(h, m, 0).unwrap().and_utc().timestamp_millis();
    let iv = Interval::H1;
    for (now, closed) in [(at(d, 12, 30), 12), (at(d, 15, 20), 15), (at(d + chrono::Duration::days(1), 0, 30), 24)] {
        let ahead = format!("{}s", (now - chrono::Utc::now().timestamp_millis()) / 1000);
        let server = AheadServer::start(&ahead);
        let day = d.to_string();
        let args =
            ["fetch", "--source", "binance", "--symbol", "BTCUSDT", "--interval", "1h", "--from", &day, "--to", &day];
        let mut cmd = sb.command_at(&server.url, &[&args[..], &["-f", "json"]].concat());
        cmd.env(AHEAD, &ahead);
        let summary = crate::common::run(cmd).expect_code(OK).summary();
        // The candles of the hours closed at `now`, as the stand-in makes them.
        let series = Series { source: "binance", symbol: "BTCUSDT", interval: iv, shift: 0, now_ms: now };
        let want: Vec<Row> = iv
            .day_slots(d)
            .take(closed)
            .filter_map(|slot| series.candle(slot).map(|c| (slot * 60, c.price())))
            .map(|(m, p)| (m, p.open, p.high, p.low, p.close, p.volume))
            .collect();
        assert_eq!(stored(&sb, iv), want, "{closed} hours closed: {summary}");
        let state: String = sb.one("SELECT state FROM tasks WHERE interval = '1h'", &[]);
        let expected = if closed < 24 { "not_yet_due" } else { "done" };
        assert_eq!(state, expected, "{closed} hours closed: {summary}");
    }
}
