use chrono::NaiveDate;
use pricequeue::error::{FAILED, MISSING, OK, SETTLED};
use pricequeue::server::data;

use super::Sandbox;
use crate::common::{day, Output};

/// The columns of the row of (exchange, symbol): what lies between its
/// frame characters.
#[track_caller]
fn row(out: &Output, exchange: &str, symbol: &str) -> Vec<char> {
    let line = out
        .stdout
        .lines()
        .find(|l| l.split_whitespace().take(2).eq([exchange, symbol]))
        .unwrap_or_else(|| panic!("no row for {exchange} {symbol}:\n{}", out.stdout));
    let start = line.find('|').unwrap_or_else(|| panic!("no frame: {line}"));
    let end = line.rfind('|').unwrap_or_else(|| panic!("no frame: {line}"));
    assert!(end > start, "{line}");
    line[start + 1..end].chars().collect()
}

/// The glyph of a fetched day of the built-in server's data.
fn fetched(exchange: &str, d: NaiveDate) -> char {
    if data::price(exchange, "btc", d).is_some() {
        '#'
    } else {
        '.'
    }
}

#[test]
fn each_day_shows_what_it_holds() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "bitstamp,kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"])
        .expect_code(OK);
    // The server 404s an exchange it does not know: every task fails.
    sb.run(&["fetch", "-e", "a/b", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10", "--allow-unknown"])
        .expect_code(FAILED);
    sb.run(&[
        "enqueue",
        "-e",
        "a/b,bitstamp,kraken",
        "-s",
        "btc",
        "--from",
        "2020-03-11",
        "--to",
        "2020-03-12",
        "--allow-unknown",
    ])
    .expect_code(OK);

    let out = sb
        .run(&["coverage", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-13", "--width", "200"])
        .expect_code(MISSING);
    assert!(
        out.stdout.starts_with("Coverage 2020-03-01 .. 2020-03-13 (13 days), one column per day\n"),
        "{}",
        out.stdout
    );
    let days: Vec<NaiveDate> = day("2020-03-01").iter_days().take(13).collect();
    let mut priced = 0;
    for exchange in ["bitstamp", "kraken"] {
        let mut want: Vec<char> = days[..10].iter().map(|d| fetched(exchange, *d)).collect();
        want.extend(['?', '?', ' ']);
        assert_eq!(row(&out, exchange, "btc"), want, "{exchange}:\n{}", out.stdout);
        priced += want.iter().filter(|c| **c == '#').count();
        assert!(want.contains(&'.'), "the server has gaps in ten days of {exchange}, or this test shows nothing");
    }
    assert_eq!(row(&out, "a/b", "btc"), "xxxxxxxxxx?? ".chars().collect::<Vec<_>>());
    // Rows in name order, one per pair.
    let labels: Vec<&str> =
        out.stdout.lines().filter(|l| l.contains('|')).map(|l| &l[..l.find(' ').unwrap()]).collect();
    assert_eq!(labels, ["a/b", "bitstamp", "kraken"]);

    assert!(out.stdout.contains("Legend: # prices"), "{}", out.stdout);
    for meaning in ["x failed", "? pending: queued or in progress", "(blank) not asked: never queued"] {
        assert!(out.stdout.contains(meaning), "{meaning}:\n{}", out.stdout);
    }
    // The summary names each reason in query's words (it said "6 pending,
    // 3 not asked", and called days outside the source's history no data).
    let summary = format!(
        "39 prices asked for: {priced} stored, {} missing (10 failed, {} no data, 3 not queued, 6 queued); \
         drawn: 3 rows x 13 days",
        39 - priced,
        20 - priced,
    );
    assert!(out.stdout.contains(&summary), "{summary}\n{}", out.stdout);
    assert!(!out.stdout.contains('\x1b'), "no color into a pipe");
}

#[test]
fn a_long_range_in_a_small_width_takes_weeks_or_months() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-04-30"]).expect_code(OK);

    // 61 days in 40 characters: ISO weeks, from Monday 24 February to Monday 27 April.
    // Every day is fetched (a price or no data): settled, with gaps.
    let out = sb.run(&["coverage", "--width", "40"]).expect_code(SETTLED);
    assert!(out.stdout.contains("one column per ISO week (Monday to Sunday)"), "{}", out.stdout);
    let weeks: Vec<char> = day("2020-02-24")
        .iter_days()
        .step_by(7)
        .take(10)
        .map(|monday| {
            let days: Vec<char> = monday
                .iter_days()
                .take(7)
                .filter(|d| (day("2020-03-01")..=day("2020-04-30")).contains(d))
                .map(|d| fetched("kraken", d))
                .collect();
            match (days.contains(&'#'), days.contains(&'.')) {
                (true, true) => '+',
                (true, false) => '#',
                _ => '.',
            }
        })
        .collect();
    assert_eq!(row(&out, "kraken", "btc"), weeks, "{}", out.stdout);
    assert!(weeks.contains(&'+'), "some week mixes prices and no data, or this test shows nothing");
    assert!(out.stdout.contains("A column shows what most needs"), "{}", out.stdout);

    // Two years: months in 40 characters, weeks in 120.
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2019-01-01", "--to", "2020-12-31"]).expect_code(OK);
    let out = sb.run(&["coverage", "--width", "40"]).expect_code(MISSING);
    assert!(out.stdout.contains("2019-01-01 .. 2020-12-31 (731 days), one column per month"), "{}", out.stdout);
    let month = |first: &str, days: usize| {
        if day(first).iter_days().take(days).all(|d| fetched("kraken", d) == '#') {
            '#'
        } else {
            '+'
        }
    };
    let mut months = vec!['?'; 24];
    months[14] = month("2020-03-01", 31);
    months[15] = month("2020-04-01", 30);
    assert_eq!(row(&out, "kraken", "btc"), months, "{}", out.stdout);
    assert!(out.stdout.lines().nth(1).is_some_and(|axis| axis.contains("2019") && axis.contains("2020")));

    let out = sb.run(&["coverage", "--width", "120"]).expect_code(MISSING);
    assert!(out.stdout.contains("one column per ISO week"), "{}", out.stdout);
    assert_eq!(row(&out, "kraken", "btc").len(), 105);
    assert!(out.stdout.lines().all(|l| l.chars().count() <= 120), "{}", out.stdout);
}

#[test]
fn no_color_into_a_pipe_or_with_no_color() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"]).expect_code(OK);
    let piped = sb.run(&["coverage"]).expect_code(MISSING);
    let mut cmd = sb.command(&["coverage"]);
    cmd.env("NO_COLOR", "1");
    let no_color = crate::common::run(cmd).expect_code(MISSING);
    for out in [&piped, &no_color] {
        assert!(!out.stdout.contains('\x1b'), "{:?}", out.stdout);
        assert!(out.stdout.is_ascii(), "plain glyphs without color: {}", out.stdout);
        assert_eq!(row(out, "kraken", "btc"), ['?'; 5]);
    }
}

#[test]
fn nothing_missing_exits_zero_and_nothing_stored_is_missing() {
    let Some(sb) = Sandbox::new() else { return };
    let first = day("2020-03-01").iter_days().find(|d| data::price("kraken", "btc", *d).is_some()).unwrap();
    let first = first.to_string();
    sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", &first]).expect_code(OK);
    let out = sb.run(&["coverage"]).expect_code(OK);
    assert_eq!(row(&out, "kraken", "btc"), ['#']);
    assert!(out.stdout.contains("1 price asked for: 1 stored, 0 missing; drawn: 1 row x 1 day"), "{}", out.stdout);

    // --from alone is that day, as in fetch: never asked for, so incomplete.
    // A pair with nothing queued in the range is no row of blanks: it is
    // left out, and named.
    let out = sb.run(&["coverage", "--from", "2021-01-01"]).expect_code(MISSING);
    assert!(!out.stdout.lines().any(|l| l.starts_with("kraken")), "{}", out.stdout);
    assert!(out.stdout.contains("Left out, nothing queued in this range: 1 pair (kraken btc)"), "{}", out.stdout);
    assert!(
        out.stdout.contains("1 price asked for: 0 stored, 1 missing (1 not queued); drawn: 0 rows x 1 day"),
        "{}",
        out.stdout
    );
    // A name the database has never seen: nothing to draw, and every price of it missing.
    let out = sb.run(&["coverage", "-e", "nosuch"]).expect_code(MISSING);
    assert!(out.stderr.contains("nothing stored or queued for this selection"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
    let out = sb.run(&["coverage", "--from", "2020-03-02", "--to", "2020-03-01"]).expect_code(2);
    assert!(out.stderr.contains("before --from"), "{}", out.stderr);
}

/// binance BTCUSDT at 1h, written as the store writes candles: 2024-01-01
/// done with every hour, 2024-01-02 done without 02:00 to 04:00 (proven
/// empty), 2024-01-03 failed without a candle; and one 1d task of the same
/// pair, 2024-01-01 queued, which no report at 1h counts.
pub(super) fn hours_with_gaps(sb: &Sandbox) {
    // The 1d task, which makes the database.
    sb.run(&["enqueue", "-e", "binance", "-s", "BTCUSDT", "--from", "2024-01-01", "--allow-unknown"]).expect_code(OK);
    let minute = |d: &str, hour: i64| day(d).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp() / 60 + hour * 60;
    let mut candles = Vec::new();
    for (d, hours) in [("2024-01-01", 0..24), ("2024-01-02", 0..24)] {
        for h in hours.filter(|h| d != "2024-01-02" || !(2..=4).contains(h)) {
            let x = 40_000 + h * 10;
            candles.push(format!("(1, {}, {x}, {}, {}, {}, 1.5)", minute(d, h), x + 7, x - 3, x + 2));
        }
    }
    let task = |interval: &str, d: &str, state: &str, error: &str, failure: &str| {
        format!(
            "INSERT INTO tasks (exchange, symbol, \"interval\", day, state, attempts, last_error, enqueued_at, \
             finished_at, source, failure) VALUES ('binance', 'BTCUSDT', '{interval}', '{d}', '{state}', 1, {error}, \
             '2024-01-04T00:00:00.000Z', '2024-01-04T00:00:00.000Z', 'binance', {failure});"
        )
    };
    sb.execute_batch(&format!(
        "INSERT INTO series (exchange, symbol, \"interval\") VALUES ('binance', 'BTCUSDT', '1h');
         INSERT INTO series_candles (series, minute, open, high, low, close, volume) VALUES {};
         {} {} {}",
        candles.join(", "),
        task("1h", "2024-01-01", "done", "NULL", "NULL"),
        task("1h", "2024-01-02", "done", "NULL", "NULL"),
        task("1h", "2024-01-03", "failed", "'HTTP 500'", "'permanent'"),
    ));
    sb.run(&["status", "--recount"]).expect_code(OK);
}

#[test]
fn below_a_day_a_day_with_proven_gaps_is_partial() {
    let Some(sb) = Sandbox::new() else { return };
    hours_with_gaps(&sb);
    let args = ["coverage", "--interval", "1h", "-s", "BTCUSDT", "--from", "2024-01-01", "--to", "2024-01-03"];
    let out = sb.run(&[&args[..], &["--width", "100"]].concat()).expect_code(MISSING);
    assert_eq!(row(&out, "binance", "BTCUSDT"), ['#', '+', 'x'], "{}", out.stdout);
    assert!(
        out.stdout.contains("72 candles asked for: 45 stored, 27 missing (24 failed, 3 no data)"),
        "{}",
        out.stdout
    );
    // Without the failed day, every gap is proven: settled.
    let settled = ["coverage", "--interval", "1h", "-s", "BTCUSDT", "--from", "2024-01-01", "--to", "2024-01-02"];
    let out = sb.run(&settled).expect_code(SETTLED);
    assert_eq!(row(&out, "binance", "BTCUSDT"), ['#', '+'], "{}", out.stdout);
    // At 1d the pair has one task, queued, and no candle of 1h counts.
    let out = sb.run(&["coverage", "-s", "BTCUSDT", "--from", "2024-01-01", "--to", "2024-01-01"]).expect_code(MISSING);
    assert_eq!(row(&out, "binance", "BTCUSDT"), ['?'], "{}", out.stdout);
}
