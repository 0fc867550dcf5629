//! The built-in sources against their stand-ins in the built-in server,
//! as a user would fetch from them: every day the stand-in serves is
//! stored exactly, in the fewest requests a run of days allows, and a
//! second run asks for nothing.

use chrono::{Duration, NaiveDate, Utc};
use pricequeue::server::stand_ins;

use super::Sandbox;
use crate::common::day;

/// A built-in source, the path of its candle endpoint, and the most days
/// one request of it asks for.
struct Source {
    name: &'static str,
    candles: &'static str,
    max_days: i64,
}

const BINANCE: Source = Source { name: "binance", candles: "/api/v3/klines", max_days: 1000 };
const COINBASE: Source = Source { name: "coinbase", candles: "/products/", max_days: 300 };
const KRAKEN: Source = Source { name: "kraken", candles: "/0/public/OHLC", max_days: 720 };
const BITSTAMP: Source = Source { name: "bitstamp", candles: "/api/v2/ohlc/", max_days: 1000 };
// Its stand-in serves 10,000 rows; the declaration asks for 1000 at most.
const BITFINEX: Source = Source { name: "bitfinex", candles: "/v2/candles/", max_days: 1000 };
const OKX: Source = Source { name: "okx", candles: "/api/v5/market/history-candles", max_days: 100 };

/// Fetches `symbols` of `source` from `from` to `to`, then checks every
/// day against the stand-in's own data, and the requests made.
fn backfill(source: &Source, symbols: &[&str], from: NaiveDate, to: NaiveDate) {
    let Some(sb) = Sandbox::new() else { return };
    let list = symbols.join(",");
    let (first, last) = (from.to_string(), to.to_string());
    let args = ["fetch", "--source", source.name, "--symbol", &list, "--from", &first, "--to", &last, "-f", "json"];
    let out = sb.run(&args).expect_code(0);
    let summary = out.summary();
    assert_eq!(summary["failed"], 0, "{summary}");
    if stand_ins::history_days(source.name).is_some() {
        assert!(out.stderr.contains("outside the source's history"), "the summary counts them: {}", out.stderr);
        let outside = sb.count("SELECT count(*) FROM tasks WHERE state = 'outside_history'");
        assert!(outside > 0, "{summary}");
        assert_eq!(summary["outside_history"], outside, "{summary}");
    }

    let days = (to - from).num_days() + 1;
    let fewest = (days + source.max_days - 1) / source.max_days;
    let counts = sb.server.counts();
    for symbol in symbols {
        let asked: u64 =
            counts.iter().filter(|(p, _)| p.starts_with(source.candles) && p.contains(symbol)).map(|(_, n)| n).sum();
        // One more where an answer does not reach an end of its run: a pair
        // whose history starts inside the range (the days before its first
        // row asked again, for exactly them), or whose days without trades
        // fall at an end of a run, once a run.
        let gaps = stand_ins::pairs(source.name).iter().any(|p| p.symbol == *symbol && p.gaps);
        let allowed = if gaps { 2 * fewest + 1 } else { fewest + 1 };
        assert!(
            asked as i64 <= allowed,
            "{} {symbol}: {asked} candle requests for {days} days; the fewest possible is {fewest}",
            source.name
        );
    }
    // The latest n days, today included.
    let history = stand_ins::history_days(source.name).map(|n| Utc::now().date_naive() - Duration::days(n - 1));
    for symbol in symbols {
        let mut stored = 0;
        for d in from.iter_days().take_while(|d| *d <= to) {
            let state: String = sb.one(
                "SELECT state FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day = ?3",
                &[&source.name, symbol, &d],
            );
            let price: Option<[f64; 5]> = sb.row(
                "SELECT open, high, low, close, volume FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3",
                &[&source.name, symbol, &d],
            );
            let source_task: String = sb.one(
                "SELECT source FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day = ?3",
                &[&source.name, symbol, &d],
            );
            assert_eq!(source_task, source.name);
            if history.is_some_and(|h| d < h) {
                assert_eq!((state.as_str(), price), ("outside_history", None), "{} {symbol} {d}", source.name);
                continue;
            }
            match stand_ins::expected(source.name, symbol, d) {
                Some(p) => {
                    stored += 1;
                    assert_eq!(state, "done", "{} {symbol} {d}", source.name);
                    assert_eq!(price, Some([p.open, p.high, p.low, p.close, p.volume]), "{} {symbol} {d}", source.name);
                }
                None => {
                    assert_eq!((state.as_str(), price), ("no_data", None), "{} {symbol} {d}", source.name);
                }
            }
        }
        assert!(stored > 0, "{} {symbol}: nothing to compare", source.name);
        if let Some(first) = stand_ins::first_day(source.name, symbol).filter(|f| *f > from && *f <= to) {
            let before: i64 = sb.one(
                "SELECT count(*) FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day < ?3 AND state = 'no_data'",
                &[&source.name, symbol, &first],
            );
            assert!(before > 0, "{} {symbol}: the days before its history starts have no data", source.name);
        }
    }

    if history.is_some() {
        let out = sb.run(&["query", "--exchange", source.name, "--from", &first, "--to", &last, "--missing"]);
        assert!(out.stdout.contains("outside the source's history"), "{}", out.stdout);
    }

    // Again: everything is there, nothing is asked.
    let before = sb.server.requests_to(source.candles);
    sb.run(&args).expect_code(0);
    assert_eq!(sb.server.requests_to(source.candles), before, "{}: a second run asked again", source.name);
}

/// Three years, as the user asks for them.
fn three_years() -> (NaiveDate, NaiveDate) {
    (day("2019-01-01"), day("2021-12-31"))
}

#[test]
fn binance_three_years_a_young_pair_and_one_with_gaps_in_two_requests_each() {
    let (from, to) = three_years();
    backfill(&BINANCE, &["BTCUSDT", "ETHUSDT", "DOTUSDT", "ZECUSDT"], from, to);
}

#[test]
fn coinbase_three_years() {
    let (from, to) = three_years();
    backfill(&COINBASE, &["BTC-USD", "DOT-USD", "ZEC-USD"], from, to);
}

#[test]
fn kraken_serves_its_latest_720_days_and_says_the_rest_is_outside_its_history() {
    let today = Utc::now().date_naive();
    backfill(&KRAKEN, &["XBTUSD", "ZECUSD"], today - Duration::days(800), today - Duration::days(3));
}

#[test]
fn bitstamp_three_years() {
    let (from, to) = three_years();
    backfill(&BITSTAMP, &["btcusd", "dotusd", "xrpusd"], from, to);
}

#[test]
fn bitfinex_three_years() {
    let (from, to) = three_years();
    backfill(&BITFINEX, &["tBTCUSD", "tDOTUSD", "tZECUSD"], from, to);
}

#[test]
fn okx_three_years() {
    let (from, to) = three_years();
    backfill(&OKX, &["BTC-USDT", "DOT-USDT", "ZEC-USDT"], from, to);
}
