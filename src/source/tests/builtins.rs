//! Each built-in source against its real API's documented answers.

use super::*;

#[test]
fn every_builtin_parses_and_its_text_gives_it_back() {
    let decls = Declarations::builtin();
    for name in ["binance", "coinbase", "kraken", "bitstamp", "bitfinex", "okx", "cryptodb"] {
        assert!(decls.is_builtin(name), "{name}");
        let text = decls.text(name).unwrap();
        let again = Declarations::parse(&text, "stored").unwrap_or_else(|e| panic!("{name}: {e:#}\n{text}"));
        assert_eq!(again.get(name), decls.get(name), "{name}");
        assert!(decls.variables(name).is_empty(), "{name} needs no secret");
    }
    assert!(decls.is_builtin("cryptodb"));
    assert!(decls.names().contains(&"cryptodb".to_string()));
}

#[test]
fn each_builtin_asks_for_a_range_with_its_own_query() {
    let (first, last) = (day("2020-01-01"), day("2020-01-10"));
    for (name, symbol, want) in [
        ("binance", "BTCUSDT", "GET http://h/api/v3/klines?symbol=BTCUSDT&interval=1d&startTime=1577836800000&endTime=1578614400000&limit=10"),
        ("coinbase", "BTC-USD", "GET http://h/products/BTC-USD/candles?granularity=86400&start=2020-01-01T00%3A00%3A00Z&end=2020-01-10T23%3A59%3A59Z"),
        ("kraken", "XBTUSD", "GET http://h/0/public/OHLC?pair=XBTUSD&interval=1440&since=1577750400"),
        ("bitstamp", "btcusd", "GET http://h/api/v2/ohlc/btcusd/?step=86400&limit=10&start=1577836800&end=1578614400&exclude_current_candle=true"),
        ("bitfinex", "tBTCUSD", "GET http://h/v2/candles/trade:1D:tBTCUSD/hist?start=1577836800000&end=1578614400000&limit=10&sort=1"),
        ("okx", "BTC-USDT", "GET http://h/api/v5/market/history-candles?instId=BTC-USDT&bar=1Dutc&after=1578700800000&before=1577750400000&limit=10"),
    ] {
        assert_eq!(builtin(name, "http://h").request(name, symbol, first, last), want, "{name}");
    }
}

#[test]
fn binance_pages_gaps_young_pairs_and_early_ends() {
    let body = format!(
        "[{},{},{}]",
        binance_row("2020-01-01", "7100"),
        binance_row("2020-01-02", "7200"),
        binance_row("2020-01-04", "7400")
    );
    let (got, seen) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-06", later(), vec![ok(&body)]);
    assert_eq!(short(&got.unwrap()), ["7100", "7200", "none", "7400", "?", "?"]);
    assert!(
        seen[0].starts_with(
            "GET /api/v3/klines?symbol=BTCUSDT&interval=1d&startTime=1577836800000&endTime=1578268800000&limit=6 "
        ),
        "{}",
        seen[0]
    );
    // The next page, from the day after the last row: a row for the 6th
    // says nothing of the 5th (a young pair, or a page cut at its start)...
    let body = format!("[{}]", binance_row("2020-01-06", "7450"));
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-05", "2020-01-06", later(), vec![ok(&body)]);
    let got = got.unwrap();
    assert_eq!(short(&got), ["lacking", "7450"]);
    let DayAnswer::Unanswered(crate::source::Unproven::Lacking { why, .. }) = &got.days[0].1 else { panic!() };
    assert_eq!(why, "its rows start at 2020-01-06");
    // ...which an empty answer for exactly that day proves.
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-05", "2020-01-05", later(), vec![ok("[]")]);
    assert_eq!(short(&got.unwrap()), ["none"]);
}

#[test]
fn binance_today_is_not_closed_and_the_used_weight_slows_down() {
    let now = ms("2020-01-02") + 45 * 60_000 + 15_000; // 00:45:15 on the 2nd
    let body = format!("[{},{}]", binance_row("2020-01-01", "7100"), binance_row("2020-01-02", "7200"));
    let light = reply("200 OK", &[("X-MBX-USED-WEIGHT-1M", "120")], &body);
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", now, vec![light]);
    let got = got.unwrap();
    assert_eq!(short(&got), ["7100", "open"]);
    assert_eq!(got.slow_down, None);
    let heavy = reply("200 OK", &[("X-MBX-USED-WEIGHT-1M", "5500")], &body);
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", now, vec![heavy]);
    assert_eq!(got.unwrap().slow_down, Some(Duration::from_secs(45)), "until the next minute");
}

