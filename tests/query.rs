use std::collections::HashMap;

use pricequeue::error::{FAILED, MISSING, OK, SETTLED, USAGE};
use pricequeue::server::data;
use serde_json::Value;

use super::Sandbox;
use crate::common::day;

/// Sets up every reason at once: bitstamp fetched (prices and no data),
/// `a/b` failed (the server 404s it), later days queued, one in progress,
/// kraken never queued.
fn every_reason() -> Option<Sandbox> {
    let sb = Sandbox::new()?;
    sb.run(&[
        "fetch",
        "-e",
        "bitstamp,a/b",
        "-s",
        "btc",
        "--from",
        "2020-03-01",
        "--to",
        "2020-03-10",
        "--allow-unknown",
    ])
    .expect_code(FAILED);
    sb.run(&[
        "enqueue",
        "-e",
        "bitstamp,a/b",
        "-s",
        "btc",
        "--from",
        "2020-03-11",
        "--to",
        "2020-03-12",
        "--allow-unknown",
    ])
    .expect_code(OK);
    // A worker that died holding a task (a lease far in the future).
    let n = sb.execute(
        "UPDATE tasks SET state = 'in_progress', owner = 'elsewhere:1:0', lease_until = 9e15, claims = claims + 1
         WHERE exchange = 'bitstamp' AND day = '2020-03-12'",
        &[],
    );
    assert_eq!(n, 1);
    sb.run(&["status", "--recount"]).expect_code(OK);
    crate::common::counts_agree(&sb);
    Some(sb)
}

fn expected_reason(exchange: &str, d: chrono::NaiveDate) -> Option<&'static str> {
    let n = d.format("%d").to_string();
    match (exchange, n.as_str()) {
        ("kraken", _) | (_, "13") => Some("not queued"),
        ("bitstamp", "12") => Some("in progress"),
        (_, "11" | "12") => Some("queued"),
        ("a/b", _) => Some("failed"),
        ("bitstamp", _) => data::price("bitstamp", "btc", d).is_none().then_some("no data"),
        _ => unreachable!(),
    }
}

#[test]
fn the_missing_report_names_each_cell_with_its_reason() {
    let Some(sb) = every_reason() else { return };
    let out = sb
        .run(&[
            "query",
            "-e",
            "kraken,bitstamp,a/b",
            "-s",
            "btc",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-13",
            "--format",
            "json",
        ])
        .expect_code(MISSING);
    let report: Value = serde_json::from_str(&out.stdout).expect("query --format json is JSON");

    // A row is a run of days of one pair and reason: every day from `day`
    // to `last_day`, `days` of them.
    let mut missing: HashMap<(String, String), (String, Value)> = HashMap::new();
    for m in report["missing"].as_array().unwrap() {
        let (first, last) = (day(m["day"].as_str().unwrap()), day(m["last_day"].as_str().unwrap()));
        let days: Vec<_> = first.iter_days().take_while(|d| *d <= last).collect();
        assert_eq!(m["days"].as_u64(), Some(days.len() as u64), "{m}");
        for d in days {
            let key = (m["exchange"].as_str().unwrap().to_string(), d.to_string());
            let old = missing.insert(key, (m["reason"].as_str().unwrap().to_string(), m["error"].clone()));
            assert!(old.is_none(), "{m}: a day in two rows");
        }
    }
    assert!(report["missing"].as_array().unwrap().len() < missing.len(), "runs of days are one row");
    let mut expected_missing = 0;
    for exchange in ["a/b", "bitstamp", "kraken"] {
        for d in day("2020-03-01").iter_days().take(13) {
            let got = missing.get(&(exchange.to_string(), d.to_string()));
            match expected_reason(exchange, d) {
                Some(reason) => {
                    expected_missing += 1;
                    let (r, error) = got.unwrap_or_else(|| panic!("{exchange} {d} should be missing"));
                    assert_eq!(r, reason, "{exchange} {d}");
                    if reason == "failed" {
                        assert!(error.as_str().unwrap().contains("HTTP 404"), "{error}");
                    }
                }
                None => assert!(got.is_none(), "{exchange} {d} has a price, yet is reported missing"),
            }
        }
    }
    assert_eq!(missing.len(), expected_missing);

    // The prices part: bitstamp's stored days, equal to the server's.
    let prices = report["prices"].as_array().unwrap();
    for p in prices {
        let d = day(p["day"].as_str().unwrap());
        let want = data::price("bitstamp", "btc", d).expect("a price the server has");
        assert_eq!(p["exchange"], "bitstamp");
        assert_eq!(p["close"].as_f64(), Some(want.close));
    }
    assert_eq!(prices.len() + missing.len(), 3 * 13);
    assert!(out.stderr.contains(&format!("39 prices asked for: {} stored, {} missing", prices.len(), missing.len())));
}

