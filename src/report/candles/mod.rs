//! `query` below a day: a row per stored candle, then the missing report,
//! a row per day that lacks any candle with what it lacks ("1,437 of
//! 1,440  no data 02:13-02:15 (no trades between the candles at 02:12
//! and 02:16)"); in the machine formats a row per run of missing
//! candles, with the open times of its first and last.
//!
//! Each cell is a candle: the totals count candles, so a selection whose
//! every gap is proven empty exits as one whose missing days all have no
//! data does at `1d` (5), and one with a candle still to fetch or to
//! close as incomplete (3).

mod gaps;

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;

pub use gaps::{thousands, DayGaps, Run};

use super::{Format, Listing, Output, PairSources, QueryTotals, Value};
use crate::interval::Interval;
use crate::selection::Selection;
use crate::store::Store;

const CANDLE_COLUMNS: &[&str] =
    &["exchange", "symbol", "interval", "open_time", "open", "high", "low", "close", "volume"];
/// In the machine formats, a row per run of missing candles: the day of
/// its first, the open times of its first and last, how many, and why.
const MISSING_COLUMNS: &[&str] =
    &["exchange", "symbol", "interval", "day", "first", "last", "candles", "reason", "error", "source", "last_day"];
/// In a table, a row per day (or span of days that read the same).
const MISSING_TABLE: &[&str] = &["exchange", "symbol", "days", "candles", "reason"];
const MISSING_TABLE_SOURCES: &[&str] = &["exchange", "symbol", "days", "candles", "source", "reason"];

/// How many runs of a day a table's row names before "and N more".
const RUNS_SHOWN: usize = 4;

/// Writes the candles of `cells` (below a day; unless `missing_only`)
/// and the missing report in `format`, as [`super::query`] does for days.
pub fn query<W: Write>(
    store: &Store,
    cells: &Selection,
    format: Format,
    missing_only: bool,
    listing: Listing,
    out: W,
) -> Result<QueryTotals> {
    let interval = cells.interval;
    let mut totals = QueryTotals { cells: cells.len() * interval.per_day() as u64, interval, ..QueryTotals::default() };
    let show_candles = !missing_only;
    let show_missing = missing_only || format != Format::Csv;
    let mut out = Output::new(format, out, show_candles && show_missing);
    let sources = PairSources::load(store, cells)?;
    if show_candles {
        write_candles(store, cells, &mut out)?;
    }
    let report = Missing { sources: &sources, format, listing, shown: show_missing, interval };
    report.write(store, cells, &mut totals, &mut out)?;
    out.note("")?;
    out.note(&totals.line())?;
    out.finish()?;
    Ok(totals)
}

/// The stored candles, a row each, open times in UTC.
fn write_candles<W: Write>(store: &Store, cells: &Selection, out: &mut Output<W>) -> Result<()> {
    out.section("candles", Some(&format!("Candles ({})", cells.interval)), CANDLE_COLUMNS)?;
    let interval = Value::Text(cells.interval.to_string());
    let mut n = 0u64;
    // The day's part of the open times, written once a day: chrono's
    // formatting of every one took a third of a year of 1m candles' time.
    let mut today: Option<(i64, String)> = None;
    store.for_each_candle(cells, |pair, c| {
        n += 1;
        let (day, minute) = (c.minute.div_euclid(1440), c.minute.rem_euclid(1440));
        if today.as_ref().is_none_or(|(d, _)| *d != day) {
            today = Some((day, crate::store::candles::day_of_minute(c.minute).to_string()));
        }
        let date = today.as_ref().map_or("", |(_, text)| text.as_str());
        out.row(&[
            Value::Text(pair.exchange.clone()),
            Value::Text(pair.symbol.clone()),
            interval.clone(),
            Value::Text(format!("{date}T{:02}:{:02}:00Z", minute / 60, minute % 60)),
            Value::Real(c.price.open),
            Value::Real(c.price.high),
            Value::Real(c.price.low),
            Value::Real(c.price.close),
            Value::Real(c.price.volume),
        ])
    })?;
    if n == 0 {
        out.note("(none)")?;
    }
    Ok(())
}

/// Counts a day's candles into `totals`: those stored, and those missing
/// by reason into `tally` (settled or not).
pub(super) fn count(gaps: &DayGaps, totals: &mut QueryTotals, tally: &mut BTreeMap<&'static str, u64>) {
    totals.prices += gaps.stored;
    for run in &gaps.runs {
        *tally.entry(run.reason.code()).or_default() += run.len();
        if !run.reason.is_settled() {
            totals.unsettled += run.len();
        }
    }
}

