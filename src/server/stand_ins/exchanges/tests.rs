//! Each stand-in at intervals below a day, over HTTP: its interval names,
//! its cap on rows and its paging as its API documents them, its own error
//! for an interval it lacks, its current candle, and faults at any interval.

use serde_json::Value;

use super::intervals;
use crate::interval::Interval::{self, *};
use crate::server::stand_ins::Series;
use crate::server::{Fault, FaultRule, Server, ServerOptions};

/// The status and JSON body of a GET.
fn get(server: &Server, path: &str) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.get(&format!("{}{path}", server.url())).call().expect("a request");
    let status = resp.status().as_u16();
    let body = resp.body_mut().read_to_string().expect("a body");
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}")))
}

fn serve() -> Server {
    Server::start("127.0.0.1:0", ServerOptions::default()).unwrap()
}

/// 2023-06-01 00:00 UTC, in seconds.
const JUNE: i64 = 1_685_577_600;

fn times(rows: &Value, at: impl Fn(&Value) -> i64) -> Vec<i64> {
    rows.as_array().expect("rows").iter().map(at).collect()
}

#[test]
fn each_source_serves_the_intervals_its_api_names() {
    let names = |s: &str| Interval::list(&intervals(s));
    assert_eq!(names("binance"), "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d");
    assert_eq!(names("coinbase"), "1m, 5m, 15m, 1h, 6h, 1d");
    assert_eq!(names("kraken"), "1m, 5m, 15m, 30m, 1h, 4h, 1d");
    assert_eq!(names("bitstamp"), "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d");
    assert_eq!(names("bitfinex"), "1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d");
    assert_eq!(names("okx"), "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d");
}

#[test]
fn an_interval_the_api_lacks_gets_its_own_error() {
    let server = serve();
    let (s, b) = get(&server, "/api/v3/klines?symbol=BTCUSDT&interval=3h");
    assert_eq!((s, &b["code"]), (400, &Value::from(-1120)), "{b}");
    let (s, b) = get(&server, "/products/BTC-USD/candles?granularity=14400");
    assert_eq!((s, b["message"].as_str()), (400, Some("Unsupported granularity")));
    let (s, b) = get(&server, "/0/public/OHLC?pair=XBTUSD&interval=3");
    assert_eq!((s, &b["error"][0]), (200, &Value::from("EGeneral:Invalid arguments")));
    let (s, b) = get(&server, "/api/v2/ohlc/btcusd/?step=10800&limit=10");
    assert_eq!((s, b["reason"].as_str()), (400, Some("Invalid step")));
    let (s, b) = get(&server, "/v2/candles/trade:4h:tBTCUSD/hist");
    assert_eq!((s, &b[1]), (500, &Value::from(10020)));
    // OKX's bars are upper-case above a minute.
    let (s, b) = get(&server, "/api/v5/market/history-candles?instId=BTC-USDT&bar=1h");
    assert_eq!((s, b["code"].as_str()), (400, Some("51000")));
}

#[test]
fn binance_pages_forward_1000_from_start_time_and_ends_at_the_current_kline() {
    let server = serve();
    let start = JUNE * 1000 + 1; // not on an edge: the first kline opens after it
    let (_, b) = get(&server, &format!("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={start}&limit=5000"));
    let rows = b.as_array().unwrap();
    assert_eq!(rows.len(), 1000, "limit is at most 1000");
    assert!(rows[0][0].as_i64().unwrap() >= JUNE * 1000 + 60_000);
    for r in rows {
        assert_eq!(r[6].as_i64().unwrap(), r[0].as_i64().unwrap() + 59_999, "close time: {r}");
    }
    let (_, b) = get(&server, "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3");
    let last = &b.as_array().unwrap()[2];
    let now = chrono::Utc::now().timestamp_millis();
    assert!(last[0].as_i64().unwrap() <= now && last[6].as_i64().unwrap() >= now, "the current kline: {last}");
}

#[test]
fn coinbase_refuses_more_than_300_candles_and_answers_newest_first() {
    let server = serve();
    let iso = |t: i64| chrono::DateTime::from_timestamp(t, 0).unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let ask =
        |n: i64| format!("/products/BTC-USD/candles?granularity=60&start={}&end={}", iso(JUNE), iso(JUNE + n * 60));
    let (s, b) = get(&server, &ask(300)); // 301 candles, both ends in
    assert_eq!(s, 400, "{b}");
    let (s, b) = get(&server, &ask(299));
    assert_eq!(s, 200);
    let t = times(&b, |r| r[0].as_i64().unwrap());
    assert!(t.len() > 280 && t.len() <= 300 && t.windows(2).all(|w| w[0] > w[1]), "{t:?}");
    assert!(t[0] <= JUNE + 299 * 60 && *t.last().unwrap() >= JUNE);
}

