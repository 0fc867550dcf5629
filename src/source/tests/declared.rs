//! Declared sources: secrets, CSV and closes-only answers, mistakes in a
//! declaration, and opening a source by name.

use super::*;

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
    // Nothing before the first row of a forward answer proves the first day empty.
    assert_eq!(short(&got), ["lacking", "11", "12"]);
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
        (format!("[s]\n{base}{rows}one = true\n"), vec!["key `max_days`", "rows.one"]),
        (format!("[s]\n{base}{rows}strict_numbers = true\n"), vec!["key `rows.strict_numbers`", "one = true"]),
        (format!("[s]\n{base}unknown_symbol_status = [200]\n{rows}"), vec!["key `unknown_symbol_status`", "200"]),
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
    // The reference API's source is a built-in like the others.
    let mine =
        Declarations::parse(&format!("[cryptodb]\n{base}{}", rows.replace("[s.", "[cryptodb.")), "my.toml").unwrap();
    let err = all.merge(mine).unwrap_err().to_string();
    assert!(err.contains("[cryptodb] is built in") && err.contains("another name"), "{err}");
    let mine = Declarations::parse(&format!("[s]\n{base}{rows}"), "my.toml").unwrap();
    all.merge(mine).unwrap();
    assert!(all.names().contains(&"s".to_string()) && !all.is_builtin("s"));
}

#[test]
fn declaration_mistakes_name_the_line_and_column() {
    let good = "# mine\n[s]\nserver = \"https://x\"\ncandles = \"{server}/c?s={symbol}\"\nmax_days = 10\npaging = \"forward\"\n\
                order = \"oldest_first\"\n\n[s.rows]\njson = \"\"\ntime = 0\ntime_format = \"ms\"\nopen = 1\nhigh = 2\nlow = 3\n\
                close = 4\n\n[[s.error]]\nat = \"/error\"\n";
    assert!(Declarations::parse(good, "my.toml").is_ok());
    let parse = |text: String| Declarations::parse(&text, "my.toml").map(|_| ()).unwrap_err().to_string();
    for (text, starts) in [
        // A rule serde cannot check: the key's own line.
        (good.replace("max_days = 10", "max_days = 0"), "my.toml:5:1: source [s], key `max_days`: at least 1"),
        (
            good.replace("time_format = \"ms\"", "time_format = \"epoch\""),
            "my.toml:12:1: source [s], key `rows.time_format`",
        ),
        (good.replace("at = \"/error\"", "at = \"error\""), "my.toml:19:1: source [s], key `error[0].at`"),
        // A key left out: the table it is missing from.
        (good.replace("json = \"\"\n", ""), "my.toml:9:4: source [s], key `rows.json`"),
        // serde's own: a misspelt key, a value of the wrong kind, where they are.
        (good.replace("low = 3", "lo = 3"), "my.toml:15:1: source [s]: unknown field `lo`"),
        (good.replace("max_days = 10", "max_days = \"ten\""), "my.toml:5:12: source [s]: invalid type"),
        // TOML itself.
        (good.replace("[s.rows]", "[s.rows"), "my.toml:9:8: not valid TOML: "),
        (good.replace("[s]", "[Big]"), "my.toml:2:2: source [Big]: a source's name is"),
    ] {
        let err = parse(text);
        assert!(err.starts_with(starts), "{starts:?}\nnot the start of: {err}");
    }
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
    let doc = include_str!("../../../docs/sources.md");
    let start = doc.find("```toml\n").expect("an example") + "```toml\n".len();
    let example = &doc[start..start + doc[start..].find("```").unwrap()];
    let decls = Declarations::parse(example, "docs/sources.md").unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(decls.variables("stocks"), ["ALPHAVANTAGE_KEY"]);
}

#[test]
fn a_declaration_names_its_own_busy_codes_in_transient() {
    let text = |transient: &str| {
        format!(
            r#"
[quotes]
server = "https://q"
candles = "{{server}}/c?s={{symbol}}&from={{first:date}}&to={{last:date}}"
max_days = 10
paging = "forward"
order = "oldest_first"
[quotes.rows]
json = "/rows"
time = "day"
time_format = "date"
close = "close"
close_only = true
[[quotes.error]]
at = "/status"
ok = ["ok"]
message = "/message"
rate_limit = ["slow down"]
{transient}
"#
        )
    };
    let busy = r#"{"status":"busy","message":"try again in a minute"}"#;
    let answer = |transient: &str, body: &str| {
        let decls = Declarations::parse(&text(transient), "quotes.toml").unwrap();
        let (url, _) = serve(vec![ok(body)]);
        let source = DeclaredSource::new(
            "quotes",
            decls.get("quotes").unwrap(),
            Some(&url),
            Timeouts::default(),
            1,
            Secrets::default(),
        )
        .unwrap();
        source.fetch_at("quotes", "X", day("2020-01-01"), day("2020-01-02"), later())
    };
    // Undeclared, a busy answer is an error asking again cannot mend...
    assert!(matches!(answer("", busy), Err(FetchError::Permanent(m)) if m.contains("busy")));
    // ...declared, it is worth another attempt, and a limit stays a limit.
    let declared = r#"transient = ["busy"]"#;
    assert!(matches!(answer(declared, busy), Err(FetchError::Transient(m)) if m.contains("try again in a minute")));
    let limited = r#"{"status":"error","message":"slow down"}"#;
    assert!(matches!(answer(declared, limited), Err(FetchError::RateLimited { retry_after: None, .. })));
}
