//! The drawing of a chart, the same on every plotters backend: the
//! caption, the bands of the missing days under the prices, the prices
//! (a line per run of days with a price, or candles), and the legend.

use std::sync::OnceLock;

use anyhow::{Context, Result};
use chrono::{Duration, NaiveDate};
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::{RangedCoordf64, RangedCoordi64};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{axis, ChartData, Style};
use crate::life::{Kind, Reason};

/// Where each missing day of a chart was drawn, in the backend's pixels:
/// what the SVG's hover layer needs.
pub(super) struct Frame {
    /// The top and bottom of the plotting area.
    pub top: i32,
    pub bottom: i32,
    /// For each of the data's missing days, in order, the left and right
    /// edges of its slot: half a day either side of where its price would be.
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
pub(super) fn colour_of(reason: &Reason) -> RGBColor {
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
    let legend = legend_lines(root, data, width);
    let (plot, foot) = root.split_vertically(height - 8 - LEGEND_LINE * legend.len().max(1) as u32);
    let mut chart = axes(&plot, data, style)?;
    draw_gaps(&mut chart, data)?;
    match style {
        Style::Line => draw_line(&mut chart, data)?,
        Style::Candles => draw_candles(&mut chart, data)?,
    }
    if data.prices.is_empty() {
        let (x, y) = (chart.x_range(), chart.y_range());
        let note = Text::new(
            "no prices in this range",
            ((x.start + x.end) / 2, (y.start + y.end) / 2.0),
            (FONT, 16).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center)),
        );
        chart.draw_series([note]).context("drawing the note")?;
    }
    draw_legend(&foot, &legend)?;
    Ok(frame(&chart, data))
}

/// The chart's coordinates: half days on x (the day of index `i` in the
/// range takes the slot from `2i` to `2i + 2`, its price drawn at `2i + 1`;
/// plotters takes labels of our own at days we choose only on an integer
/// axis), prices on y.
type Coords = Cartesian2d<WithKeyPoints<RangedCoordi64>, RangedCoordf64>;

/// Where `day`'s slot starts on the x axis.
fn start(data: &ChartData, day: NaiveDate) -> i64 {
    2 * (day - data.from).num_days()
}

/// Where `day`'s price is drawn on the x axis: the middle of its slot.
fn middle(data: &ChartData, day: NaiveDate) -> i64 {
    start(data, day) + 1
}

/// Lays out the chart in `plot` and draws its caption, axes and grid: a
/// slot per day, each labelled day at the middle of its slot.
fn axes<'a, DB>(
    plot: &'a DrawingArea<DB, Shift>,
    data: &ChartData,
    style: Style,
) -> Result<ChartContext<'a, DB, Coords>>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (width, _) = plot.dim_in_pixel();
    let ticks = axis::ticks(data.from, data.to, (width.saturating_sub(100) / axis::LABEL_WIDTH) as usize);
    let (low, high) = y_range(data, style);
    let what = match style {
        Style::Line => "close",
        Style::Candles => "open, high, low, close",
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
    let end = 2 * data.days() as i64;
    let mut chart = ChartBuilder::on(plot)
        .caption(&caption, (FONT, caption_size))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d((0..end).with_key_points(ticks.iter().map(|d| middle(data, *d)).collect()), low..high)
        .context("laying out the chart")?;
    let decimals = decimals(high - low);
    chart
        .configure_mesh()
        .max_light_lines(0)
        .bold_line_style(RGBColor(225, 225, 225))
        .x_label_formatter(&|x| day_at(data.from, x.div_euclid(2)).to_string())
        .y_label_formatter(&|y| format!("{y:.decimals$}"))
        .y_labels(if data.prices.is_empty() { 0 } else { 8 })
        .label_style((FONT, 12))
        .draw()
        .context("drawing the axes")?;
    Ok(chart)
}

