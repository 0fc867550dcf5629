//! `query`: the stored prices of a selection, then every missing one with
//! the reason.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;

use super::Value;
use super::{Format, Output};
use crate::price::PriceRow;
use crate::selection::Selection;
use crate::store::{Missing, Store};

use super::PairSources;

/// What a query found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryTotals {
    pub cells: u64,
    pub prices: u64,
    /// Missing cells by reason code, in name order.
    pub missing: BTreeMap<&'static str, u64>,
    /// Of the missing cells, those with something left to do or wait for.
    pub unsettled: u64,
}

impl QueryTotals {
    /// All missing cells.
    pub fn missing(&self) -> u64 {
        self.missing.values().sum()
    }

    /// One line for people: "1116 prices asked for: 780 stored, 336 missing (300 no data, 36 not queued)".
    pub fn line(&self) -> String {
        let mut s = format!(
            "{} asked for: {} stored, {} missing",
            super::plural(self.cells, "price", "prices"),
            self.prices,
            self.missing()
        );
        if !self.missing.is_empty() {
            let parts: Vec<String> = self.missing.iter().map(|(r, n)| format!("{n} {r}")).collect();
            s.push_str(&format!(" ({})", parts.join(", ")));
        }
        s
    }
}

const PRICE_COLUMNS: &[&str] = &["exchange", "symbol", "day", "open", "high", "low", "close", "volume", "fetched_at"];
/// The missing report in the machine formats: the task's source last, so
/// that reading columns by position keeps working.
const MISSING_COLUMNS: &[&str] = &["exchange", "symbol", "day", "reason", "error", "source"];
/// In a table, the error is folded into the reason, the last and widest
/// column, and the source is shown only where it tells something.
const MISSING_TABLE: &[&str] = &["exchange", "symbol", "day", "reason"];
const MISSING_TABLE_SOURCES: &[&str] = &["exchange", "symbol", "day", "source", "reason"];

/// Writes the prices of `cells` (unless `missing_only`) and the missing
/// report in `format`, a section each. CSV holds one table: the prices, or
/// with `missing_only` the missing report.
pub fn query<W: Write>(
    store: &Store,
    cells: &Selection,
    format: Format,
    missing_only: bool,
    out: W,
) -> Result<QueryTotals> {
    let mut totals = QueryTotals { cells: cells.len(), ..QueryTotals::default() };
    let show_prices = !missing_only;
    let show_missing = missing_only || format != Format::Csv;
    let mut out = Output::new(format, out, show_prices && show_missing);
    // Read before the prices: the prices and the missing cells are two
    // reads, and a cell fetched between them is counted in neither, so
    // nothing else goes between them.
    let sources = PairSources::load(store, cells)?;
    totals.prices = write_prices(store, cells, show_prices, &mut out)?;
    write_missing(store, cells, &sources, format, show_missing, &mut totals, &mut out)?;
    out.note("")?;
    out.note(&totals.line())?;
    out.finish()?;
    Ok(totals)
}

/// The stored prices (written when `shown`); returns how many there are.
fn write_prices<W: Write>(store: &Store, cells: &Selection, shown: bool, out: &mut Output<W>) -> Result<u64> {
    if shown {
        out.section("prices", Some("Prices"), PRICE_COLUMNS)?;
    }
    let mut prices = 0;
    store.for_each_price(cells, |p| {
        prices += 1;
        if shown {
            out.row(&price_values(p))?;
        }
        Ok(())
    })?;
    if shown && prices == 0 {
        out.note("(none)")?;
    }
    Ok(prices)
}

/// The missing report (written when `shown`), tallied into `totals`.
fn write_missing<W: Write>(
    store: &Store,
    cells: &Selection,
    sources: &PairSources,
    format: Format,
    shown: bool,
    totals: &mut QueryTotals,
    out: &mut Output<W>,
) -> Result<()> {
    let title =
        format!("Missing: {} of {}", totals.cells - totals.prices, super::plural(totals.cells, "price", "prices"));
    let table_sources = sources.any_shown();
    if shown {
        let columns = match format {
            Format::Table if table_sources => MISSING_TABLE_SOURCES,
            Format::Table => MISSING_TABLE,
            _ => MISSING_COLUMNS,
        };
        out.section("missing", Some(&title), columns)?;
    }
    let mut tally = BTreeMap::new();
    store.for_each_missing(cells, |m| {
        *tally.entry(m.reason.code()).or_insert(0u64) += 1;
        if !m.reason.is_settled() {
            totals.unsettled += 1;
        }
        if shown {
            // A cell with no task was asked of no source.
            let queued = m.reason != crate::store::Reason::NotQueued;
            let source = match format {
                Format::Table if table_sources => Some(sources.shown(&m.exchange, &m.symbol).filter(|_| queued)),
                Format::Table => None,
                _ => Some(sources.of(&m.exchange, &m.symbol).filter(|_| queued)),
            };
            out.row(&missing_values(m, format, source))?;
        }
        Ok(())
    })?;
    totals.missing = tally;
    if shown && totals.missing() == 0 {
        out.note("(none)")?;
    }
    Ok(())
}

fn price_values(p: PriceRow) -> Vec<Value> {
    vec![
        Value::Text(p.exchange),
        Value::Text(p.symbol),
        Value::Text(p.day.to_string()),
        Value::Real(p.price.open),
        Value::Real(p.price.high),
        Value::Real(p.price.low),
        Value::Real(p.price.close),
        Value::Real(p.price.volume),
        Value::Text(p.fetched_at),
    ]
}

/// A missing cell's row; `source` is `Some` where the format has the
/// column (its value `None` for a cell with no task, or a source not worth
/// naming in a table).
fn missing_values(m: Missing, format: Format, source: Option<Option<&str>>) -> Vec<Value> {
    let error = m.reason.error().map(|e| Value::Text(e.to_string())).unwrap_or(Value::Null);
    // A table shows the reason as people read it ("failed: HTTP 404 ..."),
    // machine formats keep the code and the error apart.
    let reason = match format {
        Format::Table => Value::Text(m.reason.to_string()),
        _ => Value::Text(m.reason.code().to_string()),
    };
    let none = if format == Format::Table { Value::Text(String::new()) } else { Value::Null };
    let source = source.map(|s| s.map_or(none, |s| Value::Text(s.to_string())));
    let mut values = vec![Value::Text(m.exchange), Value::Text(m.symbol), Value::Text(m.day.to_string())];
    match format {
        Format::Table => values.extend(source.into_iter().chain([reason])),
        _ => values.extend([reason, error].into_iter().chain(source)),
    }
    values
}
