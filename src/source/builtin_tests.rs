//! The built-in declarations and the engine, against canned answers in each
//! provider's documented format, served by a tiny local server.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use super::declare::Declarations;
use super::engine::DeclaredSource;
use super::template::Secrets;
use super::{open, Answer, DayAnswer, FetchError, OpenError, PriceSource, Timeouts};

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ms(d: &str) -> i64 {
    day(d).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

/// A time long after the days these tests ask for.
fn later() -> i64 {
    ms("2020-02-01")
}

/// A server that answers one request per connection with `responses`, in
/// turn; the request heads it got are in the returned list.
fn serve(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for response in responses {
            let Ok((mut conn, _)) = listener.accept() else { return };
            let mut head = Vec::new();
            let mut buf = [0u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            log.lock().unwrap().push(String::from_utf8_lossy(&head).to_string());
            let _ = conn.write_all(response.as_bytes());
        }
    });
    (url, seen)
}

fn reply(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut r = format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    r
}

fn ok(body: &str) -> String {
    reply("200 OK", &[], body)
}

fn builtin(name: &str, server: &str) -> DeclaredSource {
    let decls = Declarations::builtin();
    DeclaredSource::new(name, decls.get(name).unwrap(), Some(server), Timeouts::default(), 1, Secrets::default())
        .unwrap()
}

/// Fetches `first..=last` of `symbol` from built-in `name`, answered with `responses`.
fn fetch(
    name: &str,
    symbol: &str,
    first: &str,
    last: &str,
    now: i64,
    responses: Vec<String>,
) -> (Result<Answer, FetchError>, Vec<String>) {
    let (url, seen) = serve(responses);
    let source = builtin(name, &url);
    let got = source.fetch_at(name, symbol, day(first), day(last), now);
    let seen = seen.lock().unwrap().clone();
    (got, seen)
}

/// Each day's answer, short: the close, `none`, `?`, `open`, `old` or `refused: why`.
fn short(answer: &Answer) -> Vec<String> {
    answer
        .days
        .iter()
        .map(|(_, a)| match a {
            DayAnswer::Price(p) => format!("{}", p.close),
            DayAnswer::NoData => "none".into(),
            DayAnswer::Unanswered => "?".into(),
            DayAnswer::NotClosed => "open".into(),
            DayAnswer::OutsideHistory => "old".into(),
            DayAnswer::Refused(w) => format!("refused: {w}"),
        })
        .collect()
}