#[test]
fn the_table_report_reads_as_reasons() {
    let Some(sb) = every_reason() else { return };
    let out = sb
        .run(&["query", "-e", "a/b,bitstamp", "-s", "btc", "--from", "2020-03-10", "--to", "2020-03-13"])
        .expect_code(MISSING);
    let line = |exchange: &str, d: &str| {
        out.stdout
            .lines()
            .find(|l| l.starts_with(exchange) && l.contains(d))
            .unwrap_or_else(|| panic!("no line for {exchange} {d}:\n{}", out.stdout))
            .to_string()
    };
    assert!(line("a/b", "2020-03-10").contains("failed: GET "), "{}", out.stdout);
    assert!(line("a/b", "2020-03-10").contains("HTTP 404"));
    assert!(line("a/b", "2020-03-11").ends_with("queued"));
    assert!(line("bitstamp", "2020-03-12").ends_with("in progress"));
    assert!(line("bitstamp", "2020-03-13").ends_with("not queued"));
    assert!(out.stdout.contains("Missing: "));
}

#[test]
fn csv_holds_the_prices_or_the_missing_report() {
    let Some(sb) = every_reason() else { return };
    let args =
        ["query", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10", "--format", "csv"];
    // Every day of the range was fetched: what is missing, the server has no price for.
    let out = sb.run(&args).expect_code(SETTLED);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let header = reader.headers().unwrap().clone();
    assert_eq!(
        header.iter().collect::<Vec<_>>(),
        ["exchange", "symbol", "day", "open", "high", "low", "close", "volume", "fetched_at"]
    );
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        let want = data::price("bitstamp", "btc", day(&r[2])).expect("only stored prices");
        assert_eq!(r[6].parse::<f64>().unwrap(), want.close);
        rows += 1;
    }
    let have = day("2020-03-01").iter_days().take(10).filter(|d| data::price("bitstamp", "btc", *d).is_some()).count();
    assert_eq!(rows, have);

    let mut with_missing = args.to_vec();
    with_missing.push("--missing");
    let out = sb.run(&with_missing).expect_code(SETTLED);
    let mut reader = csv::Reader::from_reader(out.stdout.as_bytes());
    let reasons: Vec<String> = reader.records().map(|r| r.unwrap()[3].to_string()).collect();
    assert_eq!(reasons.len(), 10 - have);
    assert!(reasons.iter().all(|r| r == "no data"), "{reasons:?}");
}

#[test]
fn nothing_missing_exits_zero() {
    let Some(sb) = Sandbox::new() else { return };
    // Days bitstamp btc has: the first three of March that the server prices.
    let days: Vec<String> = day("2020-03-01")
        .iter_days()
        .filter(|d| data::price("bitstamp", "btc", *d).is_some())
        .take(3)
        .map(|d| d.to_string())
        .collect();
    for d in &days {
        sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", d]).expect_code(OK);
    }
    let out = sb.run(&["query", "-e", "bitstamp", "-s", "btc", "--from", &days[0], "--to", &days[0]]).expect_code(OK);
    assert!(out.stdout.contains("1 price asked for: 1 stored, 0 missing"), "{}", out.stdout);
    // With no selection at all: what the database holds, first to last day.
    let all = sb.run(&["query", "--format", "json"]);
    let report: Value = serde_json::from_str(&all.stdout).unwrap();
    assert_eq!(report["prices"].as_array().unwrap().len(), 3);
    let gaps = report["missing"].as_array().unwrap();
    assert!(gaps.iter().all(|m| m["reason"] == "not queued"), "{gaps:?}");
    assert_eq!(all.code, if gaps.is_empty() { OK } else { MISSING });
}

