//! The reports on a database of many sources, as a new user makes one: two
//! pairs from each of the six exchanges, fetched over the same days. Its
//! pairs are no cross product of its exchanges and symbols (binance has
//! BTCUSDT, coinbase BTC-USD), so the reports take the pairs that have
//! tasks; `--source` narrows every report to a source's pairs; the days
//! Kraken cannot serve are named as such and listed as one run.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use pricequeue::error::{MISSING, OK, SETTLED};
use serde_json::Value;

use super::Sandbox;
use crate::common::{day, Output};

/// The two pairs of each exchange the new user fetched.
const PAIRS: [(&str, &str); 6] = [
    ("binance", "BTCUSDT,ETHUSDT"),
    ("coinbase", "BTC-USD,ETH-USD"),
    ("kraken", "XBTUSD,ETHUSD"),
    ("bitstamp", "btcusd,ethusd"),
    ("bitfinex", "tBTCUSD,tETHUSD"),
    ("okx", "BTC-USDT,ETH-USDT"),
];

/// The new user's database: the twelve pairs from 760 to 700 days ago, a
/// range whose first 41 days or so are older than the 720 Kraken serves
/// (they are `outside the source's history`, every other day has a price).
fn new_users_database() -> Option<(Sandbox, String, String)> {
    let sb = Sandbox::new()?;
    let today = Utc::now().date_naive();
    let (from, to) = ((today - Duration::days(760)).to_string(), (today - Duration::days(700)).to_string());
    for (source, symbols) in PAIRS {
        let out = sb.run(&["fetch", "--source", source, "-s", symbols, "--from", &from, "--to", &to]);
        out.expect_code(OK);
    }
    assert_eq!(sb.count("SELECT count(*) FROM tasks"), 12 * 61);
    Some((sb, from, to))
}

fn json(out: &Output) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", out.stdout))
}

/// The (exchange, symbol) of every row of a JSON section.
fn pairs_of(rows: &Value) -> BTreeSet<(String, String)> {
    let rows = rows.as_array().expect("an array of rows");
    rows.iter().map(|r| (r["exchange"].as_str().unwrap().into(), r["symbol"].as_str().unwrap().into())).collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs.iter().map(|(e, s)| (e.to_string(), s.to_string())).collect()
}

/// Days of each Kraken pair the database holds as outside its history.
fn outside(sb: &Sandbox, symbol: &str) -> i64 {
    sb.count(&format!(
        "SELECT count(*) FROM tasks WHERE exchange = 'kraken' AND symbol = '{symbol}' AND state = 'outside_history'"
    ))
}

#[test]
fn a_database_of_six_exchanges_reports_complete_when_it_is() {
    let Some((sb, from, to)) = new_users_database() else { return };
    let xbt = outside(&sb, "XBTUSD");
    assert!(xbt > 30 && outside(&sb, "ETHUSD") == xbt, "Kraken's days before its 720 are outside its history");
    assert_eq!(sb.count("SELECT count(*) FROM prices"), 12 * 61 - 2 * xbt, "every other day has its price");

    // Complete: every day has a price or none for good. Each report of the
    // same selection says so with the same code. (They crossed every
    // exchange with every symbol: 132 pairs never queued, exit 3.)
    let query = sb.run(&["query", "--format", "json"]).expect_code(SETTLED);
    let report = json(&query);
    assert_eq!(report["prices"].as_array().unwrap().len() as i64, 12 * 61 - 2 * xbt);
    let twelve = pairs_of(&report["prices"]);
    assert_eq!(twelve.len(), 12, "{twelve:?}");
    assert_eq!(pairs_of(&report["missing"]), set(&[("kraken", "ETHUSD"), ("kraken", "XBTUSD")]));
    assert!(query.stderr.contains(&format!("{} prices asked for", 12 * 61)), "{}", query.stderr);
    let grid = sb.run(&["coverage"]).expect_code(SETTLED).stdout;
    assert!(!grid.contains("Left out"), "{grid}");
    assert_eq!(grid.lines().filter(|l| l.contains('|') && !l.starts_with(' ')).count(), 12, "{grid}");
    let out = sb.run(&["chart", "--source", "kraken", "-s", "XBTUSD", "-o", "k.svg", "--strict"]);
    out.expect_code(SETTLED);
    // From the first day Kraken serves on, every price is there.
    let served = (day(&from) + Duration::days(xbt)).to_string();
    sb.run(&["query", "--from", &served, "--to", &to]).expect_code(OK);
    sb.run(&["coverage", "--from", &served, "--to", &to]).expect_code(OK);
}

