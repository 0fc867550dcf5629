//! The drawing of a chart, the same on every plotters backend: the
//! caption, the bands of the missing days under the prices, the prices
//! (a line per run of days with a price, or candles), and the legend.

use std::sync::OnceLock;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::plot::Plot;
use super::{axis, ChartData, Style};
use crate::life::Kind;

/// Where each missing day of a chart was drawn, in the backend's pixels:
/// what the SVG's hover layer needs.
pub(super) struct Frame {
    /// The top and bottom of the plotting area.
    pub top: i32,
    pub bottom: i32,
    /// For each of the data's missing days, in order, the left and right
    /// edges of its columns (a day's, at `1d`: half a day either side of
    /// where its price would be).
    pub slots: Vec<(i32, i32)>,
}

/// The colour of the band of a day missing for a reason of `kind` (a
/// price has none: it is drawn). The legend lists them in
/// [`Kind::ALL`]'s order.
const fn colour(kind: Kind) -> RGBColor {
    match kind {
        Kind::Price => BLACK,
        Kind::Partial => RGBColor(140, 190, 150),
        Kind::NotQueued => RGBColor(148, 103, 189),
        Kind::Queued => RGBColor(245, 197, 24),
        Kind::InProgress => RGBColor(31, 119, 180),
        Kind::NotYetDue => RGBColor(77, 157, 224),
        Kind::Cooling => RGBColor(240, 150, 110),
        Kind::Failed => RGBColor(228, 96, 46),
        Kind::NoData => RGBColor(127, 127, 127),
        Kind::OutsideHistory => RGBColor(88, 100, 130),
        Kind::Abandoned => RGBColor(64, 68, 79),
        Kind::PriceDeleted => RGBColor(227, 119, 194),
    }
}

/// The colour of the line, and of the candles of days that closed higher
/// (hollow, the page's colour of prices) or lower (filled, vermillion):
/// told apart by their fill as well as their hue, for colour-blind readers.
const LINE: RGBColor = RGBColor(31, 78, 156);
const GAIN: RGBColor = RGBColor(23, 128, 92);
const LOSS: RGBColor = RGBColor(228, 96, 46);

/// How opaque a missing day's band is: the grid shows through.
const BAND_ALPHA: f64 = 0.25;

/// The font every text is drawn in (plotters' "sans-serif").
const FONT: &str = "sans-serif";

/// The legend's line height, in pixels.
const LEGEND_LINE: u32 = 20;

/// The colour of a reason's band, for the tests.
#[cfg(test)]
pub(super) fn colour_of(reason: &crate::life::Reason) -> RGBColor {
    colour(reason.kind())
}

/// Draws `data` in `style` on `root`, the whole of the backend.
pub(super) fn draw<DB>(root: &DrawingArea<DB, Shift>, data: &ChartData, style: Style) -> Result<Frame>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    crate::dates::check_range(data.from, data.to)?;
    register_font()?;
    root.fill(&WHITE).context("drawing the chart's background")?;
    let (width, height) = root.dim_in_pixel();
    // The plotting area is the width less the margins (10 each side) and
    // the price labels (70): a column of candles to a pixel at most.
    let columns = Plot::of(data, width.saturating_sub(90) as usize);
    let legend = legend_lines(root, &columns, width);
    let (plot, foot) = root.split_vertically(height - 8 - LEGEND_LINE * legend.len().max(1) as u32);
    let mut chart = axes(&plot, data, &columns, style)?;
    draw_gaps(&mut chart, &columns)?;
    match style {
        Style::Line => draw_line(&mut chart, &columns)?,
        Style::Candles => draw_candles(&mut chart, &columns)?,
    }
    if columns.points.is_empty() {
        let (x, y) = (chart.x_range(), chart.y_range());
        let note = Text::new(
            "no prices in this range",
            ((x.start + x.end) / 2, (y.start + y.end) / 2.0),
            (FONT, 16).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
        );
        chart.draw_series([note]).context("drawing the note")?;
    }
    draw_legend(&foot, &legend)?;
    Ok(frame(&chart, data, &columns))
}

/// The chart's coordinates: half columns on x (the column of index `i`,
/// a day at `1d`, takes the slot from `2i` to `2i + 2`, its price drawn at
/// `2i + 1`; plotters takes labels of our own at places we choose only on
/// an integer axis), prices on y.
type Coords = Cartesian2d<WithKeyPoints<RangedCoordi64>, RangedCoordf64>;

/// Where column `i`'s slot starts on the x axis.
fn start(i: i64) -> i64 {
    2 * i
}

/// Where column `i`'s price is drawn on the x axis: the middle of its slot.
fn middle(i: i64) -> i64 {
    start(i) + 1
}

