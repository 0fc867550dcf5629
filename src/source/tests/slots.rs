//! Each built-in exchange below a day: its request at two intervals as its
//! API documents it, its answers proved slot by slot, and the intervals it
//! lacks refused naming those it has.

use super::*;

const M1: Interval = Interval::M1;
const H1: Interval = Interval::H1;

/// The request each built-in sends for `count` candles from `from`.
fn request(name: &str, symbol: &str, interval: Interval, from: &str, count: i64) -> String {
    let first = interval.slot_of_ms(at(from));
    builtin(name, "http://h").request_slots(name, symbol, interval, first, first + count - 1)
}

#[test]
fn each_builtin_asks_for_candles_below_a_day_with_its_own_query() {
    // 2020-01-01T02:00Z = 1577844000 s.
    for (name, symbol, interval, count, want) in [
        ("binance", "BTCUSDT", M1, 1000, "GET http://h/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1577844000000&endTime=1577903940000&limit=1000"),
        ("binance", "BTCUSDT", H1, 24, "GET http://h/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=1577844000000&endTime=1577926800000&limit=24"),
        ("coinbase", "BTC-USD", M1, 300, "GET http://h/products/BTC-USD/candles?granularity=60&start=2020-01-01T02%3A00%3A00Z&end=2020-01-01T06%3A59%3A59Z"),
        ("coinbase", "BTC-USD", Interval::H6, 4, "GET http://h/products/BTC-USD/candles?granularity=21600&start=2020-01-01T00%3A00%3A00Z&end=2020-01-01T23%3A59%3A59Z"),
        ("kraken", "XBTUSD", M1, 10, "GET http://h/0/public/OHLC?pair=XBTUSD&interval=1&since=1577843940"),
        ("kraken", "XBTUSD", Interval::H4, 6, "GET http://h/0/public/OHLC?pair=XBTUSD&interval=240&since=1577822400"),
        ("bitstamp", "btcusd", M1, 1000, "GET http://h/api/v2/ohlc/btcusd/?step=60&limit=1000&start=1577844000&end=1577903940&exclude_current_candle=true"),
        ("bitstamp", "btcusd", Interval::M3, 20, "GET http://h/api/v2/ohlc/btcusd/?step=180&limit=20&start=1577844000&end=1577847420&exclude_current_candle=true"),
        ("bitfinex", "tBTCUSD", M1, 10000, "GET http://h/v2/candles/trade:1m:tBTCUSD/hist?start=1577844000000&end=1578443940000&limit=10000&sort=1"),
        ("bitfinex", "tBTCUSD", Interval::H3, 8, "GET http://h/v2/candles/trade:3h:tBTCUSD/hist?start=1577836800000&end=1577912400000&limit=8&sort=1"),
        ("okx", "BTC-USDT", M1, 100, "GET http://h/api/v5/market/history-candles?instId=BTC-USDT&bar=1m&after=1577850000000&before=1577843940000&limit=100"),
        ("okx", "BTC-USDT", H1, 24, "GET http://h/api/v5/market/history-candles?instId=BTC-USDT&bar=1H&after=1577930400000&before=1577840400000&limit=24"),
        ("okx", "BTC-USDT", Interval::H6, 4, "GET http://h/api/v5/market/history-candles?instId=BTC-USDT&bar=6Hutc&after=1577923200000&before=1577815200000&limit=4"),
    ] {
        let from = if interval > H1 { "2020-01-01T00:00" } else { "2020-01-01T02:00" };
        assert_eq!(request(name, symbol, interval, from, count), want, "{name} at {interval}");
    }
}

#[test]
fn each_builtin_serves_the_intervals_its_api_documents() {
    let decls = Declarations::builtin();
    for (name, has) in [
        ("binance", "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d"),
        ("coinbase", "1m, 5m, 15m, 1h, 6h, 1d"),
        ("kraken", "1m, 5m, 15m, 30m, 1h, 4h, 1d"),
        ("bitstamp", "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d"),
        ("bitfinex", "1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d"),
        ("okx", "1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 12h, 1d"),
        ("cryptodb", "1d"),
    ] {
        let source = builtin(name, "http://h");
        assert_eq!(Interval::list(&source.intervals()), has, "{name}");
        assert!(decls.get(name).is_some());
    }
    for (name, rows, days) in [
        ("binance", 1000, 1000),
        ("coinbase", 300, 299),
        ("kraken", 720, 720),
        ("bitstamp", 1000, 1000),
        ("bitfinex", 10000, 1000),
        ("okx", 100, 100),
        ("cryptodb", 1, 1),
    ] {
        let source = builtin(name, "http://h");
        assert_eq!((source.max_rows(M1), source.max_rows(Interval::D1)), (rows, days), "{name}");
    }
}