fn binance_row(d: &str, close: &str) -> String {
    let t = ms(d);
    format!(r#"[{t},"7000.0","7500.0","6900.0","{close}","12.5",{},"1000","10","1","1","0"]"#, t + 86_399_999)
}

#[test]
fn every_builtin_parses_and_its_text_gives_it_back() {
    let decls = Declarations::builtin();
    for name in ["binance", "coinbase", "kraken", "bitstamp", "bitfinex", "okx"] {
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
        ("coinbase", "BTC-USD", "GET http://h/products/BTC-USD/candles?granularity=86400&start=2020-01-01T00%3A00%3A00Z&end=2020-01-11T00%3A00%3A00Z"),
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
    // The next page, from the day after the last row: a young pair's history
    // starting inside the range is no data before it.
    let body = format!("[{}]", binance_row("2020-01-06", "7450"));
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-05", "2020-01-06", later(), vec![ok(&body)]);
    assert_eq!(short(&got.unwrap()), ["none", "7450"]);
    let (got, _) = fetch("binance", "BTCUSDT", "2020-01-05", "2020-01-06", later(), vec![ok("[]")]);
    assert_eq!(short(&got.unwrap()), ["none", "none"]);
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
    assert!(matches!(got, Err(FetchError::RateLimited { .. })), "{got:?}");
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
    let body = kraken_body(&[("2020-01-13", "7100"), ("2020-01-14", "7200")]);
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
    let (got, _) = fetch("kraken", "XBTUSD", "2020-01-01", "2020-01-02", later(), vec![body("EService:Unavailable")]);
    assert!(matches!(got, Err(FetchError::Transient(_))), "{got:?}");
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

/// A declared source with a key in its URL and in a header.
const KEYED: &str = r#"
[stocks]
server = "http://127.0.0.1:9"
candles = "{server}/query?function=TIME_SERIES_DAILY&symbol={symbol}&apikey={env:PQ_TEST_STOCKS_KEY}"
max_days = 100
paging = "backward"
order = "newest_first"
per_minute = 5
headers = { "x-api-key" = "{env:PQ_TEST_STOCKS_KEY}" }

[stocks.rows]
keyed = "/Time Series (Daily)"
time_format = "date"
open = "1. open"
high = "2. high"
low = "3. low"
close = "4. close"
volume = "5. volume"

[[stocks.error]]
at = "/Note"
rate_limit = ["call frequency"]

[[stocks.error]]
at = "/Error Message"
unknown_symbol = ["Invalid API call"]
"#;

#[test]
fn secrets_are_sent_but_never_shown_stored_or_printed() {
    let decls = Declarations::parse(KEYED, "stocks.toml").unwrap();
    assert_eq!(decls.variables("stocks"), ["PQ_TEST_STOCKS_KEY"]);
    let missing = open("stocks", None, &decls, Timeouts::default(), 1).err().unwrap();
    assert_eq!(missing, OpenError::MissingSecret { source: "stocks".into(), variable: "PQ_TEST_STOCKS_KEY".into() });
    assert!(missing.to_string().contains("PQ_TEST_STOCKS_KEY"));

    let secret = "k3y-s3cr3t";
    let secrets = Secrets::from_lookup(&decls.variables("stocks"), |_| Some(secret.into())).unwrap();
    let body = r#"{"Meta Data":{},"Time Series (Daily)":{"2020-01-03":{"1. open":"10","2. high":"12","3. low":"9","4. close":"11","5. volume":"100"},"2020-01-02":{"1. open":"9","2. high":"11","3. low":"8","4. close":"10","5. volume":"90"}}}"#;
    let not_found = reply("404 Not Found", &[], &format!("no such key {secret}"));
    let (url, seen) = serve(vec![
        ok(body),
        not_found,
        ok(r#"{"Note":"Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute"}"#),
    ]);
    let source =
        DeclaredSource::new("stocks", decls.get("stocks").unwrap(), Some(&url), Timeouts::default(), 1, secrets)
            .unwrap();
    let got = source.fetch_at("stocks", "IBM", day("2020-01-01"), day("2020-01-03"), later()).unwrap();
    assert_eq!(short(&got), ["?", "10", "11"]);
    let head = seen.lock().unwrap()[0].clone();
    assert!(
        head.contains(&format!("apikey={secret}")) && head.contains(&format!("x-api-key: {secret}")),
        "sent: {head}"
    );

    let err = source.fetch_at("stocks", "IBM", day("2020-01-01"), day("2020-01-03"), later()).unwrap_err();
    let limited = source.fetch_at("stocks", "IBM", day("2020-01-01"), day("2020-01-03"), later()).unwrap_err();
    assert!(matches!(limited, FetchError::RateLimited { .. }), "{limited:?}");
    let shown = source.request("stocks", "IBM", day("2020-01-01"), day("2020-01-03"));
    assert_eq!(
        shown,
        "GET http://127.0.0.1:9/query?function=TIME_SERIES_DAILY&symbol=IBM&apikey=*** [x-api-key: ***]"
            .replace("http://127.0.0.1:9", &url)
    );
    for text in [
        err.to_string(),
        limited.to_string(),
        shown,
        decls.text("stocks").unwrap(),
        source.mask(&format!("sent {secret}")),
    ] {
        assert!(!text.contains(secret), "shown: {text}");
    }
    assert!(err.to_string().contains("apikey=***"), "{err}");
    assert!(decls.text("stocks").unwrap().contains("{env:PQ_TEST_STOCKS_KEY}"), "the name is stored");
}

#[test]
fn csv_and_close_only_sources_are_read() {
    let csv = r#"
[stooq]
server = "https://stooq.com"
candles = "{server}/q/d/l/?s={symbol}&i=d&d1={first:ymd}&d2={last:ymd}"
max_days = 1000
paging = "forward"
order = "oldest_first"
pace = "1s"
[stooq.rows]
csv = true
time = "Date"
time_format = "date"
open = "Open"
high = "High"
low = "Low"
close = "Close"
volume = "Volume"

[gecko]
server = "https://api.coingecko.com"
candles = "{server}/api/v3/coins/{symbol}/market_chart/range?vs_currency=usd&from={first:unix}&to={last_end:unix}"
max_days = 90
paging = "forward"
order = "oldest_first"
per_minute = 30
headers = { "x-cg-demo-api-key" = "{env:PQ_TEST_CG_KEY}" }
[gecko.rows]
json = "/prices"
time = 0
time_format = "ms"
time_marks = "end"
close = 1
close_only = true
"#;
    let decls = Declarations::parse(csv, "mine.toml").unwrap();
    let stooq = "Date,Open,High,Low,Close,Volume\n2020-01-02,10,12,9,11,100\n2020-01-03,11,13,10,12,200\n";
    let (url, seen) = serve(vec![ok(stooq)]);
    let source = DeclaredSource::new(
        "stooq",
        decls.get("stooq").unwrap(),
        Some(&url),
        Timeouts::default(),
        1,
        Secrets::default(),
    )
    .unwrap();
    let got = source.fetch_at("stooq", "aapl.us", day("2020-01-01"), day("2020-01-03"), later()).unwrap();
    assert_eq!(short(&got), ["none", "11", "12"]);
    assert!(seen.lock().unwrap()[0].contains("d1=20200101&d2=20200103"));

    let secrets = Secrets::from_lookup(&decls.variables("gecko"), |_| Some("g".into())).unwrap();
    let body =
        format!(r#"{{"prices":[[{},7100.5],[{},7200.5]],"total_volumes":[]}}"#, ms("2020-01-02"), ms("2020-01-03"));
    let (url, _) = serve(vec![ok(&body)]);
    let source =
        DeclaredSource::new("gecko", decls.get("gecko").unwrap(), Some(&url), Timeouts::default(), 1, secrets).unwrap();
    let got = source.fetch_at("gecko", "bitcoin", day("2020-01-01"), day("2020-01-02"), later()).unwrap();
    assert_eq!(short(&got), ["7100.5", "7200.5"], "a point at the end of a day is that day's");
    let DayAnswer::Price(p) = got.days[0].1 else { panic!() };
    assert_eq!((p.open, p.high, p.low, p.volume), (7100.5, 7100.5, 7100.5, 0.0));
    assert_eq!(source.pace(), Some(Duration::from_secs(2)));
}

#[test]
fn declaration_mistakes_name_the_file_the_source_and_the_key() {
    let base = "server = \"https://x\"\ncandles = \"{server}/c?s={symbol}\"\nmax_days = 10\npaging = \"forward\"\norder = \"oldest_first\"\n";
    let rows = "[s.rows]\njson = \"\"\ntime = 0\ntime_format = \"ms\"\nopen = 1\nhigh = 2\nlow = 3\nclose = 4\n";
    let parse = |text: String| Declarations::parse(&text, "my.toml").map(|_| ()).map_err(|e| format!("{e:#}"));
    assert_eq!(parse(format!("[s]\n{base}{rows}")), Ok(()));
    for (text, says) in [
        (format!("[s]\n{base}candle = \"x\"\n{rows}"), vec!["my.toml", "[s]", "unknown field `candle`", "candles"]),
        (
            format!(
                "[s]\nserver = \"https://x\"\nmax_days = 1\npaging = \"forward\"\norder = \"oldest_first\"\n{rows}"
            ),
            vec!["missing field `candles`", "add candles ="],
        ),
        (
            format!("[s]\n{}{rows}", base.replace("{symbol}", "{sym}")),
            vec!["key `candles`", "{sym} is not a placeholder"],
        ),
        (format!("[s]\n{}{rows}", base.replace("forward", "sideways")), vec!["[s]", "sideways", "forward"]),
        (format!("[s]\n{base}pace = \"soon\"\n{rows}"), vec!["key `pace`", "\"soon\" is not a duration"]),
        (format!("[s]\n{base}{}", rows.replace("json = \"\"\n", "")), vec!["key `rows.json`", "exactly one of"]),
        (format!("[s]\n{base}{}", rows.replace("open = 1\n", "")), vec!["key `rows.open`", "close_only"]),
        (format!("[s]\n{base}{}", rows.replace("\"ms\"", "\"epoch\"")), vec!["key `rows.time_format`", "\"epoch\""]),
        (format!("[cryptodb]\n{base}{}", rows.replace("[s.", "[cryptodb.")), vec!["[cryptodb]", "another name"]),
        ("[s]\nserver = 3".to_string(), vec!["my.toml", "[s]"]),
        ("not toml [".to_string(), vec!["my.toml", "not valid TOML"]),
    ] {
        let err = parse(text.clone()).expect_err(&text);
        for s in says {
            assert!(err.contains(s), "{s:?} not in: {err}");
        }
    }
    let mut all = Declarations::builtin();
    let mine =
        Declarations::parse(&format!("[binance]\n{base}{}", rows.replace("[s.", "[binance.")), "my.toml").unwrap();
    let err = all.merge(mine).unwrap_err().to_string();
    assert!(err.contains("[binance] is built in"), "{err}");
    let mine = Declarations::parse(&format!("[s]\n{base}{rows}"), "my.toml").unwrap();
    all.merge(mine).unwrap();
    assert!(all.names().contains(&"s".to_string()) && !all.is_builtin("s"));
}

#[test]
fn open_knows_cryptodb_the_builtins_and_no_others() {
    let decls = Declarations::builtin();
    let source = open("cryptodb", None, &decls, Timeouts::default(), 1).unwrap();
    assert_eq!(source.server(), "http://localhost:8080");
    let okx = open("okx", Some("http://127.0.0.1:1/"), &decls, Timeouts::default(), 1).unwrap();
    assert_eq!(
        (okx.server(), okx.exchange(), okx.max_days(), okx.pace()),
        ("http://127.0.0.1:1", Some("okx"), 100, Some(Duration::from_millis(100)))
    );
    let Err(OpenError::Unknown { known, .. }) = open("binanse", None, &decls, Timeouts::default(), 1) else { panic!() };
    assert!(known.contains(&"binance".to_string()));
    let err = builtin("binance", "http://h")
        .fetch_at("kraken", "BTCUSDT", day("2020-01-01"), day("2020-01-01"), later())
        .unwrap_err();
    assert!(matches!(err, FetchError::Permanent(_)), "{err:?}");
}

#[test]
fn the_example_in_docs_sources_md_is_a_valid_declaration() {
    let doc = include_str!("../../docs/sources.md");
    let start = doc.find("```toml\n").expect("an example") + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let decls = Declarations::parse(example, "docs/sources.md").unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(decls.variables("stocks"), ["ALPHAVANTAGE_KEY"]);
}
