//! The chart's tests: what a reader of the SVG or the PNG would notice.

use std::time::Duration;

use chrono::NaiveDate;

use super::*;
use crate::store::{Completion, Create, Options, Outcome};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn price(close: f64) -> Price {
    Price { open: close - 1.0, high: close + 2.0, low: close - 3.0, close, volume: 10.0 }
}

/// A week of `exchange`'s btc with a price every day but those in `missing`.
fn week(exchange: &str, missing: &[(&str, Reason)]) -> ChartData {
    let (from, to) = (d("2020-03-01"), d("2020-03-07"));
    let missing: Vec<(NaiveDate, Reason)> = missing.iter().map(|(day, r)| (d(day), r.clone())).collect();
    let prices = from
        .iter_days()
        .take_while(|day| *day <= to)
        .filter(|day| !missing.iter().any(|(m, _)| m == day))
        .enumerate()
        .map(|(i, day)| (day, price(100.0 + 10.0 * i as f64)))
        .collect();
    ChartData {
        exchange: exchange.into(),
        symbol: "btc".into(),
        source: None,
        from,
        to,
        prices,
        missing,
        candles: None,
    }
}

/// The value of every `name="..."` attribute of the elements that start with `tag`.
fn attributes<'a>(svg: &'a str, tag: &str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    svg.match_indices(tag)
        .filter_map(|(at, _)| {
            let element = &svg[at..at + svg[at..].find('>')?];
            let start = element.find(&needle)? + needle.len();
            Some(&element[start..start + element[start..].find('"')?])
        })
        .collect()
}

/// The x coordinates of each polyline in the price line's colour.
fn price_lines(svg: &str) -> Vec<Vec<f64>> {
    let stroke = format!("stroke=\"#{:02X}{:02X}{:02X}\"", 31, 78, 156);
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && l.contains(&stroke))
        .map(|l| {
            let points = &l[l.find("points=\"").unwrap() + 8..];
            let points = &points[..points.find('"').unwrap()];
            points.split_whitespace().map(|p| p.split(',').next().unwrap().parse().unwrap()).collect()
        })
        .collect()
}

#[test]
fn a_missing_day_breaks_the_line_and_is_marked_by_a_gap() {
    let data = week("bitstamp", &[("2020-03-04", Reason::NoData)]);
    let svg = svg(&data, Style::Line, DEFAULT_SIZE).unwrap();

    assert_eq!(attributes(&svg, "<rect class=\"gap\"", "data-day"), ["2020-03-04"]);
    assert_eq!(attributes(&svg, "<rect class=\"gap\"", "data-reason"), ["no data"]);
    assert!(svg.contains("<title>2020-03-04: no data</title></rect>"), "{svg}");
    let left: f64 = attributes(&svg, "<rect class=\"gap\"", "x")[0].parse().unwrap();
    let width: f64 = attributes(&svg, "<rect class=\"gap\"", "width")[0].parse().unwrap();
    assert!(width > 10.0, "a week across 960 pixels: a day is wide");

    let lines = price_lines(&svg);
    assert_eq!(lines.len(), 2, "one line before the gap, one after, never across it:\n{svg}");
    assert_eq!(lines.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3]);
    for line in &lines {
        let before = line.iter().all(|x| *x < left);
        let after = line.iter().all(|x| *x > left + width);
        assert!(before || after, "a line enters the gap at {left}..{}: {line:?}", left + width);
    }
    assert!(svg.contains(">\nno data (1)\n</text>"), "the legend names the reason:\n{svg}");
}

#[test]
fn each_missing_day_has_a_gap_naming_the_day_and_why() {
    let missing = [
        ("2020-03-02", Reason::Failed { error: "HTTP 404".into() }),
        ("2020-03-03", Reason::Failed { error: "HTTP 404".into() }),
        ("2020-03-05", Reason::NotQueued),
        ("2020-03-07", Reason::PriceDeleted),
    ];
    let data = week("kraken", &missing);
    for style in [Style::Line, Style::Candles] {
        let svg = svg(&data, style, DEFAULT_SIZE).unwrap();
        let gap = "<rect class=\"gap\"";
        assert_eq!(attributes(&svg, gap, "data-day"), ["2020-03-02", "2020-03-03", "2020-03-05", "2020-03-07"]);
        assert_eq!(attributes(&svg, gap, "data-reason"), ["failed", "failed", "not queued", "price deleted"]);
        assert!(svg.contains("<title>2020-03-02: failed: HTTP 404</title>"), "{svg}");
        let xs: Vec<i32> = attributes(&svg, gap, "x").iter().map(|x| x.parse().unwrap()).collect();
        let widths: Vec<i32> = attributes(&svg, gap, "width").iter().map(|x| x.parse().unwrap()).collect();
        assert!((xs[1] - (xs[0] + widths[0])).abs() <= 1, "adjacent days, adjacent slots: {xs:?} {widths:?}");
        assert!(xs.windows(2).all(|w| w[0] < w[1]));
        assert!(svg.ends_with("</svg>\n"), "the gaps go inside the document");
    }
    let candles = svg(&data, Style::Candles, DEFAULT_SIZE).unwrap();
    assert!(price_lines(&candles).is_empty(), "candles draw no line");
    assert!(candles.contains("open, high, low, close"), "the caption says what is drawn");
}