#[test]
fn an_interval_a_source_lacks_is_refused_naming_those_it_has() {
    for (name, lacks, has) in [
        ("coinbase", Interval::H4, "it serves 1m, 5m, 15m, 1h, 6h, 1d"),
        ("kraken", Interval::M3, "it serves 1m, 5m, 15m, 30m, 1h, 4h, 1d"),
        ("binance", Interval::H3, "it serves 1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d"),
        ("bitfinex", Interval::H8, "it serves 1m, 5m, 15m, 30m, 1h, 3h, 6h, 12h, 1d"),
        ("cryptodb", H1, "it serves 1d"),
    ] {
        let (got, seen) = fetch_slots(name, "X", lacks, "2020-01-01T00:00", 2, later(), vec![]);
        match got {
            Err(FetchError::Permanent(m)) => {
                assert!(m.contains(&format!("{name} serves no {lacks} candles")) && m.ends_with(has), "{m}")
            }
            other => panic!("{name} at {lacks}: {other:?}"),
        }
        assert!(seen.is_empty(), "nothing asked");
    }
}

/// A Binance kline at `t` (ms) of `interval`.
fn binance_kline(t: i64, interval: Interval, close: &str) -> String {
    format!(r#"[{t},"7000.0","7500.0","6900.0","{close}","12.5",{},"1000","10","1","1","0"]"#, t + interval.ms() - 1)
}

#[test]
fn binance_minutes_a_gap_inside_a_page_is_no_data_and_a_capped_page_is_cut() {
    let t0 = at("2020-01-01T02:00");
    // Minutes 0, 1 and 3 of five: 2 lies between rows, 4 after the last.
    let rows: Vec<String> = [0, 1, 3].iter().map(|i| binance_kline(t0 + i * 60_000, M1, &format!("71{i}0"))).collect();
    let (got, seen) = fetch_slots(
        "binance",
        "BTCUSDT",
        M1,
        "2020-01-01T02:00",
        5,
        later(),
        vec![ok(&format!("[{}]", rows.join(",")))],
    );
    assert_eq!(short_slots(&got.unwrap()), ["7100", "7110", "none", "7130", "?"]);
    assert!(
        seen[0].starts_with(&format!(
            "GET /api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={t0}&endTime={}&limit=5 ",
            t0 + 4 * 60_000
        )),
        "{}",
        seen[0]
    );
    // 2500 minutes: one request of 1000 from the first, the rest cut.
    let page: Vec<String> = (0..1000).map(|i| binance_kline(t0 + i * 60_000, M1, "7000")).collect();
    let (got, seen) = fetch_slots(
        "binance",
        "BTCUSDT",
        M1,
        "2020-01-01T02:00",
        2500,
        later(),
        vec![ok(&format!("[{}]", page.join(",")))],
    );
    let got = got.unwrap();
    assert_eq!(got.slots.len(), 2500);
    assert!(got.slots[..1000].iter().all(|(_, a)| matches!(a, DayAnswer::Price(_))));
    assert!(short_slots(&got)[1000..].iter().all(|a| a == "?"));
    assert!(seen[0].contains("limit=1000"), "{}", seen[0]);
    let first = M1.slot_of_ms(t0);
    assert_eq!((got.slots[0].0, got.slots[2499].0), (first, first + 2499), "every slot once, in order");
}

#[test]
fn binance_hours_off_the_boundary_are_refused_and_the_current_one_is_open() {
    let t0 = at("2020-01-01T00:00");
    // 02:30 is no hour's open: the 02:00 candle is refused, not guessed.
    let rows = [
        binance_kline(t0, H1, "7000"),
        binance_kline(t0 + 3_600_000, H1, "7100"),
        binance_kline(t0 + 9_000_000, H1, "7200"),
        binance_kline(t0 + 3 * 3_600_000, H1, "7300"),
    ];
    let now = t0 + 3 * 3_600_000 + 600_000; // 03:10: the 03:00 candle has not closed
    let (got, _) =
        fetch_slots("binance", "BTCUSDT", H1, "2020-01-01T00:00", 4, now, vec![ok(&format!("[{}]", rows.join(",")))]);
    let got = short_slots(&got.unwrap());
    assert_eq!(got[..2], ["7000", "7100"]);
    assert!(
        got[2].contains("the row at 2020-01-01T02:30:00Z is not the start of a 1h candle")
            && got[2].contains("candle at 2020-01-01T02:00Z"),
        "{got:?}"
    );
    assert_eq!(got[3], "open");
}

#[test]
fn binance_a_day_in_one_request_of_hours_and_rows_outside_refused() {
    // 1h over three days: 72 candles in one request.
    let t0 = at("2020-01-01T00:00");
    let rows: Vec<String> = (0..72).map(|i| binance_kline(t0 + i * 3_600_000, H1, "7000")).collect();
    let (got, seen) = fetch_slots(
        "binance",
        "BTCUSDT",
        H1,
        "2020-01-01T00:00",
        72,
        later(),
        vec![ok(&format!("[{}]", rows.join(",")))],
    );
    assert_eq!(short_slots(&got.unwrap()), vec!["7000"; 72]);
    assert_eq!(seen.len(), 1);
    // A server that ignores the range: its rows, all later, are refused.
    let late: Vec<String> = (0..3).map(|i| binance_kline(at("2020-06-01T00:00") + i * 3_600_000, H1, "1")).collect();
    let (got, _) = fetch_slots(
        "binance",
        "BTCUSDT",
        H1,
        "2020-01-01T00:00",
        3,
        later(),
        vec![ok(&format!("[{}]", late.join(",")))],
    );
    assert!(
        matches!(&got, Err(FetchError::Permanent(m)) if m.contains("fall outside the 1h candles asked (2020-01-01T00:00Z to 2020-01-01T02:00Z)")),
        "{got:?}"
    );
}

#[test]
fn coinbase_minutes_newest_first_with_a_gap_and_one_before_start() {
    let row = |t: i64, c: f64| format!("[{},{},{},{},{c},3.5]", t / 1000, c - 10.0, c + 10.0, c - 1.0);
    let t0 = at("2020-01-01T02:00");
    // Newest first; 02:02 has no ticks; 01:59 precedes `start`, as the page warns.
    let body = format!(
        "[{},{},{},{}]",
        row(t0 + 180_000, 7300.0),
        row(t0 + 60_000, 7100.0),
        row(t0, 7000.0),
        row(t0 - 60_000, 6900.0)
    );
    let (got, seen) = fetch_slots("coinbase", "BTC-USD", M1, "2020-01-01T02:00", 4, later(), vec![ok(&body)]);
    assert_eq!(short_slots(&got.unwrap()), ["7000", "7100", "none", "7300"]);
    assert!(
        seen[0].starts_with(
            "GET /products/BTC-USD/candles?granularity=60&start=2020-01-01T02%3A00%3A00Z&end=2020-01-01T02%3A03%3A59Z "
        ),
        "{}",
        seen[0]
    );
    // 301 minutes: one request of 300, the newest minute cut (Coinbase pages forward here).
    let rows: Vec<String> = (0..300).rev().map(|i| row(t0 + i * 60_000, 7000.0)).collect();
    let (got, seen) = fetch_slots(
        "coinbase",
        "BTC-USD",
        M1,
        "2020-01-01T02:00",
        301,
        later(),
        vec![ok(&format!("[{}]", rows.join(",")))],
    );
    let got = short_slots(&got.unwrap());
    assert!(got[..300].iter().all(|a| a == "7000") && got[300] == "?", "{:?}", &got[298..]);
    assert!(seen[0].contains("end=2020-01-01T06%3A59%3A59Z"), "{}", seen[0]);
}

fn kraken_rows(times: &[i64]) -> String {
    let rows: Vec<String> = times
        .iter()
        .map(|t| format!(r#"[{},"7000.0","7600.0","6900.0","7100","7300.0","42.5",900]"#, t / 1000))
        .collect();
    format!(
        r#"{{"error":[],"result":{{"XXBTZUSD":[{}],"last":{}}}}}"#,
        rows.join(","),
        times.last().unwrap_or(&0) / 1000
    )
}

#[test]
fn kraken_minutes_older_than_its_720_are_outside_its_history_and_its_last_is_open() {
    // 12:00:30: the current minute is 12:00, and the oldest kept 00:01.
    let now = at("2020-01-01T12:00") + 30_000;
    let (got, seen) = fetch_slots("kraken", "XBTUSD", M1, "2020-01-01T00:00", 1, now, vec![]);
    assert_eq!(short_slots(&got.unwrap()), ["old"]);
    assert!(seen.is_empty(), "nothing asked");
    // 23:58 of the day before to 00:02: three outside, asked from 00:01; its
    // answer runs to the current minute, the last row open.
    let times: Vec<i64> = (1..=720).map(|i| at("2020-01-01T00:00") + i * 60_000).collect();
    let (got, seen) = fetch_slots("kraken", "XBTUSD", M1, "2019-12-31T23:58", 5, now, vec![ok(&kraken_rows(&times))]);
    assert_eq!(short_slots(&got.unwrap()), ["old", "old", "old", "7100", "7100"]);
    assert!(seen[0].contains(&format!("interval=1&since={}", at("2020-01-01T00:00") / 1000)), "{}", seen[0]);
    let (got, _) = fetch_slots("kraken", "XBTUSD", M1, "2020-01-01T11:59", 2, now, vec![ok(&kraken_rows(&times))]);
    assert_eq!(short_slots(&got.unwrap()), ["7100", "open"]);
    // At 1h the same 720 reach 30 days back.
    let source = builtin("kraken", "http://h");
    assert_eq!(source.oldest_slot(H1, now), Some(H1.slot_of_ms(now) - 719));
}

#[test]
fn okx_hours_page_backward_from_the_last_and_cut_the_oldest() {
    let t0 = at("2020-01-01T00:00");
    // 150 hours asked: the newest 100 in one request, the oldest 50 cut.
    let rows: Vec<String> = (50..150).rev().map(|i| okx_row(t0 + i * 3_600_000, "7000", "1")).collect();
    let body = format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, rows.join(","));
    let (got, seen) = fetch_slots("okx", "BTC-USDT", H1, "2020-01-01T00:00", 150, later(), vec![ok(&body)]);
    let got = short_slots(&got.unwrap());
    assert!(got[..50].iter().all(|a| a == "?") && got[50..].iter().all(|a| a == "7000"), "{got:?}");
    let (after, before) = (t0 + 150 * 3_600_000, t0 + 49 * 3_600_000);
    assert!(seen[0].contains(&format!("bar=1H&after={after}&before={before}&limit=100")), "{}", seen[0]);
}

#[test]
fn bitstamp_and_bitfinex_minutes_page_their_own_ways() {
    let t0 = at("2020-01-01T00:00");
    // Bitstamp: `end` wins, so a short page is the newest rows.
    let row = |t: i64| {
        format!(
            r#"{{"timestamp":"{}","open":"7000","high":"7600","low":"6900","close":"7100","volume":"1"}}"#,
            t / 1000
        )
    };
    let rows: Vec<String> = (3..5).map(|i| row(t0 + i * 300_000)).collect();
    let body = format!(r#"{{"data":{{"pair":"BTC/USD","ohlc":[{}]}}}}"#, rows.join(","));
    let (got, seen) = fetch_slots("bitstamp", "btcusd", Interval::M5, "2020-01-01T00:00", 5, later(), vec![ok(&body)]);
    assert_eq!(short_slots(&got.unwrap()), ["?", "?", "?", "7100", "7100"]);
    assert!(seen[0].contains("step=300&limit=5&start=1577836800&end=1577838000"), "{}", seen[0]);
    // Bitfinex: 10000 minutes a request, forward.
    let rows: Vec<String> = (0..10_000).map(|i| format!("[{},7000,7100,7600,6900,1]", t0 + i * 60_000)).collect();
    let (got, seen) = fetch_slots(
        "bitfinex",
        "tBTCUSD",
        M1,
        "2020-01-01T00:00",
        10_001,
        later(),
        vec![ok(&format!("[{}]", rows.join(",")))],
    );
    let got = short_slots(&got.unwrap());
    assert!(got[..10_000].iter().all(|a| a == "7100") && got[10_000] == "?");
    assert!(seen[0].contains("trade:1m:tBTCUSD/hist?") && seen[0].contains("limit=10000&sort=1"), "{}", seen[0]);
}

fn okx_row(at: i64, close: &str, confirm: &str) -> String {
    format!(r#"["{at}","7000","7600","6900","{close}","10","70000","70000","{confirm}"]"#)
}

#[test]
fn the_requests_docs_sources_md_shows_below_a_day_are_those_sent() {
    let doc = include_str!("../../../docs/sources.md");
    for (name, symbol) in [
        ("binance", "BTCUSDT"),
        ("coinbase", "BTC-USD"),
        ("kraken", "XBTUSD"),
        ("bitstamp", "btcusd"),
        ("bitfinex", "tBTCUSD"),
        ("okx", "BTC-USDT"),
    ] {
        let sent = request(name, symbol, H1, "2020-01-01T02:00", 24);
        let path = sent.strip_prefix("GET http://h").unwrap();
        assert!(doc.contains(&format!("`{path}`")), "{name}: {path} is not in docs/sources.md");
    }
}

#[test]
fn today_s_candles_not_yet_open_are_not_asked_and_not_left_for_another_page() {
    // 05:10 on the day: Binance's 1m day asks up to the current minute, the
    // rest of the day is not closed, not cut.
    let t0 = at("2020-01-01T00:00");
    let now = at("2020-01-01T05:10") + 5_000;
    let rows: Vec<String> = (0..=310).map(|i| binance_kline(t0 + i * 60_000, M1, "7000")).collect();
    let (got, seen) = fetch_slots(
        "binance",
        "BTCUSDT",
        M1,
        "2020-01-01T00:00",
        1440,
        now,
        vec![ok(&format!("[{}]", rows.join(",")))],
    );
    let got = short_slots(&got.unwrap());
    assert!(got[..310].iter().all(|a| a == "7000") && got[310..].iter().all(|a| a == "open"), "{:?}", &got[305..315]);
    assert!(seen[0].contains(&format!("endTime={}&limit=311", at("2020-01-01T05:10"))), "{}", seen[0]);
    // Nothing open yet: no request at all.
    let (got, seen) = fetch_slots("okx", "BTC-USDT", M1, "2020-01-01T06:00", 60, now, vec![]);
    assert_eq!(short_slots(&got.unwrap()), vec!["open"; 60]);
    assert!(seen.is_empty());
}

#[test]
fn the_last_closed_candle_is_asked_with_the_current_one_whose_row_proves_it_quiet() {
    // 00:10:05: minutes 0 to 9 have closed; 9 had no trade, 10 is open.
    let t0 = at("2020-01-01T00:00");
    let now = t0 + 10 * 60_000 + 5_000;
    let rows: Vec<String> = (0..=10).filter(|i| *i != 9).map(|i| binance_kline(t0 + i * 60_000, M1, "7000")).collect();
    let body = format!("[{}]", rows.join(","));
    let (got, seen) = fetch_slots("binance", "BTCUSDT", M1, "2020-01-01T00:00", 10, now, vec![ok(&body)]);
    let got = got.unwrap();
    assert_eq!(got.slots.len(), 10, "the current minute is asked, not answered");
    assert_eq!(short_slots(&got)[8..], ["7000", "none"]);
    assert!(seen[0].contains(&format!("endTime={}&limit=11", t0 + 10 * 60_000)), "{}", seen[0]);
    // A page with no room for it is asked as it is: the last minute unproven.
    let rows: Vec<String> =
        (0..1000).filter(|i| *i != 999).map(|i| binance_kline(t0 + i * 60_000, M1, "7000")).collect();
    let now = t0 + 1000 * 60_000 + 5_000;
    let (got, seen) = fetch_slots(
        "binance",
        "BTCUSDT",
        M1,
        "2020-01-01T00:00",
        1000,
        now,
        vec![ok(&format!("[{}]", rows.join(",")))],
    );
    assert_eq!(short_slots(&got.unwrap())[999], "?");
    assert!(seen[0].contains("limit=1000"), "{}", seen[0]);
}