#[test]
fn kraken_serves_its_latest_720_candles_at_any_interval_and_the_current_one_always() {
    let server = serve();
    for (iv, name) in [(M1, "1"), (M15, "15"), (H1, "60")] {
        let now = Series::new("kraken", "XBTUSD", iv);
        let (_, b) = get(&server, &format!("/0/public/OHLC?pair=XBTUSD&interval={name}&since=0"));
        let t = times(&b["result"]["XXBTZUSD"], |r| r[0].as_i64().unwrap());
        let len = iv.minutes() * 60;
        let current = now.open_secs(now.now_slot());
        assert!(*t.last().unwrap() >= current - len, "{iv}: the last row is the current candle");
        assert!(t[0] >= current - 720 * len && t.len() <= 720 && t.len() > 600, "{iv}: {} rows", t.len());
        // `since` is exclusive, and the current candle comes whatever it says.
        let since = t[t.len() - 10];
        let (_, b) = get(&server, &format!("/0/public/OHLC?pair=XBTUSD&interval={name}&since={since}"));
        let after = times(&b["result"]["XXBTZUSD"], |r| r[0].as_i64().unwrap());
        assert_eq!(after, t[t.len() - 9..], "{iv}");
        let (_, b) = get(&server, &format!("/0/public/OHLC?pair=XBTUSD&interval={name}&since={}", current + 999));
        assert_eq!(b["result"]["XXBTZUSD"].as_array().unwrap().len(), 1, "{iv}: {b}");
    }
}

#[test]
fn bitstamp_answers_the_limit_candles_up_to_end_and_caps_limit_at_1000() {
    let server = serve();
    let (s, _) = get(&server, "/api/v2/ohlc/btcusd/?step=60&limit=1001");
    assert_eq!(s, 400);
    let end = JUNE + 3600;
    let (_, b) = get(&server, &format!("/api/v2/ohlc/btcusd/?step=300&limit=12&start={JUNE}&end={end}"));
    let t = times(&b["data"]["ohlc"], |r| r["timestamp"].as_str().unwrap().parse().unwrap());
    assert!(t.len() >= 10 && *t.last().unwrap() <= end && t[0] >= end - 11 * 300, "{t:?}");
    let (_, b) = get(&server, "/api/v2/ohlc/btcusd/?step=3600&limit=2&exclude_current_candle=true");
    let t = times(&b["data"]["ohlc"], |r| r["timestamp"].as_str().unwrap().parse().unwrap());
    assert!(*t.last().unwrap() + 3600 <= chrono::Utc::now().timestamp(), "no open candle: {t:?}");
}

#[test]
fn bitfinex_serves_up_to_10000_candles_a_request() {
    let server = serve();
    let path = format!("/v2/candles/trade:1m:tBTCUSD/hist?start={}&limit=20000&sort=1", JUNE * 1000);
    let (_, b) = get(&server, &path);
    let t = times(&b, |r| r[0].as_i64().unwrap());
    assert_eq!(t.len(), 10_000);
    assert!(t[0] >= JUNE * 1000 && t.windows(2).all(|w| w[0] < w[1]));
    // Newest first by default, up to `end`, inclusive.
    let end = JUNE * 1000 + 3_600_000;
    let (_, b) = get(&server, &format!("/v2/candles/trade:1h:tBTCUSD/hist?end={end}&limit=3"));
    assert_eq!(times(&b, |r| r[0].as_i64().unwrap()), [end, end - 3_600_000, end - 7_200_000]);
}

#[test]
fn okx_answers_100_newest_first_with_its_flag_on_the_current_candle() {
    let server = serve();
    let (_, b) = get(&server, "/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&limit=300");
    let rows = b["data"].as_array().unwrap();
    assert_eq!(rows.len(), 100, "at most 100 on history candles");
    let confirm: Vec<&str> = rows.iter().map(|r| r[8].as_str().unwrap()).collect();
    assert_eq!(confirm[0], "0", "the newest is the current candle");
    assert!(confirm[1..].iter().all(|c| *c == "1"));
    // `after` and `before` are exclusive.
    let (after, before) = ((JUNE + 6 * 3600) * 1000, JUNE * 1000);
    let path = format!("/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&after={after}&before={before}");
    let (_, b) = get(&server, &path);
    let t = times(&b["data"], |r| r[0].as_str().unwrap().parse().unwrap());
    assert_eq!(t, (1..6).rev().map(|h| (JUNE + h * 3600) * 1000).collect::<Vec<_>>());
    // Hong Kong bars open at 16:00 UTC, and every six hours from there.
    let path = format!("/api/v5/market/history-candles?instId=BTC-USDT&bar=6H&after={after}&limit=4");
    let (_, b) = get(&server, &path);
    let hours: Vec<i64> = times(&b["data"], |r| r[0].as_str().unwrap().parse::<i64>().unwrap() / 3_600_000 % 24);
    assert_eq!(hours, [4, 22, 16, 10], "before 06:00 UTC, newest first");
}

#[test]
fn faults_apply_at_any_interval() {
    // The first rule aimed at a path wins.
    let faults = vec![FaultRule::first(Fault::WrongUnit, 1).only("interval=5m"), FaultRule::first(Fault::OffUtc, 1)];
    let server = Server::start("127.0.0.1:0", ServerOptions { faults, ..ServerOptions::default() }).unwrap();
    let start = JUNE * 1000;
    let (_, b) = get(&server, &format!("/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime={start}&limit=3"));
    assert_eq!(b[0][0].as_i64().unwrap(), JUNE, "seconds where milliseconds belong: {b}");
    let (_, b) = get(&server, &format!("/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={start}&limit=3"));
    assert_eq!(b[0][0].as_i64().unwrap(), start + 1_800_000, "half an hour off the hour's edge: {b}");
}