/// Lays out the chart in `plot` and draws its caption, axes and grid: a
/// slot per day, each labelled day at the middle of its slot.
fn axes<'a, DB>(
    plot: &'a DrawingArea<DB, Shift>,
    data: &ChartData,
    columns: &Plot,
    style: Style,
) -> Result<ChartContext<'a, DB, Coords>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (width, _) = plot.dim_in_pixel();
    let ticks = axis::ticks(data.from, data.to, (width.saturating_sub(100) / axis::LABEL_WIDTH) as usize);
    // A day's label at the middle of its column (`1d`), or where its
    // columns start (below a day, where a column may hold hours).
    let ticks: Vec<(i64, NaiveDate)> = ticks
        .into_iter()
        .map(|day| match &data.candles {
            None => (middle((day - data.from).num_days()), day),
            Some(_) => (start(columns.day_columns(data, day).0), day),
        })
        .collect();
    let (low, high) = y_range(columns, style);
    let what = match (style, &data.candles) {
        (Style::Line, None) => "close".to_string(),
        (Style::Candles, None) => "open, high, low, close".to_string(),
        (Style::Line, Some(c)) => format!("close of {} candles", c.interval),
        (Style::Candles, Some(c)) => format!("{} candles", c.interval),
    };
    let from = data.source.as_deref().map(|s| format!(" from {}", printable(s))).unwrap_or_default();
    let caption = format!(
        "{} {}{from}: {what}, {} to {}",
        printable(&data.exchange),
        printable(&data.symbol),
        data.from,
        data.to
    );
    // Smaller for long names, down to the labels' size, to fit the width.
    let fits = |size: u32| {
        plot.estimate_text_size(&caption, &(FONT, size).into_font().into()).is_ok_and(|(w, _)| w + 20 <= width)
    };
    let caption_size = (12..=20).rev().find(|size| fits(*size)).unwrap_or(12);
    let end = 2 * columns.units;
    let mut chart = ChartBuilder::on(plot)
        .caption(&caption, (FONT, caption_size))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d((0..end).with_key_points(ticks.iter().map(|(x, _)| *x).collect()), low..high)
        .context("laying out the chart")?;
    let label = |x: &i64| match ticks.binary_search_by_key(x, |(at, _)| *at) {
        Ok(i) => ticks[i].1,
        Err(_) => columns.day_of(data, x.div_euclid(2)),
    };
    let decimals = decimals(high - low);
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_label_formatter(&|x| label(x).to_string())
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .y_labels(if columns.points.is_empty() { 0 } else { 8 })
        .label_style((FONT, 12))
        .draw()
        .context("drawing the axes")?;
    Ok(chart)
}

/// A translucent band over the slots of each span of missing days (or
/// columns without a candle) with the same reason, in its colour, top to
/// bottom: drawn before the prices, so it lies under them.
fn draw_gaps<DB>(chart: &mut ChartContext<DB, Coords>, columns: &Plot) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let y = chart.y_range();
    let bands = columns.bands.iter().map(|(first, last, kind)| {
        Rectangle::new([(start(*first), y.start), (start(*last) + 2, y.end)], colour(*kind).mix(BAND_ALPHA).filled())
    });
    chart.draw_series(bands).context("drawing the missing days")?;
    Ok(())
}

/// Where the missing days' slots came out on the backend.
fn frame<DB: DrawingBackend>(chart: &ChartContext<DB, Coords>, data: &ChartData, columns: &Plot) -> Frame {
    let (_, rows) = chart.plotting_area().get_pixel_range();
    let low = chart.y_range().start;
    let edge = |x: i64| chart.backend_coord(&(x, low)).0;
    let slots = data
        .missing
        .iter()
        .map(|(day, _)| {
            let (first, end) = columns.day_columns(data, *day);
            let (left, right) = (edge(start(first)), edge(start(end)));
            // A slot narrower than a pixel (years of days) is still one to point at.
            (left, right.max(left + 1))
        })
        .collect();
    Frame { top: rows.start, bottom: rows.end, slots }
}

/// The close of each day (or column) with a price, a line through each
/// run of consecutive ones: a missing one breaks it. One alone is a dot.
fn draw_line<DB>(chart: &mut ChartContext<DB, Coords>, columns: &Plot) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    for run in runs(&columns.points) {
        let points: Vec<(i64, f64)> = run.iter().map(|(i, p)| (middle(*i), p.close)).collect();
        if let [point] = points[..] {
            chart.draw_series([Circle::new(point, 2, LINE.filled())]).context("drawing the prices")?;
        } else {
            chart.draw_series(LineSeries::new(points, LINE.stroke_width(2))).context("drawing the prices")?;
        }
    }
    Ok(())
}

