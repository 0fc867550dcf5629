//! Declared sources below a day: the `[NAME.intervals]` table, `max_rows`
//! and `history_rows`, and the mistakes refused when a declaration is read.

use super::*;

/// A source that spells intervals in seconds, pages forward, 50 rows a request.
const HOURLY: &str = r#"
[bars]
server = "http://127.0.0.1:9"
candles = "{server}/bars/{symbol}?step={interval}&from={first:unix}&to={last:unix}&n={count}"
max_days = 10
max_rows = 50
paging = "forward"
order = "oldest_first"

[bars.intervals]
"1h" = "3600"
"5m" = "300"
"1d" = "86400"

[bars.rows]
json = ""
time = 0
time_format = "s"
open = 1
high = 2
low = 3
close = 4
"#;

fn parse(text: &str) -> Result<Declarations, String> {
    Declarations::parse(text, "my.toml").map_err(|e| format!("{e:#}"))
}

fn open_bars(decls: &Declarations, url: &str) -> DeclaredSource {
    DeclaredSource::new("bars", decls.get("bars").unwrap(), Some(url), Timeouts::default(), 1, Secrets::default())
        .unwrap()
}

#[test]
fn a_declared_source_serves_its_intervals_and_is_stored_with_them() {
    let decls = parse(HOURLY).unwrap();
    let again = parse(&decls.text("bars").unwrap()).unwrap();
    assert_eq!(again.get("bars"), decls.get("bars"), "the stored text gives it back");
    let source = open_bars(&decls, "http://h");
    assert_eq!(Interval::list(&source.intervals()), "5m, 1h, 1d");
    assert_eq!((source.max_rows(Interval::H1), source.max_rows(Interval::D1)), (50, 10));
    let first = Interval::H1.slot_of_ms(ms("2020-01-01"));
    assert_eq!(
        source.request_slots("bars", "X", Interval::H1, first, first + 2),
        "GET http://h/bars/X?step=3600&from=1577836800&to=1577844000&n=3"
    );
    let row = |h: i64| format!("[{},1,3,0.5,2]", (ms("2020-01-01") + h * 3_600_000) / 1000);
    let (url, _) = serve(vec![ok(&format!("[{},{}]", row(0), row(2)))]);
    let got = open_bars(&decls, &url).fetch_slots_at("bars", "X", Interval::H1, first, first + 2, later()).unwrap();
    assert_eq!(short_slots(&got), ["2", "none", "2"]);
    let got = open_bars(&decls, "http://h").fetch_slots_at("bars", "X", Interval::M1, first, first, later());
    assert!(
        matches!(got, Err(FetchError::Permanent(m)) if m.ends_with("bars serves no 1m candles: it serves 5m, 1h, 1d"))
    );
}

#[test]
fn a_declaration_without_intervals_serves_days_as_before() {
    // A declaration as the release before intervals stored it.
    let old = HOURLY
        .replace("step={interval}&", "")
        .replace("max_rows = 50\n", "")
        .replace("[bars.intervals]\n\"1h\" = \"3600\"\n\"5m\" = \"300\"\n\"1d\" = \"86400\"\n", "");
    let decls = parse(&old).unwrap();
    let source = open_bars(&decls, "http://h");
    assert_eq!(source.intervals(), [Interval::D1]);
    assert_eq!(source.max_rows(Interval::H1), 10, "max_days is max_rows' default");
    assert_eq!(
        source.request("bars", "X", day("2020-01-01"), day("2020-01-02")),
        "GET http://h/bars/X?from=1577836800&to=1577923200&n=2"
    );
    let got = source.fetch_slots_at("bars", "X", Interval::H1, 0, 0, later());
    assert!(matches!(got, Err(FetchError::Permanent(m)) if m.ends_with("serves no 1h candles: it serves 1d")));
}

#[test]
fn interval_mistakes_are_refused_when_the_declaration_is_read() {
    for (text, says) in [
        (
            HOURLY.replace("\"5m\" = \"300\"", "\"7m\" = \"420\""),
            vec![
                "my.toml:12:1",
                "key `intervals.7m`",
                "\"7m\" is not an interval: the intervals are 1m, 3m, 5m, 15m, 30m, 1h, 2h, 3h, 4h, 6h, 8h, 12h, 1d",
            ],
        ),
        (
            HOURLY.replace("\"5m\" = \"300\"", "\"60m\" = \"3600\""),
            vec!["key `intervals.60m`", "is the interval \"1h\" is"],
        ),
        (
            HOURLY.replace("\"5m\" = \"300\"", "\"5m\" = \" \""),
            vec!["key `intervals.5m`", "say how the source spells 5m"],
        ),
        (HOURLY.replace("step={interval}&", ""), vec!["key `intervals`", "holds no {interval}"]),
        (
            HOURLY.replace("[bars.intervals]\n\"1h\" = \"3600\"\n\"5m\" = \"300\"\n\"1d\" = \"86400\"\n", ""),
            vec!["key `intervals`", "{interval} needs an [NAME.intervals] table"],
        ),
        (HOURLY.replace("max_rows = 50", "max_rows = 0"), vec!["key `max_rows`", "at least 1"]),
        (HOURLY.replace("max_rows = 50", "history_rows = 0"), vec!["key `history_rows`", "at least 1"]),
        (HOURLY.replace("{count}", "{count:ms}"), vec!["key `candles`", "takes no format"]),
    ] {
        let err = parse(&text).expect_err(&text);
        for s in says {
            assert!(err.contains(s), "{s:?} not in: {err}");
        }
    }
}

#[test]
fn history_rows_keeps_the_latest_candles_at_every_interval() {
    let decls = parse(&HOURLY.replace("max_rows = 50", "max_rows = 50\nhistory_rows = 24")).unwrap();
    let source = open_bars(&decls, "http://h");
    let now = ms("2020-01-02") + 30 * 60_000; // 00:30 on the 2nd
    let first = Interval::H1.slot_of_ms(ms("2020-01-01"));
    // 24 hours kept, the current one among them: from 01:00 on the 1st;
    // at 1d, without history_days, 24 days.
    let got = source.fetch_slots_at("bars", "X", Interval::H1, first, first, now);
    assert_eq!(short_slots(&got.unwrap()), ["old"], "without a request: the server at http://h is not there");
    assert_eq!(PriceSource::oldest_slot(&source, Interval::H1, now), Some(first + 1));
    assert_eq!(PriceSource::oldest_slot(&source, Interval::D1, now), Some(Interval::D1.first_slot(day("2019-12-10"))));
}
