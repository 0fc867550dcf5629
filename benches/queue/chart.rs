//! Section 10, charts of any size: a year of 1m candles (525,600, one day
//! of it missing) drawn as SVG and PNG, reduced to the chart's pixel
//! columns. Timed here, never in a test: the draw alone (the candles are
//! made in memory), the median and slowest of several.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricequeue::interval::Interval;
use pricequeue::life::Reason;
use pricequeue::price::Price;
use pricequeue::report::chart::{png, reduce, svg, Candles, ChartData, Style, DEFAULT_SIZE};

const TIMES: usize = 7;

pub fn run() {
    println!("\n## 10. A chart of 525,600 1m candles (2023, one day missing), {DEFAULT_SIZE:?} pixels: median and slowest of {TIMES}");
    let data = year_of_minutes();
    let slots = 365 * 1440;
    let first = Interval::M1.first_slot(data.from);
    let candles = &data.candles.as_ref().expect("candles").candles;
    println!("\n| what | median | slowest | bytes |");
    println!("|---|---|---|---|");
    row("reduce to 870 columns", || (reduce(candles, first, slots, 870).len(), 0));
    row("SVG, line", || (0, svg(&data, Style::Line, DEFAULT_SIZE).expect("svg").len()));
    row("SVG, candles", || (0, svg(&data, Style::Candles, DEFAULT_SIZE).expect("svg").len()));
    row("PNG, line", || (0, png(&data, Style::Line, DEFAULT_SIZE).expect("png").len()));
    row("PNG, candles", || (0, png(&data, Style::Candles, DEFAULT_SIZE).expect("png").len()));
}

/// Runs `f` TIMES and prints the median and the slowest, with the size it made.
fn row(what: &str, mut f: impl FnMut() -> (usize, usize)) {
    let mut times: Vec<Duration> = Vec::with_capacity(TIMES);
    let mut bytes = 0;
    for _ in 0..TIMES {
        let start = Instant::now();
        bytes = std::hint::black_box(f()).1;
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    let bytes = if bytes == 0 { "-".to_string() } else { bytes.to_string() };
    println!("| {what} | {} | {} | {bytes} |", ms(times[TIMES / 2]), ms(times[TIMES - 1]));
}

/// 2023 at 1m: a candle every minute but those of the 30th of June.
fn year_of_minutes() -> ChartData {
    let day = |m, d| NaiveDate::from_ymd_opt(2023, m, d).expect("a day of 2023");
    let (from, to, outage) = (day(1, 1), day(12, 31), day(6, 30));
    let i = Interval::M1;
    let missing = i.day_slots(outage);
    let candles: Vec<(i64, Price)> = (i.first_slot(from)..i.day_slots(to).end)
        .filter(|s| !missing.contains(s))
        .map(|s| {
            let x = 20_000.0 + ((s as f64) / 900.0).sin() * 3_000.0 + (s % 13) as f64;
            (s, Price { open: x, high: x + 7.0, low: x - 6.0, close: x + 1.0, volume: 2.0 })
        })
        .collect();
    let failed = Reason::Failed { error: "HTTP 503".into() };
    ChartData {
        exchange: "binance".into(),
        symbol: "BTCUSDT".into(),
        source: None,
        from,
        to,
        prices: vec![],
        missing: vec![(outage, failed.clone())],
        candles: Some(Candles { interval: i, candles, gaps: vec![(missing.start, missing.end - 1, failed)] }),
    }
}