#[test]
fn hostile_names_and_errors_appear_only_escaped() {
    let hostile = "<img src=x onerror=alert(1)>";
    let error = "\"'><script>alert(2)</script>&\u{1}";
    let mut data = week(hostile, &[("2020-03-03", Reason::Failed { error: error.into() })]);
    data.symbol = "a&b".into();
    for style in [Style::Line, Style::Candles] {
        let svg = svg(&data, style, DEFAULT_SIZE).unwrap();
        assert!(!svg.contains("<img") && !svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;img src=x onerror=alert(1)&gt; a&amp;b: "), "the caption, escaped:\n{svg}");
        assert!(
            svg.contains(
                "<title>2020-03-03: failed: &quot;&apos;&gt;&lt;script&gt;alert(2)&lt;/script&gt;&amp;\u{fffd}</title>"
            ),
            "{svg}"
        );
        assert!(!svg.contains('\u{1}'), "a control character would make the SVG unreadable as XML");
        // Shown inline under `Content-Security-Policy: style-src 'self'`.
        assert!(!svg.contains("style="), "no inline style:\n{svg}");
    }
}

#[test]
fn without_prices_the_gaps_are_drawn_with_a_note() {
    let (from, to) = (d("2020-03-01"), d("2020-03-03"));
    let missing = vec![
        (d("2020-03-01"), Reason::NotQueued),
        (d("2020-03-02"), Reason::Queued { attempts: 0, error: None }),
        (d("2020-03-03"), Reason::InProgress),
    ];
    let data = ChartData {
        exchange: "x".into(),
        symbol: "btc".into(),
        source: None,
        from,
        to,
        prices: vec![],
        missing,
        candles: None,
    };
    let svg = svg(&data, Style::Line, DEFAULT_SIZE).unwrap();
    assert!(svg.contains(">\nno prices in this range\n</text>"), "{svg}");
    let codes: Vec<&str> = data.missing.iter().map(|(_, reason)| reason.code()).collect();
    assert_eq!(attributes(&svg, "<rect class=\"gap\"", "data-reason"), codes, "each gap named by its reason");
    assert!(png(&data, Style::Candles, MIN_SIZE).is_ok());
}

#[test]
fn every_day_priced_says_so_and_a_day_alone_is_a_dot() {
    let data = week("bitstamp", &[]);
    let svg = svg(&data, Style::Line, DEFAULT_SIZE).unwrap();
    assert!(svg.contains("every day of the range has a price"), "{svg}");
    assert!(!svg.contains("class=\"gap\""));
    assert_eq!(price_lines(&svg).len(), 1);

    let alone = week("bitstamp", &[("2020-03-02", Reason::NoData), ("2020-03-04", Reason::NoData)]);
    let svg = super::svg(&alone, Style::Line, DEFAULT_SIZE).unwrap();
    assert_eq!(price_lines(&svg).len(), 1, "03-05 to 03-07; 03-01 and 03-03 alone are dots");
    assert_eq!(svg.matches("<circle").count(), 2, "{svg}");
}

#[test]
fn the_png_is_a_png_of_the_size_asked_for() {
    let data = week("bitstamp", &[("2020-03-04", Reason::NoData)]);
    for (style, size) in [(Style::Line, DEFAULT_SIZE), (Style::Candles, (640, 360))] {
        let bytes = png(&data, style, size).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
        let decoder = ::png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), size);
    }
}

#[test]
fn sizes_out_of_bounds_are_refused() {
    let data = week("bitstamp", &[]);
    for size in [(0, 0), (100, 480), (960, 100), (5000, 480)] {
        let err = svg(&data, Style::Line, size).unwrap_err();
        assert!(err.downcast_ref::<Usage>().is_some(), "{err}");
        assert!(err.to_string().contains("like 960x480"), "{err}");
    }
}

#[test]
fn loading_reads_the_prices_and_why_the_other_days_have_none() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&Options::new(dir.path().join("q.db"), Create::IfMissing)).unwrap();
    let days: Vec<NaiveDate> = d("2020-03-01").iter_days().take(4).collect();
    let now = crate::clock::now_ms();
    store
        .enqueue_days(
            "cryptodb",
            &["x".into()],
            &["btc".into()],
            crate::interval::Interval::D1,
            &days[..3],
            now,
            Duration::ZERO,
        )
        .unwrap();
    let tasks = store.claim("test", 10, now, now + 60_000, &["cryptodb".into()], None).unwrap();
    let done: Vec<Completion> = tasks
        .into_iter()
        .map(|task| {
            let outcome = if task.day == days[1] { Outcome::NoData } else { Outcome::Price(price(7.0)) };
            Completion { task, outcome }
        })
        .collect();
    store.complete(&done).unwrap();

    let data = ChartData::load(&store, "x", "btc", days[0], days[3]).unwrap();
    assert_eq!(data.prices, [(days[0], price(7.0)), (days[2], price(7.0))]);
    assert_eq!(data.missing, [(days[1], Reason::NoData), (days[3], Reason::NotQueued)]);
    assert_eq!((data.days(), data.unsettled()), (4, 1));
}