/// A Unix minute as the `candles` view writes an open time: "2020-03-12T02:13:00Z".
pub fn open_time(minute: i64) -> String {
    chrono::DateTime::from_timestamp(minute * 60, 0)
        .map_or_else(|| minute.to_string(), |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// How the missing report is written.
struct Missing<'a> {
    sources: &'a PairSources,
    format: Format,
    listing: Listing,
    /// Whether it is written at all (CSV of the candles only tallies it).
    shown: bool,
    interval: Interval,
}

/// A row being gathered: days (a table) or candles (the machine formats)
/// of one pair that read the same, to be written once the next differs.
struct Pending {
    exchange: String,
    symbol: String,
    first_day: NaiveDate,
    last_day: NaiveDate,
    /// The slots of a run of candles (machine formats).
    first: i64,
    last: i64,
    /// What the row says after its pair and days, compared to merge.
    why: Vec<Value>,
}

impl Missing<'_> {
    fn write<W: Write>(
        &self,
        store: &Store,
        cells: &Selection,
        totals: &mut QueryTotals,
        out: &mut Output<W>,
    ) -> Result<()> {
        if self.shown {
            let columns = match self.format {
                Format::Table if self.sources.any_shown() => MISSING_TABLE_SOURCES,
                Format::Table => MISSING_TABLE,
                _ => MISSING_COLUMNS,
            };
            out.section("missing", Some(&format!("Missing: days without every {} candle", self.interval)), columns)?;
        }
        let now = crate::clock::now_ms();
        let mut tally: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut pending: Option<Pending> = None;
        let mut rows = 0u64;
        store.for_each_candle_day(cells, |day| {
            let gaps = DayGaps::of(&day, self.interval, now);
            count(&gaps, totals, &mut tally);
            if !self.shown || gaps.runs.is_empty() {
                return Ok(());
            }
            let (exchange, symbol) = (&day.pair.exchange, &day.pair.symbol);
            let next: Vec<Pending> = match self.format {
                Format::Table => vec![Pending {
                    exchange: exchange.clone(),
                    symbol: symbol.clone(),
                    first_day: gaps.day,
                    last_day: gaps.day,
                    first: 0,
                    last: 0,
                    why: self.day_why(exchange, symbol, &gaps),
                }],
                _ => gaps
                    .runs
                    .iter()
                    .map(|r| Pending {
                        exchange: exchange.clone(),
                        symbol: symbol.clone(),
                        first_day: gaps.day,
                        last_day: gaps.day,
                        first: r.first,
                        last: r.last,
                        why: self.run_why(exchange, symbol, r),
                    })
                    .collect(),
            };
            for row in next {
                match &mut pending {
                    Some(p) if self.listing == Listing::Spans && self.continues(p, &row) => {
                        p.last_day = row.last_day;
                        p.last = row.last;
                    }
                    _ => {
                        if let Some(done) = pending.replace(row) {
                            out.row(&self.values(done))?;
                            rows += 1;
                        }
                    }
                }
            }
            Ok(())
        })?;
        if let Some(done) = pending {
            out.row(&self.values(done))?;
            rows += 1;
        }
        totals.missing = tally;
        if self.shown && rows == 0 {
            out.note("(none)")?;
        }
        Ok(())
    }

    /// Whether `next` carries on the row `p`: the same pair and words, and
    /// in a table the next day, in the machine formats the next candle.
    fn continues(&self, p: &Pending, next: &Pending) -> bool {
        let adjacent = match self.format {
            Format::Table => p.last_day.succ_opt() == Some(next.first_day),
            _ => p.last + 1 == next.first,
        };
        adjacent && p.exchange == next.exchange && p.symbol == next.symbol && p.why == next.why
    }

    /// A day's row in a table, after its pair and days: its candles ("1,437
    /// of 1,440"), the source where it tells something, and what it lacks.
    fn day_why(&self, exchange: &str, symbol: &str, gaps: &DayGaps) -> Vec<Value> {
        let mut why = vec![Value::Text(format!("{} of {}", thousands(gaps.stored), thousands(gaps.expected)))];
        if self.sources.any_shown() {
            let queued = gaps.runs.iter().any(|r| r.reason != crate::store::Reason::NotQueued);
            let source = self.sources.shown(exchange, symbol).filter(|_| queued).unwrap_or_default();
            why.push(Value::Text(source.to_string()));
        }
        why.push(Value::Text(gaps.describe(self.interval, RUNS_SHOWN)));
        why
    }

    /// A run's values in the machine formats, after its pair and slots: the
    /// reason's code, the error apart, and the source.
    fn run_why(&self, exchange: &str, symbol: &str, r: &Run) -> Vec<Value> {
        let text = |s: Option<&str>| s.map_or(Value::Null, |s| Value::Text(s.to_string()));
        let queued = r.reason != crate::store::Reason::NotQueued;
        let code = if r.not_closed { "not yet closed" } else { r.reason.code() };
        vec![
            Value::Text(code.to_string()),
            text(r.reason.error().filter(|_| !r.not_closed)),
            text(self.sources.of(exchange, symbol).filter(|_| queued)),
        ]
    }

    fn values(&self, p: Pending) -> Vec<Value> {
        let mut values = vec![Value::Text(p.exchange), Value::Text(p.symbol)];
        let days = (p.last_day - p.first_day).num_days() + 1;
        match self.format {
            Format::Table => {
                values.push(Value::Text(match days {
                    1 => p.first_day.to_string(),
                    _ => format!("{} to {} ({days} days)", p.first_day, p.last_day),
                }));
                let mut why = p.why.into_iter();
                // "0 of 1,440" is each day's, in a span of days.
                if let Some(Value::Text(candles)) = why.next() {
                    values.push(Value::Text(if days > 1 { format!("{candles} each") } else { candles }));
                }
                values.extend(why);
            }
            _ => {
                let minute = |slot: i64| slot * self.interval.minutes();
                values.extend([
                    Value::Text(self.interval.to_string()),
                    Value::Text(p.first_day.to_string()),
                    Value::Text(open_time(minute(p.first))),
                    Value::Text(open_time(minute(p.last))),
                    Value::Integer(p.last - p.first + 1),
                ]);
                values.extend(p.why);
                values.push(Value::Text(self.interval.day_of_slot(p.last).to_string()));
            }
        }
        values
    }
}
