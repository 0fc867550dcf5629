//! `coverage`: which days of each (exchange, symbol) have prices, drawn as
//! a grid of one row per pair and one column per day, week or months,
//! whichever fits the width. The missing report at a glance.
//!
//! The layout ([`Grid`], [`Bucket`]) and the summarising of days into
//! columns ([`DayCounts`]) are pure; [`coverage`] feeds them from the
//! store one row at a time, so memory holds one row's columns however
//! long the range.

mod bucket;
mod day;
mod grid;
mod legend;
mod mark;

use std::io::Write;

use anyhow::Result;

pub use bucket::Bucket;
pub use day::DayCounts;
pub use grid::{Grid, GridRow};
pub use mark::Mark;

use super::candles::DayGaps;
use super::{PairSources, QueryTotals};
use crate::life::Kind;
use crate::selection::Selection;
use crate::store::Store;

/// Draws the coverage grid of `cells` in `width` characters: a header, the
/// time axis, one row per (exchange, symbol) written as soon as its days are
/// read, the legend and a summary that names every reason a day has no
/// price in `query`'s words. Returns what `query` would on the same cells.
pub fn coverage<W: Write>(
    store: &Store,
    cells: &Selection,
    width: usize,
    color: bool,
    mut out: W,
) -> Result<QueryTotals> {
    let sources = PairSources::load(store, cells)?;
    let widest = |names: &mut dyn Iterator<Item = &str>| names.map(|n| n.chars().count()).max().unwrap_or(0);
    let exchange_width = widest(&mut cells.pairs.iter().map(|p| p.exchange.as_str()));
    let symbol_width = widest(&mut cells.pairs.iter().map(|p| p.symbol.as_str()));
    // Where the selection mixes sources, a third label column says which
    // one a pair's prices come from (src/report/sources.rs).
    let source_width = widest(&mut cells.pairs.iter().filter_map(|p| sources.shown(&p.exchange, &p.symbol)));
    let label_width = exchange_width + 1 + symbol_width + if source_width > 0 { 2 + source_width } else { 0 };
    let grid = Grid::new(cells.from, cells.to, label_width, width, color);

    writeln!(out, "{}", grid.header())?;
    writeln!(out, "{}", grid.axis())?;
    let mut totals = QueryTotals { cells: cells.len(), interval: cells.interval, ..QueryTotals::default() };
    let (mut rows, mut left_out) = (0usize, Vec::new());
    // The cells come a pair at a time: each row is drawn once its pair is
    // read. A pair with nothing queued in the range (one named on purpose
    // that has no task, or whose tasks are all on other days) is left out,
    // and named below.
    let mut current: Option<((String, String), GridRow)> = None;
    let mut draw = |(exchange, symbol): (String, String), row: GridRow, out: &mut W| -> Result<()> {
        let counts = row.counts();
        if counts.of(Kind::NotQueued) == counts.days() {
            left_out.push(format!("{exchange} {symbol}"));
            return Ok(());
        }
        rows += 1;
        let mut label = format!("{exchange:<exchange_width$} {symbol}");
        if let Some(source) = sources.shown(&exchange, &symbol) {
            label = format!("{label:<width$}  {source}", width = exchange_width + 1 + symbol_width);
        }
        writeln!(out, "{}", grid.line(&label, &row))?;
        Ok(())
    };
    let mut visit = |exchange: &str, symbol: &str, day, kind: Kind, out: &mut W| -> Result<()> {
        if current.as_ref().is_none_or(|((e, s), _)| e != exchange || s != symbol) {
            let pair = (exchange.to_string(), symbol.to_string());
            if let Some((done, row)) = current.replace((pair, grid.row())) {
                draw(done, row, out)?;
            }
        }
        if let Some((_, row)) = current.as_mut() {
            row.push(day, kind);
        }
        Ok(())
    };
    if cells.interval.is_day() {
        store.for_each_cell(cells, |exchange, symbol, day, reason| {
            match &reason {
                None => totals.prices += 1,
                Some(reason) => {
                    *totals.missing.entry(reason.code()).or_default() += 1;
                    totals.unsettled += u64::from(!reason.is_settled());
                }
            }
            visit(exchange, symbol, day, Kind::of(reason.as_ref()), &mut out)
        })?;
    } else {
        // Below a day a column is still days, each a whole day's candles
        // summed up (partial: some stored, the rest proven empty); the
        // totals count candles, as `query` does.
        totals.cells *= cells.interval.per_day() as u64;
        let (now, mut tally) = (crate::clock::now_ms(), std::collections::BTreeMap::new());
        store.for_each_candle_day(cells, |day| {
            let gaps = DayGaps::of(&day, cells.interval, now);
            super::candles::count(&gaps, &mut totals, &mut tally);
            visit(&day.pair.exchange, &day.pair.symbol, day.day, gaps.kind, &mut out)
        })?;
        totals.missing = tally;
    }
    if let Some((pair, row)) = current {
        draw(pair, row, &mut out)?;
    }
    if !left_out.is_empty() {
        writeln!(out, "{}", left_out_line(&left_out))?;
    }
    writeln!(out)?;
    for line in grid.legend() {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    let days = (cells.to - cells.from).num_days() + 1;
    writeln!(
        out,
        "{}; drawn: {} x {}",
        totals.line(),
        super::plural(rows as u64, "row", "rows"),
        super::plural(days as u64, "day", "days"),
    )?;
    out.flush()?;
    Ok(totals)
}

/// "Left out, nothing queued in this range: 2 pairs (kraken ltc, okx btc)",
/// naming at most eight of them.
fn left_out_line(pairs: &[String]) -> String {
    const NAMED: usize = 8;
    let mut names = pairs.iter().take(NAMED).cloned().collect::<Vec<_>>().join(", ");
    if pairs.len() > NAMED {
        names.push_str(&format!(", ... {} more", pairs.len() - NAMED));
    }
    format!("Left out, nothing queued in this range: {} ({names})", super::plural(pairs.len() as u64, "pair", "pairs"))
}

/// A day from its ISO form, for the tests of every part of the grid.
#[cfg(test)]
fn test_day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