#[test]
fn binance_429_418_and_unknown_symbols() {
    let limited =
        reply("429 Too Many Requests", &[("Retry-After", "7")], r#"{"code":-1003,"msg":"Too many requests."}"#);
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", later(), vec![limited]);
    assert!(matches!(got, Err(FetchError::RateLimited { retry_after: Some(d), .. }) if d == Duration::from_secs(7)));
    let banned = reply(
        "418 I'm a teapot",
        &[("Retry-After", "120")],
        r#"{"code":-1003,"msg":"Way too many requests; IP banned."}"#,
    );
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", later(), vec![banned]);
    assert!(
        matches!(got, Err(FetchError::Banned { retry_after: Some(d), .. }) if d == Duration::from_secs(120)),
        "{got:?}"
    );
    let unknown = reply("400 Bad Request", &[], r#"{"code":-1121,"msg":"Invalid symbol."}"#);
    let (got, _) = fetch("binance", "BTCXXX", "2020-01-01", "2020-01-02", later(), vec![unknown]);
    assert!(
        matches!(&got, Err(FetchError::Permanent(m)) if m.contains("\"BTCXXX\"") && m.contains("Invalid symbol")),
        "{got:?}"
    );
    let (got, _) = fetch(
        "binance",
        "BTCUSDT",
        "2020-01-01",
        "2020-01-02",
        later(),
        vec![reply("503 Service Unavailable", &[], "")],
    );
    // Busy, with no time to come back: worth another attempt, not a limit.
    assert!(matches!(&got, Err(FetchError::Transient(m)) if !m.contains("GET GET")), "{got:?}");
    let overloaded = r#"{"code":-1008,"msg":"Server is currently overloaded with other requests."}"#;
    for status in ["503 Service Unavailable", "200 OK"] {
        let (got, _) =
            fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", later(), vec![reply(status, &[], overloaded)]);
        assert!(matches!(&got, Err(FetchError::Transient(m)) if m.contains("-1008")), "{status}: {got:?}");
    }
    let paused = reply("503 Service Unavailable", &[("Retry-After", "3")], "");
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", later(), vec![paused]);
    assert!(matches!(got, Err(FetchError::RateLimited { retry_after: Some(_), .. })), "{got:?}");
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-01", "2020-01-02", later(), vec![ok("[[1577836800000,")]);
    assert!(matches!(got, Err(FetchError::Transient(_))), "a cut body is worth another attempt: {got:?}");
}

#[test]
fn binance_lists_its_symbols() {
    let body = r#"{"timezone":"UTC","symbols":[{"symbol":"ETHBTC","status":"TRADING"},{"symbol":"BTCUSDT"}]}"#;
    let (url, seen) = serve(vec![ok(body)]);
    assert_eq!(builtin("binance", &url).symbols().unwrap(), ["ETHBTC", "BTCUSDT"]);
    assert!(seen.lock().unwrap()[0].starts_with("GET /api/v3/exchangeInfo "));
    assert_eq!(builtin("binance", &url).exchanges().unwrap(), ["binance"]);
}

#[test]
fn coinbase_reads_newest_first_rows_and_ignores_one_before_start() {
    let row = |d: &str, c: f64| format!("[{},{},{},{},{c},3.5]", ms(d) / 1000, c - 10.0, c + 10.0, c - 1.0);
    let body = format!("[{},{},{}]", row("2020-01-03", 7300.0), row("2020-01-01", 7100.0), row("2019-12-31", 7000.0));
    let (got, _) = fetch("coinbase", "BTC-USD", "2020-01-01", "2020-01-03", later(), vec![ok(&body)]);
    let got = got.unwrap();
    assert_eq!(short(&got), ["7100", "none", "7300"]);
    let DayAnswer::Price(p) = got.days[0].1 else { panic!() };
    assert_eq!(
        (p.low, p.high, p.open, p.volume),
        (7090.0, 7110.0, 7099.0, 3.5),
        "[time, low, high, open, close, volume]"
    );
    let wrong_order = format!("[{},{}]", row("2020-01-01", 7100.0), row("2020-01-03", 7300.0));
    let (got, _) = fetch("coinbase", "BTC-USD", "2020-01-01", "2020-01-03", later(), vec![ok(&wrong_order)]);
    assert!(matches!(&got, Err(FetchError::Permanent(m)) if m.contains("not newest first")), "{got:?}");
    let (got, _) = fetch(
        "coinbase",
        "XXX-USD",
        "2020-01-01",
        "2020-01-03",
        later(),
        vec![reply("404 Not Found", &[], r#"{"message":"NotFound"}"#)],
    );
    assert!(matches!(&got, Err(FetchError::Permanent(m)) if m.contains("\"XXX-USD\"")), "{got:?}");
    let (got, _) = fetch(
        "coinbase",
        "BTC-USD",
        "2020-01-01",
        "2020-01-03",
        later(),
        vec![reply("429 Too Many Requests", &[], r#"{"message":"Public rate limit exceeded"}"#)],
    );
    assert!(matches!(got, Err(FetchError::RateLimited { .. })), "{got:?}");
    let (got, _) = fetch(
        "coinbase",
        "BTC-USD",
        "2020-01-01",
        "2020-01-03",
        later(),
        vec![reply("500 Internal Server Error", &[], r#"{"message":"Internal server error"}"#)],
    );
    assert!(matches!(got, Err(FetchError::Transient(_))), "the status decides when the body names nothing: {got:?}");
}

fn kraken_body(rows: &[(&str, &str)]) -> String {
    let rows: Vec<String> = rows
        .iter()
        .map(|(d, c)| format!(r#"[{},"7000.0","7600.0","6900.0","{c}","7300.0","42.5",900]"#, ms(d) / 1000))
        .collect();
    format!(r#"{{"error":[],"result":{{"XXBTZUSD":[{}],"last":{}}}}}"#, rows.join(","), ms("2020-01-04") / 1000)
}

#[test]
fn kraken_takes_the_one_array_beside_last_and_its_last_row_is_open() {
    let now = ms("2020-01-04") + 3_600_000;
    let body =
        kraken_body(&[("2020-01-01", "7100"), ("2020-01-02", "7200"), ("2020-01-03", "7300"), ("2020-01-04", "7400")]);
    let (got, _) = fetch("kraken", "XBTUSD", "2020-01-02", "2020-01-04", now, vec![ok(&body)]);
    let got = got.unwrap();
    assert_eq!(short(&got), ["7200", "7300", "open"]);
    let DayAnswer::Price(p) = got.days[0].1 else { panic!() };
    assert_eq!(p.volume, 42.5, "the volume, not the vwap");
}

#[test]
fn kraken_days_older_than_720_are_outside_its_history_without_asking() {
    let now = ms("2022-01-01") + 3_600_000; // 720 days with today: the oldest is 2020-01-13
    let (got, seen) = fetch("kraken", "XBTUSD", "2020-01-01", "2020-01-05", now, vec![]);
    assert_eq!(short(&got.unwrap()), ["old"; 5]);
    assert!(seen.is_empty(), "nothing asked");
    // Its answer ends with today's candle, as Kraken's always does (the
    // last row is the open one, whatever its day).
    let body = kraken_body(&[("2020-01-13", "7100"), ("2020-01-14", "7200"), ("2022-01-01", "9000")]);
    let (got, seen) = fetch("kraken", "XBTUSD", "2020-01-11", "2020-01-14", now, vec![ok(&body)]);
    assert_eq!(short(&got.unwrap()), ["old", "old", "7100", "7200"]);
    assert!(
        seen[0].contains(&format!("since={}", ms("2020-01-12") / 1000)),
        "asked from the oldest day it has: {}",
        seen[0]
    );
}

#[test]
fn kraken_errors_arrive_in_the_body() {
    let body = |e: &str| ok(&format!(r#"{{"error":["{e}"]}}"#));
    for (e, limited) in [("EAPI:Rate limit exceeded", true), ("EGeneral:Temporary lockout", true)] {
        let (got, _) = fetch("kraken", "XBTUSD", "2020-01-01", "2020-01-02", later(), vec![body(e)]);
        assert_eq!(matches!(got, Err(FetchError::RateLimited { .. })), limited, "{e}: {got:?}");
    }
    let (got, _) =
        fetch("kraken", "NOPE", "2020-01-01", "2020-01-02", later(), vec![body("EQuery:Unknown asset pair")]);
    assert!(
        matches!(&got, Err(FetchError::Permanent(m)) if m.contains("\"NOPE\"") && m.contains("Unknown asset pair")),
        "{got:?}"
    );
    // Busy, or the server's own error: worth another attempt
    // (https://docs.kraken.com/api/docs/guides/spot-errors).
    for e in ["EService:Unavailable", "EService:Busy", "EService:Deadline elapsed", "EGeneral:Internal error"] {
        let (got, _) = fetch("kraken", "XBTUSD", "2020-01-01", "2020-01-02", later(), vec![body(e)]);
        assert!(matches!(&got, Err(FetchError::Transient(m)) if m.contains(e)), "{e}: {got:?}");
    }
    // A throttle is a limit, though it starts like the service errors.
    let (got, _) =
        fetch("kraken", "XBTUSD", "2020-01-01", "2020-01-02", later(), vec![body("EService: Throttled: 1700000000")]);
    assert!(matches!(got, Err(FetchError::RateLimited { retry_after: None, .. })), "{got:?}");
}

#[test]
fn kraken_s_last_row_is_open_whatever_its_day() {
    // A Kraken that lags: its last row, by its documentation the current
    // candle, is a day long ended by the clock. Not a price.
    let body = kraken_body(&[("2020-01-01", "7100"), ("2020-01-02", "7200"), ("2020-01-03", "7300")]);
    let (got, _) = fetch("kraken", "XBTUSD", "2020-01-01", "2020-01-03", later(), vec![ok(&body)]);
    assert_eq!(short(&got.unwrap()), ["7100", "7200", "open"]);
}

#[test]
fn bitstamp_reads_string_objects_and_refuses_two_rows_for_a_day() {
    let row = |d: &str, c: &str| {
        format!(
            r#"{{"timestamp":"{}","open":"7000","high":"7600","low":"6900","close":"{c}","volume":"5.25"}}"#,
            ms(d) / 1000
        )
    };
    let body = format!(
        r#"{{"data":{{"pair":"BTC/USD","ohlc":[{},{},{},{}]}}}}"#,
        row("2020-01-01", "7100"),
        row("2020-01-02", "7200"),
        row("2020-01-02", "7250"),
        row("2020-01-03", "7300")
    );
    let (got, _) = fetch("bitstamp", "btcusd", "2020-01-01", "2020-01-03", later(), vec![ok(&body)]);
    let got = short(&got.unwrap());
    assert_eq!(got[0], "7100");
    assert!(got[1].starts_with("refused: two different rows for 2020-01-02"), "{got:?}");
    assert_eq!(got[2], "7300");
}

#[test]
fn bitfinex_has_close_before_high_and_its_own_rate_limit() {
    let body =
        format!("[[{},7000,7100,7600,6900,12.5],[{},7100,7300,7400,7000,3]]", ms("2020-01-01"), ms("2020-01-03"));
    let (got, _) = fetch("bitfinex", "tBTCUSD", "2020-01-01", "2020-01-03", later(), vec![ok(&body)]);
    let got = got.unwrap();
    assert_eq!(short(&got), ["7100", "none", "7300"]);
    let DayAnswer::Price(p) = got.days[0].1 else { panic!() };
    assert_eq!((p.open, p.close, p.high, p.low, p.volume), (7000.0, 7100.0, 7600.0, 6900.0, 12.5));
    for limited in [r#"["error",11010,"ratelimit: error"]"#, r#"{"error":"ERR_RATE_LIMIT"}"#] {
        let (got, _) = fetch("bitfinex", "tBTCUSD", "2020-01-01", "2020-01-03", later(), vec![ok(limited)]);
        assert!(matches!(got, Err(FetchError::RateLimited { .. })), "{limited}: {got:?}");
    }
    // ⚠ Busy as clients have seen it, with 503 and with 200: another attempt.
    // Its 10020 is a parameter error: asking again does not mend it.
    let busy = r#"{"code":503,"error":"temporarily_unavailable","error_description":"unavailable"}"#;
    for status in ["503 Service Unavailable", "200 OK"] {
        let (got, _) =
            fetch("bitfinex", "tBTCUSD", "2020-01-01", "2020-01-03", later(), vec![reply(status, &[], busy)]);
        assert!(matches!(got, Err(FetchError::Transient(_))), "{status}: {got:?}");
    }
    let params = reply("500 Internal Server Error", &[], r#"["error",10020,"limit: invalid"]"#);
    let (got, _) = fetch("bitfinex", "tBTCUSD", "2020-01-01", "2020-01-03", later(), vec![params]);
    assert!(
        matches!(got, Err(FetchError::Transient(_))),
        "a 500 whose body names no pattern: the status decides: {got:?}"
    );
    let (url, _) = serve(vec![ok(r#"[["BTCUSD","ETHUSD","TESTBTC:TESTUSD"]]"#)]);
    assert_eq!(builtin("bitfinex", &url).symbols().unwrap(), ["tBTCUSD", "tETHUSD", "tTESTBTC:TESTUSD"]);
}

fn okx_row(at: i64, close: &str, confirm: &str) -> String {
    format!(r#"["{at}","7000","7600","6900","{close}","10","70000","70000","{confirm}"]"#)
}

#[test]
fn okx_pages_backward_and_its_unconfirmed_candle_is_open() {
    let now = ms("2020-01-05") + 60_000;
    let rows = [
        okx_row(ms("2020-01-05"), "7500", "0"),
        okx_row(ms("2020-01-04"), "7400", "1"),
        okx_row(ms("2020-01-03"), "7300", "1"),
    ];
    let body = format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, rows.join(","));
    let (got, _) = fetch("okx", "BTC-USDT", "2020-01-01", "2020-01-05", now, vec![ok(&body)]);
    assert_eq!(
        short(&got.unwrap()),
        ["?", "?", "7300", "7400", "open"],
        "a page anchored at the last day may start late"
    );
    let unconfirmed = format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, okx_row(ms("2020-01-04"), "7400", "0"));
    let (got, _) = fetch("okx", "BTC-USDT", "2020-01-04", "2020-01-04", later(), vec![ok(&unconfirmed)]);
    assert_eq!(short(&got.unwrap()), ["open"], "an ended day whose candle says unfinished");
}

#[test]
fn okx_hong_kong_days_are_refused() {
    let hk = |d: &str| okx_row(ms(d) - 8 * 3_600_000, "7300", "1"); // 1D: 16:00 UTC the day before
    let body = format!(r#"{{"code":"0","msg":"","data":[{},{}]}}"#, hk("2020-01-03"), hk("2020-01-02"));
    let (got, _) = fetch("okx", "BTC-USDT", "2020-01-01", "2020-01-02", later(), vec![ok(&body)]);
    let got = short(&got.unwrap());
    assert!(got[0].contains("2020-01-01T16:00:00Z is not the start of a UTC day"), "{got:?}");
    assert!(got[1].contains("2020-01-02T16:00:00Z"), "{got:?}");
}

#[test]
fn okx_codes_are_errors() {
    let code = |c: &str, m: &str| ok(&format!(r#"{{"code":"{c}","msg":"{m}","data":[]}}"#));
    let (got, _) =
        fetch("okx", "BTC-USDT", "2020-01-01", "2020-01-02", later(), vec![code("50011", "Too Many Requests")]);
    assert!(matches!(got, Err(FetchError::RateLimited { .. })), "{got:?}");
    let (got, _) = fetch(
        "okx",
        "NOPE-USDT",
        "2020-01-01",
        "2020-01-02",
        later(),
        vec![code("51001", "Instrument ID does not exist")],
    );
    assert!(matches!(&got, Err(FetchError::Permanent(m)) if m.contains("\"NOPE-USDT\"")), "{got:?}");
    let limited = reply("429 Too Many Requests", &[], r#"{"code":"50011","msg":"Too Many Requests"}"#);
    let (got, _) = fetch("okx", "BTC-USDT", "2020-01-01", "2020-01-02", later(), vec![limited]);
    assert!(matches!(got, Err(FetchError::RateLimited { .. })), "{got:?}");
    // Busy and the server's own errors, with the statuses OKX gives them
    // (https://web3.okx.com/onchainos/dev-docs/data/error): another attempt.
    for (status, c, m) in [
        ("200 OK", "50013", "System is busy, please try again later."),
        ("503 Service Unavailable", "50001", "Service temporarily unavailable, please try again later."),
        ("500 Internal Server Error", "50026", "System error."),
    ] {
        let answer = reply(status, &[], &format!(r#"{{"code":"{c}","msg":"{m}","data":[]}}"#));
        let (got, _) = fetch("okx", "BTC-USDT", "2020-01-01", "2020-01-02", later(), vec![answer]);
        assert!(matches!(&got, Err(FetchError::Transient(e)) if e.contains(c)), "{c}: {got:?}");
    }
}

#[test]
fn a_range_longer_than_one_request_leaves_the_rest_unanswered() {
    let rows: Vec<String> = (0..100).map(|i| okx_row(ms("2020-04-10") - i * 86_400_000, "7000", "1")).collect();
    let body = format!(r#"{{"code":"0","msg":"","data":[{}]}}"#, rows.join(","));
    let (got, seen) = fetch("okx", "BTC-USDT", "2020-01-01", "2020-04-10", later() + 100 * 86_400_000, vec![ok(&body)]);
    let got = short(&got.unwrap());
    assert_eq!(got.len(), 101);
    assert_eq!(got[0], "?", "OKX pages backward: the oldest day is left");
    assert!(got[1..].iter().all(|a| a == "7000"));
    assert!(seen[0].contains("limit=100"), "{}", seen[0]);
}