/// A candle per day with a price: filled green when it closed above its
/// open, red otherwise.
fn draw_candles<DB>(chart: &mut ChartContext<DB, Coords>, columns: &Plot) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (pixels, _) = chart.plotting_area().get_pixel_range();
    let per_column = f64::from(pixels.end - pixels.start) / columns.units.max(1) as f64;
    let width = (per_column * 0.6).clamp(1.0, 40.0) as u32;
    let candles = columns.points.iter().map(|(i, p)| {
        CandleStick::new(middle(*i), p.open, p.high, p.low, p.close, GAIN.stroke_width(1), LOSS.filled(), width)
    });
    chart.draw_series(candles).context("drawing the prices")?;
    Ok(())
}

/// One entry of the legend: the colour and what it stands for.
type Entry = (RGBColor, String);

/// What the legend says when no day is missing.
const COMPLETE: &str = "every day of the range has a price";

/// The legend's entries, packed into lines that fit `width`: every reason
/// a day of the chart is missing for, with how many days; none when no
/// day is missing.
fn legend_lines<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, columns: &Plot, width: u32) -> Vec<Vec<Entry>> {
    let font = TextStyle::from((FONT, 13).into_font());
    let text_width = |text: &str| root.estimate_text_size(text, &font).map_or(100, |(w, _)| w);
    let indent = text_width("missing:") + 20;
    let mut lines: Vec<Vec<Entry>> = Vec::new();
    let mut used = width;
    for (kind, n) in columns.tally.iter().copied() {
        let text = match columns.counted {
            "" => format!("{kind} ({n})"),
            counted => format!("{kind} ({n} {counted})"),
        };
        let needs = 18 + text_width(&text) + 16;
        if used + needs > width.saturating_sub(10) && lines.last().is_none_or(|l| !l.is_empty()) {
            lines.push(Vec::new());
            used = 10 + indent;
        }
        used += needs;
        lines.last_mut().expect("a line was pushed").push((colour(kind), text));
    }
    lines
}

/// Draws the legend's lines in `area`: "missing:", then a swatch and its
/// text for each entry.
fn draw_legend<DB>(area: &DrawingArea<DB, Shift>, lines: &[Vec<Entry>]) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let font = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    let text_width = |text: &str| area.estimate_text_size(text, &font).map_or(100, |(w, _)| w as i32);
    let middle = LEGEND_LINE as i32 / 2;
    if lines.is_empty() {
        return area.draw(&Text::new(COMPLETE, (10, middle), font.clone())).context("drawing the legend");
    }
    area.draw(&Text::new("missing:", (10, middle), font.clone())).context("drawing the legend")?;
    for (i, line) in lines.iter().enumerate() {
        let y = LEGEND_LINE as i32 * i as i32 + middle;
        let mut x = 10 + text_width("missing:") + 20;
        for (color, text) in line {
            let swatch = [(x, y - 6), (x + 12, y + 6)];
            area.draw(&Rectangle::new(swatch, color.mix(BAND_ALPHA).filled())).context("drawing the legend")?;
            area.draw(&Rectangle::new(swatch, color.stroke_width(1))).context("drawing the legend")?;
            area.draw(&Text::new(text.clone(), (x + 18, y), font.clone())).context("drawing the legend")?;
            x += 18 + text_width(text) + 16;
        }
    }
    Ok(())
}

/// The price axis: the lowest and highest price drawn, with a little room
/// above and below; 0 to 1 with no price at all.
fn y_range(columns: &Plot, style: Style) -> (f64, f64) {
    let values = columns.points.iter().flat_map(|(_, p)| match style {
        Style::Line => [p.close, p.close],
        Style::Candles => [p.low, p.high],
    });
    let (low, high) = values
        .filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| Some(acc.map_or((v, v), |(lo, hi)| (lo.min(v), hi.max(v)))))
        .unwrap_or((0.0, 1.0));
    let room = if high > low { (high - low) * 0.05 } else { high.abs().max(1.0) * 0.05 };
    (low - room, high + room)
}

/// How many decimals the price labels need to tell apart steps of about a
/// tenth of `span`.
fn decimals(span: f64) -> usize {
    if span.is_finite() && span > 0.0 {
        (1.0 - span.log10().floor()).clamp(0.0, 8.0) as usize
    } else {
        2
    }
}

/// Runs of consecutive columns in `points` (sorted).
fn runs<T>(points: &[(i64, T)]) -> impl Iterator<Item = &[(i64, T)]> {
    points.chunk_by(|(a, _), (b, _)| a + 1 == *b)
}

/// `text` without the characters an SVG (XML 1.0) cannot hold, which
/// plotters would write as they are: control characters become U+FFFD.
pub(super) fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() && !matches!(c, '\t' | '\n' | '\r') { '\u{fffd}' } else { c }).collect()
}

/// DejaVu Sans, embedded: plotters lays out every text with the font it is
/// given (and draws the PNG's with it), and the system's fonts would need
/// fontconfig and freetype.
pub(super) static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Gives plotters the embedded font as its "sans-serif", once.
pub(super) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    anyhow::ensure!(ok, "the font embedded in pricequeue (DejaVuSans.ttf) cannot be read");
    Ok(())
}
