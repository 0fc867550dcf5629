//! The stand-ins are faithful: ccxt, the widely used Python client for
//! exchange APIs, pointed at the built-in server, reads the same candles
//! that pricequeue stores (the stand-in's own, `stand_ins::expected`), with
//! the days without a candle absent. Needs `python3` with `ccxt`
//! (`.ci/run` installs it); skipped without, unless
//! PRICEQUEUE_REQUIRE_CCXT=1.

use std::process::Command;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use pricequeue::server::{stand_ins, Server, ServerOptions};

fn ccxt_here() -> bool {
    let ok = Command::new("python3").args(["-c", "import ccxt"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("PRICEQUEUE_REQUIRE_CCXT").is_none(),
            "PRICEQUEUE_REQUIRE_CCXT is set, but `python3 -c 'import ccxt'` fails: pip install ccxt"
        );
        eprintln!("skipped: no python3 with ccxt here (pip install ccxt)");
    }
    ok
}

/// The candles ccxt reads from `url` for `symbol` (ccxt's form) on `source`.
fn ccxt(url: &str, source: &str, symbol: &str, from: NaiveDate, to: NaiveDate) -> Vec<(NaiveDate, [f64; 5])> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/ccxt_read.py");
    let out = Command::new("python3")
        .args([script, url, source, symbol, &from.to_string(), &to.to_string()])
        .output()
        .expect("run python3");
    assert!(out.status.success(), "{source}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let c: Vec<f64> = serde_json::from_str(l).expect("a candle line");
            let day = Utc.timestamp_millis_opt(c[0] as i64).single().expect("a time").date_naive();
            assert_eq!(c[0] as i64 % 86_400_000, 0, "{source}: a candle off the UTC day: {l}");
            (day, [c[1], c[2], c[3], c[4], c[5]])
        })
        .collect()
}

#[test]
fn ccxt_reads_the_candles_pricequeue_stores_from_every_stand_in() {
    if !ccxt_here() {
        return;
    }
    let server = Server::start("127.0.0.1:0", ServerOptions::default()).unwrap();
    let today = Utc::now().date_naive();
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    let cases = [
        ("binance", "BTC/USDT", "BTCUSDT", d("2019-01-01"), d("2021-12-31")),
        ("coinbase", "BTC/USD", "BTC-USD", d("2021-01-01"), d("2021-12-31")),
        ("kraken", "BTC/USD", "XBTUSD", today - Duration::days(300), today - Duration::days(1)),
        ("bitstamp", "BTC/USD", "btcusd", d("2020-01-01"), d("2021-12-31")),
        ("bitfinex", "BTC/USD", "tBTCUSD", d("2021-01-01"), d("2021-12-31")),
        ("okx", "BTC/USDT", "BTC-USDT", d("2021-01-01"), d("2021-06-30")),
    ];
    for (source, unified, symbol, from, to) in cases {
        let read = ccxt(&server.url(), source, unified, from, to);
        let want: Vec<(NaiveDate, [f64; 5])> = from
            .iter_days()
            .take_while(|x| *x <= to)
            .filter_map(|x| {
                stand_ins::expected(source, symbol, x).map(|p| (x, [p.open, p.high, p.low, p.close, p.volume]))
            })
            .collect();
        assert!(!want.is_empty(), "{source}");
        assert_eq!(read, want, "{source}: ccxt and the stand-in's own candles differ");
    }
}

/// Bitstamp's OHLC reference: when both `start` and `end` are sent, `end`
/// is used, so the answer is the `limit` candles up to `end`, not from
/// `start` (which is why the declaration pages backward).
#[test]
fn the_bitstamp_stand_in_answers_up_to_end_when_start_is_sent_too() {
    let server = Server::start("127.0.0.1:0", ServerOptions::default()).unwrap();
    // start 2020-01-01, end 2020-03-01 (a leap year: Feb 29 is in).
    let url = format!("{}/api/v2/ohlc/btcusd/?step=86400&limit=3&start=1577836800&end=1583020800", server.url());
    let text = ureq::get(&url).call().expect("request").body_mut().read_to_string().expect("a body");
    let body: serde_json::Value = serde_json::from_str(&text).expect("json");
    let times: Vec<&str> = body["data"]["ohlc"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["timestamp"].as_str().expect("a timestamp"))
        .collect();
    assert_eq!(times, ["1582848000", "1582934400", "1583020800"]);
}