#[test]
fn days_outside_the_sources_history_are_one_row_in_every_format() {
    let Some((sb, from, _)) = new_users_database() else { return };
    let xbt = outside(&sb, "XBTUSD");
    let (first, last) = (from.as_str(), (day(&from) + Duration::days(xbt - 1)).to_string());
    // Each Kraken pair's days outside its history are one row (they were
    // one row a day, alike), and each day stays there for programs.
    let kraken = ["query", "--missing", "-e", "kraken", "-s", "ETHUSD,XBTUSD"];
    let report = json(&sb.run(&[&kraken[..], &["--format", "json"]].concat()).expect_code(SETTLED));
    let missing = report.as_array().unwrap();
    assert_eq!(missing.len(), 2, "one row per Kraken pair: {missing:?}");
    for (row, symbol) in missing.iter().zip(["ETHUSD", "XBTUSD"]) {
        assert_eq!((&row["exchange"], &row["symbol"]), (&Value::from("kraken"), &Value::from(symbol)));
        assert_eq!(row["reason"], "outside the source's history");
        assert_eq!(row["source"], "kraken");
        assert_eq!((row["day"].as_str(), row["last_day"].as_str()), (Some(first), Some(last.as_str())));
        assert_eq!(row["days"].as_i64(), Some(xbt));
    }
    let xbtusd = ["query", "--missing", "-e", "kraken", "-s", "XBTUSD"];
    let csv = sb.run(&[&xbtusd[..], &["--format", "csv"]].concat()).expect_code(SETTLED).stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "exchange,symbol,day,reason,error,source,last_day,days");
    assert_eq!(lines[1..], [format!("kraken,XBTUSD,{first},outside the source's history,,kraken,{last},{xbt}")]);
    let table = sb.run(&xbtusd).expect_code(SETTLED).stdout;
    let range = format!("{first} to {last} ({xbt} days)");
    assert_eq!(table.lines().filter(|l| l.contains("outside the source's history:")).count(), 1, "{table}");
    assert!(table.lines().any(|l| l.starts_with("kraken") && l.contains(&range)), "{range}:\n{table}");
    let ndjson = sb.run(&[&xbtusd[..], &["--format", "ndjson"]].concat()).expect_code(SETTLED).stdout;
    assert_eq!(ndjson.lines().count(), 1, "{ndjson}");
    // --each-day lists the cells one by one, in the same columns.
    let days = json(&sb.run(&[&xbtusd[..], &["--format", "json", "--each-day"]].concat()).expect_code(SETTLED));
    let days = days.as_array().unwrap();
    assert_eq!(days.len() as i64, xbt);
    assert!(days.iter().all(|d| d["day"] == d["last_day"] && d["days"] == 1), "{days:?}");
    assert_eq!(days.last().unwrap()["day"].as_str(), Some(last.as_str()));
}

#[test]
fn coverage_names_days_outside_the_sources_history_as_query_does() {
    let Some((sb, _, _)) = new_users_database() else { return };
    let xbt = outside(&sb, "XBTUSD");
    let args = ["coverage", "-e", "kraken", "-s", "ETHUSD,XBTUSD", "--width", "200"];
    let grid = sb.run(&args).expect_code(SETTLED).stdout;
    let row = grid.lines().find(|l| l.starts_with("kraken XBTUSD")).unwrap_or_else(|| panic!("{grid}"));
    let cells: String = row.split('|').nth(1).unwrap().chars().collect();
    // They were drawn '.' and counted as "no data".
    assert_eq!(cells, "<".repeat(xbt as usize) + &"#".repeat(61 - xbt as usize), "{grid}");
    assert!(grid.contains("< outside the source's history"), "the legend: {grid}");
    assert!(!grid.contains("no data,"), "{grid}");
    let summary = format!("{} missing ({} outside the source's history)", 2 * xbt, 2 * xbt);
    assert!(grid.contains(&summary), "{summary}:\n{grid}");
}

#[test]
fn a_symbol_alone_is_the_pairs_that_have_tasks() {
    let Some((sb, from, _)) = new_users_database() else { return };
    // binance's pair, the one with tasks, not every exchange's (bitfinex
    // BTCUSDT and the like were `not queued`, exit 3).
    let out = sb.run(&["query", "-s", "BTCUSDT", "--from", &from, "--format", "json"]).expect_code(OK);
    let report = json(&out);
    assert_eq!(pairs_of(&report["prices"]), set(&[("binance", "BTCUSDT")]));
    assert_eq!(report["missing"], Value::Array(vec![]));
    let out = sb.run(&["query", "-s", "BTCUSDT,BTC-USD", "--from", &from, "--format", "json"]).expect_code(OK);
    assert_eq!(pairs_of(&json(&out)["prices"]), set(&[("binance", "BTCUSDT"), ("coinbase", "BTC-USD")]));
    sb.run(&["coverage", "-s", "BTCUSDT,BTC-USD", "--from", &from]).expect_code(OK);
}

