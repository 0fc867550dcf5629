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
mod state;

use std::io::Write;

use anyhow::Result;

pub use bucket::Bucket;
pub use day::{Day, DayCounts};
pub use grid::{Grid, Row};
pub use state::State;

use crate::selection::Selection;
use crate::store::Store;

/// Draws the coverage grid of `cells` in `width` characters: a header, the
/// time axis, one row per (exchange, symbol) written as soon as its days are
/// read, the legend and a summary. Returns the days by state.
pub fn coverage<W: Write>(
    store: &Store,
    cells: &Selection,
    width: usize,
    color: bool,
    mut out: W,
) -> Result<DayCounts> {
    let widest = |names: &[String]| names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let (exchange_width, symbol_width) = (widest(&cells.exchanges), widest(&cells.symbols));
    let grid = Grid::new(cells.from, cells.to, exchange_width + 1 + symbol_width, width, color);

    writeln!(out, "{}", grid.header())?;
    writeln!(out, "{}", grid.axis())?;
    let mut totals = DayCounts::default();
    // The cells come a pair at a time: each row is drawn once its pair is read.
    let mut current: Option<((String, String), Row)> = None;
    let mut draw = |(exchange, symbol): (String, String), row: Row, out: &mut W| -> Result<()> {
        totals += row.counts();
        let label = format!("{exchange:<exchange_width$} {symbol}");
        writeln!(out, "{}", grid.line(&label, &row))?;
        Ok(())
    };
    store.for_each_cell(cells, |exchange, symbol, day, reason| {
        if current.as_ref().is_none_or(|((e, s), _)| e != exchange || s != symbol) {
            let pair = (exchange.to_string(), symbol.to_string());
            if let Some((done, row)) = current.replace((pair, grid.row())) {
                draw(done, row, &mut out)?;
            }
        }
        if let Some((_, row)) = current.as_mut() {
            row.push(day, Day::of(reason.as_ref()));
        }
        Ok(())
    })?;
    if let Some((pair, row)) = current {
        draw(pair, row, &mut out)?;
    }
    writeln!(out)?;
    for line in grid.legend() {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    let rows = cells.exchanges.len() * cells.symbols.len();
    let days = (cells.to - cells.from).num_days() + 1;
    let (all, missing) = (totals.days(), totals.missing());
    writeln!(
        out,
        "{} ({} x {}): {}; {missing} without a price",
        super::plural(all, "cell", "cells"),
        super::plural(rows as u64, "row", "rows"),
        super::plural(days as u64, "day", "days"),
        totals.line()
    )?;
    out.flush()?;
    Ok(totals)
}

/// A day from its ISO form, for the tests of every part of the grid.
#[cfg(test)]
fn test_day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}