/// A translucent band over the slots of each span of missing days with the
/// same reason, in its colour, top to bottom: drawn before the prices, so
/// it lies under them.
fn draw_gaps<DB>(chart: &mut ChartContext<DB, Coords>, data: &ChartData) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let y = chart.y_range();
    let bands = bands(&data.missing).map(|(first, last, reason)| {
        Rectangle::new(
            [(start(data, first), y.start), (start(data, last) + 2, y.end)],
            colour(reason.kind()).mix(BAND_ALPHA).filled(),
        )
    });
    chart.draw_series(bands).context("drawing the missing days")?;
    Ok(())
}

/// Where the missing days' slots came out on the backend.
fn frame<DB: DrawingBackend>(chart: &ChartContext<DB, Coords>, data: &ChartData) -> Frame {
    let (_, rows) = chart.plotting_area().get_pixel_range();
    let low = chart.y_range().start;
    let edge = |x: i64| chart.backend_coord(&(x, low)).0;
    let slots = data
        .missing
        .iter()
        .map(|(day, _)| {
            let (left, right) = (edge(start(data, *day)), edge(start(data, *day) + 2));
            // A slot narrower than a pixel (years of days) is still one to point at.
            (left, right.max(left + 1))
        })
        .collect();
    Frame { top: rows.start, bottom: rows.end, slots }
}

/// The close of each day with a price, a line through each run of
/// consecutive days: a missing day breaks it. A day alone is a dot.
fn draw_line<DB>(chart: &mut ChartContext<DB, Coords>, data: &ChartData) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    for run in runs(&data.prices) {
        let points: Vec<(i64, f64)> = run.iter().map(|(day, p)| (middle(data, *day), p.close)).collect();
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
fn draw_candles<DB>(chart: &mut ChartContext<DB, Coords>, data: &ChartData) -> Result<()>
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
{
    let (columns, _) = chart.plotting_area().get_pixel_range();
    let per_day = f64::from(columns.end - columns.start) / data.days() as f64;
    let width = (per_day * 0.6).clamp(1.0, 40.0) as u32;
    let candles = data.prices.iter().map(|(day, p)| {
        CandleStick::new(middle(data, *day), p.open, p.high, p.low, p.close, GAIN.stroke_width(1), LOSS.filled(), width)
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
fn legend_lines<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, data: &ChartData, width: u32) -> Vec<Vec<Entry>> {
    let font = TextStyle::from((FONT, 13).into_font());
    let text_width = |text: &str| root.estimate_text_size(text, &font).map_or(100, |(w, _)| w);
    let indent = text_width("missing:") + 20;
    let mut lines: Vec<Vec<Entry>> = Vec::new();
    let mut used = width;
    for kind in Kind::missing() {
        let n = data.missing.iter().filter(|(_, r)| r.kind() == kind).count();
        if n == 0 {
            continue;
        }
        let text = format!("{kind} ({n})");
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
fn y_range(data: &ChartData, style: Style) -> (f64, f64) {
    let values = data.prices.iter().flat_map(|(_, p)| match style {
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

/// The day `index` days after `from`.
fn day_at(from: NaiveDate, index: i64) -> NaiveDate {
    from.checked_add_signed(Duration::days(index)).unwrap_or(from)
}

/// Runs of consecutive days in `prices` (sorted by day).
fn runs<T>(prices: &[(NaiveDate, T)]) -> impl Iterator<Item = &[(NaiveDate, T)]> {
    prices.chunk_by(|(a, _), (b, _)| a.succ_opt() == Some(*b))
}

/// Runs of consecutive missing days with the same reason, as (first day,
/// last day, reason): one band each.
fn bands(missing: &[(NaiveDate, Reason)]) -> impl Iterator<Item = (NaiveDate, NaiveDate, &Reason)> {
    missing
        .chunk_by(|(a, ra), (b, rb)| a.succ_opt() == Some(*b) && ra.kind() == rb.kind())
        .map(|run| (run[0].0, run[run.len() - 1].0, &run[0].1))
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