#[test]
fn the_caption_names_a_source_the_exchange_does_not() {
    let mut data = week("Coinbase", &[]);
    let plain = svg(&data, Style::Line, DEFAULT_SIZE).unwrap();
    assert!(plain.contains("\nCoinbase btc: close, 2020-03-01"), "{plain}");
    data.source = Some("cryptocompare".into());
    let drawn = svg(&data, Style::Line, DEFAULT_SIZE).unwrap();
    assert!(drawn.contains("\nCoinbase btc from cryptocompare: close, 2020-03-01"), "{drawn}");
}

#[test]
fn every_reason_has_its_own_colour_and_a_legend_entry() {
    let error = || "HTTP 503".to_string();
    let reasons = [
        Reason::NotQueued,
        Reason::Queued { attempts: 1, error: Some(error()) },
        Reason::InProgress,
        Reason::NotYetDue { at: 0, note: None },
        Reason::Cooling { error: error(), at: 0, rounds: 1 },
        Reason::Failed { error: error() },
        Reason::NoData,
        Reason::OutsideHistory,
        Reason::Abandoned { error: error() },
        Reason::PriceDeleted,
    ];
    // A week has seven days: the ten reasons over two charts.
    let days = ["2020-03-01", "2020-03-02", "2020-03-03", "2020-03-04", "2020-03-05", "2020-03-06", "2020-03-07"];
    let mut colours = std::collections::BTreeSet::new();
    for chunk in reasons.chunks(days.len()) {
        let missing: Vec<(&str, Reason)> = days.iter().copied().zip(chunk.iter().cloned()).collect();
        let drawn = svg(&week("bitstamp", &missing), Style::Line, DEFAULT_SIZE).unwrap();
        for reason in chunk {
            let code = reason.code().replace('\'', "&apos;");
            assert!(drawn.contains(&format!(">\n{code} (1)\n</text>")), "{code}: {drawn}");
            colours.insert(format!("{:?}", super::draw::colour_of(reason)));
        }
    }
    assert_eq!(colours.len(), reasons.len(), "a colour each: {colours:?}");
    let kinds: Vec<crate::life::Kind> = reasons.iter().map(Reason::kind).collect();
    assert_eq!(kinds, crate::life::Kind::missing().collect::<Vec<_>>(), "every kind of reason, in the legend's order");
}

/// The pixels of `png` (RGB), with its width.
fn pixels(png: &[u8]) -> (Vec<u8>, usize) {
    let mut reader = ::png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, ::png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (buf, info.width as usize)
}

#[test]
fn the_png_line_is_unbroken_where_every_day_has_a_price() {
    // Three years of a price that jumps about, as a real one does: many days
    // to a pixel column, steep strokes up and down within a column.
    let (from, to) = (d("2018-01-01"), d("2020-12-31"));
    let mut level = 20_000.0;
    let prices: Vec<(NaiveDate, Price)> = from
        .iter_days()
        .take_while(|day| *day <= to)
        .enumerate()
        .map(|(i, day)| {
            let wave = ((i as f64) / 9.0).sin() * 4_000.0 + ((i * 7919 % 101) as f64 - 50.0) * 40.0;
            level = (level + wave * 0.1).clamp(12_000.0, 28_000.0);
            (day, price(level + wave))
        })
        .collect();
    let data = ChartData {
        exchange: "binance".into(),
        symbol: "BTCUSDT".into(),
        source: None,
        from,
        to,
        prices,
        missing: vec![],
        candles: None,
    };
    let (rgb, width) = pixels(&png(&data, Style::Line, DEFAULT_SIZE).unwrap());
    // The line's colour (LINE in draw.rs); nothing else is drawn in it.
    let is_line = |x: usize, y: usize| rgb[3 * (y * width + x)..3 * (y * width + x) + 3] == [31, 78, 156];
    let height = rgb.len() / 3 / width;
    let columns: Vec<usize> = (0..width).filter(|x| (0..height).any(|y| is_line(*x, y))).collect();
    let (first, last) = (columns[0], columns[columns.len() - 1]);
    assert!(last - first > DEFAULT_SIZE.0 as usize / 2, "the line spans the chart: {first}..{last}");
    // A line through consecutive days, its x always rising, meets every
    // pixel column between its ends in one unbroken run of pixels.
    let broken: Vec<(usize, usize)> = (first..=last)
        .map(|x| {
            let runs = (0..height).filter(|y| is_line(x, *y) && (*y == 0 || !is_line(x, y - 1))).count();
            (x, runs)
        })
        .filter(|(_, runs)| *runs != 1)
        .collect();
    assert!(broken.is_empty(), "columns where the line is missing or in pieces (x, runs): {broken:?}");
}