#[test]
fn what_nothing_was_stored_for_is_missing_not_fine() {
    let Some(sb) = every_reason() else { return };
    // --from alone is that day, as in fetch: each pair's cell of it was never queued.
    let out = sb.run(&["query", "--from", "2021-01-01", "--format", "json"]).expect_code(MISSING);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let missing = report["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 2, "{missing:?}");
    assert!(missing.iter().all(|m| m["day"] == "2021-01-01" && m["reason"] == "not queued"), "{missing:?}");
    let out = sb.run(&["query", "--to", "2019-01-01"]).expect_code(MISSING);
    assert!(out.stderr.contains("nothing stored or queued"), "{}", out.stderr);
    // A name the database does not know: every price of it is missing (this used to exit 0).
    let out = sb.run(&["query", "-e", "nosuch"]).expect_code(MISSING);
    assert!(out.stderr.contains("nothing stored or queued for this selection"), "{}", out.stderr);
    let out = sb.run(&["--quiet", "query", "-e", "nosuch"]).expect_code(MISSING);
    assert!(out.stderr.contains("nothing stored or queued"), "said even with --quiet: {}", out.stderr);
}

#[test]
fn status_reads_back_in_every_format() {
    let Some(sb) = every_reason() else { return };
    let json: Value = serde_json::from_str(&sb.run(&["status", "--format", "json"]).expect_code(OK).stdout).unwrap();
    let states: HashMap<String, i64> = json["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["state"].as_str().unwrap().to_string(), r["tasks"].as_i64().unwrap()))
        .collect();
    assert_eq!(states["failed"], 10);
    assert_eq!(states["in_progress"], 1);
    assert_eq!(states["queued"], 3);
    assert_eq!(states["total"], 24);
    assert!(json["failures"][0]["error"].as_str().unwrap().contains("HTTP 404"));

    let csv = sb.run(&["status", "--format", "csv"]).expect_code(OK).stdout;
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "exchange",
            "symbol",
            "queued",
            "not_yet_due",
            "in_progress",
            "done",
            "no_data",
            "outside_history",
            "cooling",
            "failed",
            "abandoned"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!((&rows[0][0], &rows[0][8], &rows[0][9]), ("a/b", "0", "10"));

    let ndjson = sb.run(&["status", "--format", "ndjson"]).expect_code(OK).stdout;
    let kinds: Vec<String> = ndjson
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    assert!(kinds.contains(&"states".into()) && kinds.contains(&"pairs".into()) && kinds.contains(&"failures".into()));

    let table = sb.run(&["status"]).expect_code(OK).stdout;
    assert!(table.contains("Failed tasks (10 most recent of 10), with their last error"), "{table}");
}

#[test]
fn format_may_come_before_the_command_as_the_global_flags_do() {
    let Some(sb) = every_reason() else { return };
    for command in [&["status"][..], &["query", "--missing"], &["sql", "SELECT count(*) AS n FROM tasks"]] {
        let after = sb.run(&[command, &["--format", "json"][..]].concat());
        let before = sb.run(&[&["--format", "json"][..], command].concat());
        assert_eq!(before.code, after.code, "{command:?}: {}", before.stderr);
        assert_eq!(before.stdout, after.stdout, "{command:?}");
        assert!(serde_json::from_str::<Value>(&before.stdout).is_ok(), "{command:?}: {}", before.stdout);
    }
    // The command's own --format wins over the one before it.
    let csv = sb.run(&["-f", "json", "status", "--format", "csv"]).expect_code(OK).stdout;
    assert!(csv.starts_with("exchange,symbol,"), "{csv}");
    // A command that prints no report says so, rather than ignoring it.
    let before = sb.dump();
    let out = sb.run(&["--format", "csv", "retry"]).expect_code(USAGE);
    assert!(out.stderr.contains("--format goes with status, query and sql"), "{}", out.stderr);
    assert_eq!(sb.dump(), before, "nothing was retried");
}

#[test]
fn retry_and_status_keep_to_the_source_named() {
    let Some(sb) = every_reason() else { return };
    // Every task here is the reference API's: another source has none.
    let out = sb.run(&["status", "--source", "binance"]).expect_code(OK);
    assert!(out.stdout.contains("no tasks of binance"), "{}", out.stdout);
    let out = sb.run(&["retry", "--source", "binance"]).expect_code(OK);
    assert!(out.stderr.contains("queued 0 failed tasks again"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'failed'"), 10);
    let out = sb.run(&["retry", "--source", "cryptodb"]).expect_code(OK);
    assert!(out.stderr.contains("queued 10 failed tasks again"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'failed'"), 0);
    crate::common::counts_agree(&sb);
}

#[test]
fn below_a_day_each_candle_is_a_row_and_each_incomplete_day_says_what_it_lacks() {
    let Some(sb) = Sandbox::new() else { return };
    super::coverage::hours_with_gaps(&sb);
    fn at<'a>(more: &[&'a str]) -> Vec<&'a str> {
        [&["query", "--interval", "1h", "-s", "BTCUSDT", "--from", "2024-01-01"], more].concat()
    }

    let out = sb.run(&at(&["--to", "2024-01-03", "--format", "csv"])).expect_code(MISSING);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "exchange,symbol,interval,open_time,open,high,low,close,volume");
    assert_eq!(lines[1], "binance,BTCUSDT,1h,2024-01-01T00:00:00Z,40000,40007,39997,40002,1.5");
    assert_eq!(lines.len(), 1 + 45, "every stored candle, once");
    assert!(!out.stdout.contains("2024-01-02T03:00:00Z"), "no row for an hour without a candle");

    let out = sb.run(&at(&["--to", "2024-01-03", "--missing"])).expect_code(MISSING);
    let day2 = out.stdout.lines().find(|l| l.contains("2024-01-02")).unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(
        day2.contains("21 of 24")
            && day2.ends_with("no data 02:00-04:00 (no trades between the candles at 01:00 and 05:00)"),
        "{day2}"
    );
    let day3 = out.stdout.lines().find(|l| l.contains("2024-01-03")).unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(day3.contains("0 of 24") && day3.ends_with("failed: HTTP 500"), "{day3}");
    assert!(!out.stdout.contains("2024-01-01"), "a complete day has no row:\n{}", out.stdout);

    // JSON: the missing candles as runs, open times of the first and last.
    let out = sb.run(&at(&["--to", "2024-01-03", "--missing", "--format", "json"])).expect_code(MISSING);
    let rows: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let runs: Vec<(&str, &str, i64, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["first"].as_str().unwrap(),
                r["last"].as_str().unwrap(),
                r["candles"].as_i64().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("2024-01-02T02:00:00Z", "2024-01-02T04:00:00Z", 3, "no data"),
            ("2024-01-03T00:00:00Z", "2024-01-03T23:00:00Z", 24, "failed"),
        ]
    );
    assert_eq!(rows[1]["error"], "HTTP 500");
    assert!(
        out.stderr.contains("72 candles asked for: 45 stored, 27 missing (24 failed, 3 no data)"),
        "{}",
        out.stderr
    );

    // Every gap proven: settled, as days without a price are at 1d.
    sb.run(&at(&["--to", "2024-01-02", "--missing"])).expect_code(SETTLED);
    sb.run(&at(&["--to", "2024-01-01"])).expect_code(OK);
}

#[test]
fn status_retry_and_remove_at_an_interval_keep_to_its_tasks() {
    let Some(sb) = Sandbox::new() else { return };
    super::coverage::hours_with_gaps(&sb);
    let total = |args: &[&str]| -> i64 {
        let out = sb.run(&[&["status", "--format", "json"], args].concat()).expect_code(OK);
        let v: Value = serde_json::from_str(&out.stdout).unwrap();
        let states = v["states"].as_array().unwrap();
        states.iter().find(|s| s["state"] == "total").unwrap()["tasks"].as_i64().unwrap()
    };
    assert_eq!(total(&[]), 4, "every interval");
    assert_eq!(total(&["--interval", "1h"]), 3);
    assert_eq!(total(&["--interval", "1d"]), 1);
    assert_eq!(total(&["--interval", "5m"]), 0);
    let out = sb.run(&["status", "--interval", "1h"]).expect_code(OK);
    assert!(out.stdout.contains("HTTP 500"), "the failure of 1h: {}", out.stdout);

    // retry and remove keep to the interval named too.
    let out = sb.run(&["retry", "--interval", "1d"]).expect_code(OK);
    assert!(out.stderr.contains("queued 0 failed tasks again"), "{}", out.stderr);
    let out = sb.run(&["retry", "--interval", "1h"]).expect_code(OK);
    assert!(out.stderr.contains("queued 1 failed task again"), "{}", out.stderr);
    sb.run(&["remove", "--interval", "1h", "-s", "BTCUSDT", "--from", "2024-01-03", "--yes"]).expect_code(OK);
    assert_eq!((total(&["--interval", "1h"]), total(&["--interval", "1d"])), (2, 1));
}
