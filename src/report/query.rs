//! `query`: the stored prices of a selection, then every missing one with
//! the reason.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;

use super::Value;
use super::{Format, Output};
use crate::interval::Interval;
use crate::price::PriceRow;
use crate::selection::Selection;
use crate::store::{Reason, Store};

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
    /// The interval of the cells: below a day, each is a candle.
    pub interval: Interval,
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
            match self.interval {
                Interval::D1 => super::plural(self.cells, "price", "prices"),
                _ => super::plural(self.cells, "candle", "candles"),
            },
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
/// The missing report in the machine formats, a row per span of days: its
/// first day where a row per day had its day, and what was added after
/// what was there before (the task's source, then the span's last day and
/// its length), so that reading columns by position keeps working.
const MISSING_COLUMNS: &[&str] = &["exchange", "symbol", "day", "reason", "error", "source", "last_day", "days"];
/// In a table, the error is folded into the reason, the last and widest
/// column, and the source is shown only where it tells something.
const MISSING_TABLE: &[&str] = &["exchange", "symbol", "days", "reason"];
const MISSING_TABLE_SOURCES: &[&str] = &["exchange", "symbol", "days", "source", "reason"];

/// How the missing report lists its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Listing {
    /// A row per span: consecutive days of a pair with one reason.
    #[default]
    Spans,
    /// A row per day, each cell on its own.
    Days,
}

/// Writes the prices of `cells` (unless `missing_only`) and the missing
/// report in `format`, a section each, its rows as `listing` says. CSV holds
/// one table: the prices, or with `missing_only` the missing report.
pub fn query<W: Write>(
    store: &Store,
    cells: &Selection,
    format: Format,
    missing_only: bool,
    listing: Listing,
    out: W,
) -> Result<QueryTotals> {
    if !cells.interval.is_day() {
        return super::candles::query(store, cells, format, missing_only, listing, out);
    }
    let mut totals = QueryTotals { cells: cells.len(), ..QueryTotals::default() };
    let show_prices = !missing_only;
    let show_missing = missing_only || format != Format::Csv;
    let mut out = Output::new(format, out, show_prices && show_missing);
    // Read before the prices: the prices and the missing cells are two
    // reads, and a cell fetched between them is counted in neither, so
    // nothing else goes between them.
    let sources = PairSources::load(store, cells)?;
    totals.prices = write_prices(store, cells, show_prices, &mut out)?;
    let missing = Missing { sources: &sources, format, listing, shown: show_missing };
    missing.write(store, cells, &mut totals, &mut out)?;
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

/// How the missing report is written.
struct Missing<'a> {
    sources: &'a PairSources,
    format: Format,
    listing: Listing,
    /// Whether it is written at all (CSV of the prices only tallies it).
    shown: bool,
}

/// Consecutive days of one pair whose reason reads the same: one row.
struct Span {
    exchange: String,
    symbol: String,
    first: NaiveDate,
    last: NaiveDate,
    /// The row's values after the pair and the days, as the format writes them.
    why: Vec<Value>,
}

impl Missing<'_> {
    /// The missing report (written when `shown`), tallied into `totals`.
    /// Memory holds one span, however long the range.
    fn write<W: Write>(
        &self,
        store: &Store,
        cells: &Selection,
        totals: &mut QueryTotals,
        out: &mut Output<W>,
    ) -> Result<()> {
        let title =
            format!("Missing: {} of {}", totals.cells - totals.prices, super::plural(totals.cells, "price", "prices"));
        if self.shown {
            let columns = match self.format {
                Format::Table if self.sources.any_shown() => MISSING_TABLE_SOURCES,
                Format::Table => MISSING_TABLE,
                _ => MISSING_COLUMNS,
            };
            out.section("missing", Some(&title), columns)?;
        }
        let mut tally = BTreeMap::new();
        let mut span: Option<Span> = None;
        let mut rows = 0u64;
        store.for_each_missing(cells, |m| {
            *tally.entry(m.reason.code()).or_insert(0u64) += 1;
            if !m.reason.is_settled() {
                totals.unsettled += 1;
            }
            if !self.shown {
                return Ok(());
            }
            let why = self.why(&m);
            match &mut span {
                Some(r) if self.listing == Listing::Spans && r.continued_by(&m, &why) => r.last = m.day,
                _ => {
                    let next = Span { exchange: m.exchange, symbol: m.symbol, first: m.day, last: m.day, why };
                    if let Some(done) = span.replace(next) {
                        out.row(&self.values(done))?;
                        rows += 1;
                    }
                }
            }
            Ok(())
        })?;
        if let Some(done) = span {
            out.row(&self.values(done))?;
            rows += 1;
        }
        totals.missing = tally;
        if self.shown && rows == 0 {
            out.note("(none)")?;
        }
        Ok(())
    }

    /// A missing cell's values after its pair and day: in a table the
    /// source where it tells something and the reason as people read it
    /// ("failed: HTTP 404 ..."); in the machine formats the reason's code,
    /// the error apart, and the source (none for a cell with no task: it
    /// was asked of no source).
    fn why(&self, m: &crate::store::Missing) -> Vec<Value> {
        let queued = m.reason != Reason::NotQueued;
        let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
        match self.format {
            Format::Table => {
                let source = self.sources.shown(&m.exchange, &m.symbol).filter(|_| queued).unwrap_or_default();
                let source = self.sources.any_shown().then(|| Value::Text(source.to_string()));
                source.into_iter().chain([Value::Text(m.reason.to_string())]).collect()
            }
            _ => vec![
                Value::Text(m.reason.code().to_string()),
                text(m.reason.error()),
                text(self.sources.of(&m.exchange, &m.symbol).filter(|_| queued)),
            ],
        }
    }

    /// A span's row: "2018-01-01 to 2018-12-31 (365 days)" in a table; its
    /// first day, and its last day and length at the end, for programs.
    fn values(&self, r: Span) -> Vec<Value> {
        let days = (r.last - r.first).num_days() + 1;
        let mut values = vec![Value::Text(r.exchange), Value::Text(r.symbol)];
        match self.format {
            Format::Table if days == 1 => values.push(Value::Text(r.first.to_string())),
            Format::Table => values.push(Value::Text(format!("{} to {} ({days} days)", r.first, r.last))),
            _ => values.push(Value::Text(r.first.to_string())),
        }
        values.extend(r.why);
        if self.format != Format::Table {
            values.extend([Value::Text(r.last.to_string()), Value::Integer(days)]);
        }
        values
    }
}

impl Span {
    /// Whether `m` is the next day of this span's pair, for the same reason.
    fn continued_by(&self, m: &crate::store::Missing, why: &[Value]) -> bool {
        m.exchange == self.exchange && m.symbol == self.symbol && self.last.succ_opt() == Some(m.day) && why == self.why
    }
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
