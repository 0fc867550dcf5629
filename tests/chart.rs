use chrono::NaiveDate;
use pricequeue::error::{MISSING, OK, SETTLED, USAGE};
use pricequeue::server::data;

use super::Sandbox;
use crate::common::day;

/// The (data-day, data-reason) of every gap rectangle of an SVG chart.
fn gaps(svg: &str) -> Vec<(String, String)> {
    let attribute = |element: &str, name: &str| {
        let start = element.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        element[start..start + element[start..].find('"').expect("a closing quote")].to_string()
    };
    svg.match_indices("<rect class=\"gap\"")
        .map(|(at, _)| {
            let element = &svg[at..at + svg[at..].find('>').expect("the end of the tag")];
            (attribute(element, "data-day"), attribute(element, "data-reason"))
        })
        .collect()
}

#[test]
fn a_chart_marks_each_missing_day_with_its_reason() {
    let Some(sb) = Sandbox::new() else { return };
    let range = ["-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"];
    sb.run(&[&["fetch"], &range[..]].concat()).expect_code(OK);
    let days: Vec<NaiveDate> = day("2020-03-01").iter_days().take(10).collect();
    let no_data: Vec<NaiveDate> =
        days.iter().copied().filter(|d| data::price("bitstamp", "btc", *d).is_none()).collect();
    assert!(!no_data.is_empty() && no_data.len() < 8, "the server has a few gaps there, or this test shows little");

    // Every day fetched, some without a price: settled. A written chart
    // exits 0 (`chart ... && mail` mails it); --strict exits as query does.
    let out = sb.run(&[&["chart"], &range[..], &["-o", "settled.svg"]].concat()).expect_code(OK);
    sb.run(&[&["chart", "--strict"], &range[..], &["-o", "settled.svg"]].concat()).expect_code(SETTLED);
    assert!(
        out.stderr.contains("wrote the chart to settled.svg: bitstamp btc, 2020-03-01 to 2020-03-10"),
        "{}",
        out.stderr
    );
    let svg = std::fs::read_to_string(sb.dir.path().join("settled.svg")).expect("the chart was written");
    let want: Vec<(String, String)> = no_data.iter().map(|d| (d.to_string(), "no data".to_string())).collect();
    assert_eq!(gaps(&svg), want);

    // A price deleted by hand is a gap too, and something to fetch again.
    let deleted = *days[2..8].iter().find(|d| !no_data.contains(d)).expect("a day with a price");
    assert_eq!(sb.execute("DELETE FROM prices WHERE exchange = 'bitstamp' AND day = ?1", &[&deleted]), 1);
    let out = sb.run(&[&["chart", "--strict"], &range[..], &["-o", "chart.svg"]].concat()).expect_code(MISSING);
    assert!(out.stderr.contains("1 price deleted"), "{}", out.stderr);
    let svg = std::fs::read_to_string(sb.dir.path().join("chart.svg")).expect("the chart was written");
    let mut want = want;
    want.push((deleted.to_string(), "price deleted".to_string()));
    want.sort();
    assert_eq!(gaps(&svg), want);
    assert!(svg.contains(&format!("<title>{deleted}: price deleted</title>")), "{svg}");

    let out = sb.run(&[&["chart"], &range[..], &["--candles", "--size", "640x360", "-o", "chart.png"]].concat());
    out.expect_code(OK);
    let png = std::fs::read(sb.dir.path().join("chart.png")).expect("the chart was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");

    let out = sb.run(&[&["--quiet", "chart"], &range[..], &["-o", "-"]].concat()).expect_code(OK);
    assert!(out.stdout.starts_with("<svg ") && out.stdout.trim_end().ends_with("</svg>"), "{}", out.stdout);
    assert_eq!(out.stderr, "", "quiet: a chart written is nothing to report");
    assert_eq!(gaps(&out.stdout), want);
}

#[test]
fn a_chart_is_of_one_exchange_and_symbol_into_an_svg_or_a_png() {
    let Some(sb) = Sandbox::new() else { return };
    let days = ["--from", "2020-03-01", "--to", "2020-03-03"];
    for (args, says) in [
        (&["-e", "bitstamp,kraken", "-s", "btc", "-o", "c.svg"][..], "--exchange bitstamp,kraken: a chart is of one"),
        (&["-e", "bitstamp", "-s", "all", "-o", "c.svg"][..], "--symbol all: a chart is of one symbol"),
        (&["-e", "bitstamp", "-s", "btc", "-o", "c.jpg"][..], "does not end in .svg or .png"),
        (&["-e", "bitstamp", "-s", "btc", "-o", "c.svg", "--size", "10x10"][..], "cannot be drawn"),
    ] {
        let out = sb.run(&[&["chart"], args, &days[..]].concat()).expect_code(USAGE);
        assert!(out.stderr.contains(says), "{args:?}: {}", out.stderr);
    }
    assert!(!sb.dir.path().join("c.svg").exists());

    // Nothing of bitstamp's queued yet: every day is a gap, and the chart says so.
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]).expect_code(OK);
    let out = sb.run(&[&["chart", "-e", "bitstamp", "-s", "btc", "-o", "c.svg"], &days[..]].concat());
    out.expect_code(OK);
    let svg = std::fs::read_to_string(sb.dir.path().join("c.svg")).expect("the chart was written");
    assert!(svg.contains("no prices in this range"), "{svg}");
    let reasons: Vec<String> = gaps(&svg).into_iter().map(|(_, r)| r).collect();
    assert_eq!(reasons, ["not queued"; 3]);

    // A name left open is filled in from the pairs with tasks, as in
    // `query`: `--symbol btc` alone is kraken's, the one pair of it. (It
    // was required, and `-s btc` alone a usage error naming --exchange.)
    let out = sb.run(&[&["chart", "-s", "btc", "-o", "k.svg"], &days[..]].concat()).expect_code(OK);
    assert!(out.stderr.contains("kraken btc, 2020-03-01 to 2020-03-03"), "{}", out.stderr);
    // Two pairs of it: the chart is of one, and the error names both.
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"]).expect_code(OK);
    let out = sb.run(&[&["chart", "-s", "btc", "-o", "two.svg"], &days[..]].concat()).expect_code(USAGE);
    assert!(out.stderr.contains("a chart is of one pair"), "{}", out.stderr);
    assert!(out.stderr.contains("(bitstamp btc, kraken btc)") && out.stderr.contains("--exchange"), "{}", out.stderr);
    assert!(!sb.dir.path().join("two.svg").exists());
}

#[test]
fn a_chart_below_a_day_draws_its_candles_and_bands_the_day_without() {
    let Some(sb) = Sandbox::new() else { return };
    super::coverage::hours_with_gaps(&sb);
    let args = ["chart", "--interval", "1h", "-s", "BTCUSDT", "--from", "2024-01-01", "--to", "2024-01-03"];
    let out = sb.run(&[&args[..], &["-o", "hours.svg"]].concat()).expect_code(OK);
    assert!(
        out.stderr
            .contains("binance BTCUSDT, 2024-01-01 to 2024-01-03: 45 1h candles, 2 missing (1 failed, 1 no data)"),
        "{}",
        out.stderr
    );
    let svg = std::fs::read_to_string(sb.dir.path().join("hours.svg")).unwrap();
    assert_eq!(gaps(&svg), [("2024-01-02".into(), "no data".into()), ("2024-01-03".into(), "failed".into())]);
    assert!(svg.contains("close of 1h candles"), "the caption names the interval");
    sb.run(&[&args[..], &["--strict", "-o", "hours.png"]].concat()).expect_code(MISSING);
}
