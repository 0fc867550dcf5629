//! The reduction of candles to columns, and the chart of a year of minutes.

use chrono::NaiveDate;

use super::*;
use crate::report::chart::{png, svg, Style, DEFAULT_SIZE};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A candle whose prices say which slot it is.
fn candle(slot: i64) -> (i64, Price) {
    let x = slot as f64;
    (
        slot,
        Price {
            open: x,
            high: x + 0.5 + (slot % 7) as f64,
            low: x - 0.5 - (slot % 5) as f64,
            close: x + 0.25,
            volume: 1.0,
        },
    )
}

/// 2023 at 1m (525,600 minutes), every minute a candle but the 30th of
/// June (a day of maintenance) and minute 7 of every hour (no trades).
fn year_of_minutes() -> ChartData {
    let (from, to) = (d("2023-01-01"), d("2023-12-31"));
    let interval = Interval::M1;
    let outage = interval.day_slots(d("2023-06-30"));
    let slots = interval.first_slot(from)..interval.day_slots(to).end;
    let candles: Vec<(i64, Price)> = slots.clone().filter(|s| !outage.contains(s) && s % 60 != 7).map(candle).collect();
    let mut gaps: Vec<(i64, i64, Reason)> =
        slots.filter(|s| s % 60 == 7 && !outage.contains(s)).map(|s| (s, s, Reason::NoData)).collect();
    gaps.push((outage.start, outage.end - 1, Reason::Failed { error: "HTTP 503".into() }));
    gaps.sort_by_key(|(a, _, _)| *a);
    ChartData {
        exchange: "binance".into(),
        symbol: "BTCUSDT".into(),
        source: None,
        from,
        to,
        prices: vec![],
        missing: vec![(d("2023-06-30"), Reason::Failed { error: "HTTP 503".into() })],
        candles: Some(Candles { interval, candles, gaps }),
    }
}

#[test]
fn each_column_takes_the_first_open_the_extremes_and_the_last_close_of_its_candles() {
    let candles: Vec<(i64, Price)> = (100..200).map(candle).collect();
    // 100 slots in 7 columns: 14 or 15 slots each, every slot in one.
    let columns = reduce(&candles, 100, 100, 7);
    assert_eq!(columns.len(), 7);
    let mut seen = 0;
    for (i, column) in columns.iter().enumerate() {
        let mine: Vec<&(i64, Price)> = candles.iter().filter(|(s, _)| column_of(s - 100, 100, 7) == i as i64).collect();
        seen += mine.len();
        let c = column.expect("every column has candles");
        assert_eq!(c.open, mine[0].1.open, "the first open, column {i}");
        assert_eq!(c.close, mine[mine.len() - 1].1.close, "the last close, column {i}");
        assert_eq!(c.high, mine.iter().map(|(_, p)| p.high).fold(f64::MIN, f64::max));
        assert_eq!(c.low, mine.iter().map(|(_, p)| p.low).fold(f64::MAX, f64::min));
        assert_eq!(c.volume, mine.len() as f64);
    }
    assert_eq!(seen, 100);
    // As many columns as slots: each candle as it is.
    let same = reduce(&candles, 100, 100, 100);
    assert!(same.iter().zip(&candles).all(|(c, (_, p))| *c == Some(*p)));
}

#[test]
fn a_column_without_candles_stays_empty_and_candles_outside_are_left_out() {
    // Slots 100..400 in 30 columns of 10; slots 200..=239 have no candle.
    let candles: Vec<(i64, Price)> = (90..410).filter(|s| !(200..240).contains(s)).map(candle).collect();
    let columns = reduce(&candles, 100, 300, 30);
    let empty: Vec<usize> = columns.iter().enumerate().filter(|(_, c)| c.is_none()).map(|(i, _)| i).collect();
    assert_eq!(empty, [10, 11, 12, 13]);
    assert_eq!(columns[0].unwrap().open, 100.0, "slot 90 is before the range");
    assert_eq!(columns[29].unwrap().close, 399.25, "slot 400 is after it");
}

#[test]
fn a_year_of_minutes_reduces_to_the_charts_columns_with_its_gaps() {
    let data = year_of_minutes();
    let plot = Plot::of(&data, 870);
    assert_eq!(plot.units, 870);
    // The day of maintenance spans more than two columns (870 / 365): the
    // ones wholly inside it are empty, banded as failed.
    let (first, end) = plot.day_columns(&data, d("2023-06-30"));
    let failed: Vec<&(i64, i64, Kind)> = plot.bands.iter().filter(|(_, _, k)| *k == Kind::Failed).collect();
    assert_eq!(failed.len(), 1, "{:?}", plot.bands);
    let (a, b, _) = failed[0];
    assert!(first <= *a && *b < end && b >= a, "{a}..={b} within {first}..{end}");
    // A minute without trades an hour leaves no column empty: the line
    // runs on, and the legend still counts every such minute.
    assert_eq!(plot.bands.len(), 1);
    assert_eq!(plot.points.len() as i64, plot.units - (b - a + 1));
    assert!(plot.tally.contains(&(Kind::NoData, 365 * 24 - 24)), "{:?}", plot.tally);
    assert!(plot.tally.contains(&(Kind::Failed, 1440)), "{:?}", plot.tally);
    assert_eq!(plot.day_of(&data, 0), d("2023-01-01"));
    assert_eq!(plot.day_of(&data, plot.units - 1), d("2023-12-31"));
    // The day's first column may start the evening before; the column
    // after its last starts the day after.
    assert!([d("2023-06-29"), d("2023-06-30")].contains(&plot.day_of(&data, first)));
    assert_eq!(plot.day_of(&data, end), d("2023-07-01"));
}

#[test]
fn a_year_of_minutes_draws_as_svg_and_png_with_the_gap_breaking_the_line() {
    let data = year_of_minutes();
    let drawn = svg(&data, Style::Line, DEFAULT_SIZE).unwrap();
    let lines = drawn.lines().filter(|l| l.starts_with("<polyline") && l.contains("stroke=\"#1F4E9C\"")).count();
    assert_eq!(lines, 2, "the line is broken once, at the day of maintenance");
    assert!(drawn.contains(r#"data-day="2023-06-30" data-reason="failed""#), "the day's hover names it");
    assert!(drawn.contains("close of 1m candles"), "the caption names the interval");
    assert!(drawn.contains("no data (8736 candles)"), "the legend counts the minutes without trades");
    assert!(drawn.len() < 400_000, "a column a pixel, not a point a minute: {} bytes", drawn.len());
    let png = png(&data, Style::Candles, DEFAULT_SIZE).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}