#[test]
fn source_keeps_a_sources_pairs_in_every_report() {
    let Some((sb, from, _)) = new_users_database() else { return };
    let day = ["--from", &from];
    // (--source did not exist: "a similar argument exists: '--sources'".)
    let out = sb.run(&[&["query", "--source", "okx,bitstamp", "--format", "json"], &day[..]].concat());
    let okx_bitstamp = [("bitstamp", "btcusd"), ("bitstamp", "ethusd"), ("okx", "BTC-USDT"), ("okx", "ETH-USDT")];
    assert_eq!(pairs_of(&json(&out.expect_code(OK))["prices"]), set(&okx_bitstamp));
    let grid = sb.run(&[&["coverage", "--source", "coinbase"], &day[..]].concat()).expect_code(OK).stdout;
    let rows: Vec<&str> = grid.lines().filter(|l| l.contains('|') && !l.starts_with(' ')).collect();
    assert_eq!(rows.len(), 2, "{grid}");
    assert!(rows.iter().all(|r| r.starts_with("coinbase")), "{grid}");
    let status = json(&sb.run(&["status", "--source", "bitfinex", "--format", "json"]).expect_code(OK));
    assert_eq!(pairs_of(&status["pairs"]), set(&[("bitfinex", "tBTCUSD"), ("bitfinex", "tETHUSD")]));
    let total = status["states"].as_array().unwrap().iter().find(|r| r["state"] == "total").unwrap();
    assert_eq!(total["tasks"], 2 * 61, "the source's tasks, not the queue's");
    let out = sb.run(&["chart", "--source", "okx", "-s", "ETH-USDT", "-o", "-"]).expect_code(OK);
    assert!(out.stdout.starts_with("<svg "), "{}", out.stdout);
    assert!(out.stderr.contains("okx ETH-USDT"), "{}", out.stderr);
    let out = sb.run(&["remove", "--source", "okx", "--yes"]).expect_code(OK);
    assert!(out.stderr.contains("removed 122 tasks from okx"), "{}", out.stderr);
    let left: Vec<(String, i64)> = sb.rows("SELECT source, count(*) FROM tasks GROUP BY source ORDER BY 1", &[]);
    let want: Vec<(String, i64)> =
        ["binance", "bitfinex", "bitstamp", "coinbase", "kraken"].iter().map(|s| (s.to_string(), 122)).collect();
    assert_eq!(left, want, "okx's tasks went, and only they");
}

#[test]
fn a_pair_named_on_purpose_with_nothing_queued_is_missing_not_fine() {
    let Some((sb, from, to)) = new_users_database() else { return };
    // A typo of the symbol, named with its exchange: its days are not
    // queued, one row of them, and the answer is incomplete.
    let args = ["query", "--missing", "-e", "binance", "-s", "BTCUSDT,BTCUSDX", "--format", "csv"];
    let out = sb.run(&[&args[..], &["--from", &from, "--to", &to]].concat()).expect_code(MISSING);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[1..], [format!("binance,BTCUSDX,{from},not queued,,,{to},61")], "{}", out.stdout);
    let out = sb.run(&["coverage", "-e", "binance", "-s", "BTCUSDX", "--from", &from]).expect_code(MISSING);
    assert!(out.stdout.contains("Left out, nothing queued in this range: 1 pair (binance BTCUSDX)"), "{}", out.stdout);
    let out = sb.run(&["chart", "-e", "binance", "-s", "BTCUSDX", "--from", &from, "-o", "x.svg", "--strict"]);
    out.expect_code(MISSING);
    // Without days, there is nothing of it anywhere to report on: said so, exit 3.
    let out = sb.run(&["query", "-e", "binance", "-s", "BTCUSDX"]).expect_code(MISSING);
    assert!(out.stderr.contains("nothing stored or queued for this selection"), "{}", out.stderr);
    // A source named with pairs of another: nothing of it there.
    let out = sb.run(&["query", "--source", "kraken", "-e", "binance", "-s", "BTCUSDT"]).expect_code(MISSING);
    assert!(out.stderr.contains("nothing stored or queued for this selection"), "{}", out.stderr);
}
