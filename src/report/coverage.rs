//! `coverage`: which days of each (exchange, symbol) have prices, drawn as
//! a grid of one row per pair and one column per day, week or months,
//! whichever fits the width. The missing report at a glance.
//!
//! The layout ([`Grid`], [`Bucket`]) and the summarising of days into
//! columns ([`DayCounts`]) are pure; [`coverage`] feeds them from the
//! store one row at a time, so memory holds one row's columns however
//! long the range.

use std::io::Write;

use anyhow::Result;
use chrono::{Datelike, Months, NaiveDate};

use super::Cells;
use crate::store::{Reason, Store};

/// Columns drawn even when the labels leave less room than that: a grid
/// wider than the terminal still reads, one squeezed to nothing does not.
const MIN_COLUMNS: usize = 12;

/// Characters of a row besides its label and columns: the space after the
/// label and the two frame characters.
const ROW_EXTRA: usize = 3;

/// The ANSI escape (Select Graphic Rendition 0) that ends a glyph's color.
const RESET: &str = "\x1b[0m";

/// What one day of a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    /// A stored price.
    Price,
    /// The server answered that it has no price for the day.
    NoData,
    /// Gave up (or its price row was deleted by hand: done, yet missing,
    /// and fetching again will not bring it back either).
    Failed,
    /// Queued, or held by a worker.
    Pending,
    /// Never enqueued.
    NotAsked,
    /// Its day has not come due (or its price was not published yet).
    NotYetDue,
    /// A failure given up on for good (`retry --never`).
    Abandoned,
}

impl Day {
    /// The day of a cell as [`Store::for_each_cell`] reports it: `None`
    /// has a price, otherwise why it has none.
    pub fn of(reason: Option<&Reason>) -> Day {
        match reason {
            None => Day::Price,
            Some(Reason::NoData) => Day::NoData,
            Some(Reason::Failed { .. } | Reason::PriceDeleted) => Day::Failed,
            Some(Reason::Queued { .. } | Reason::InProgress) => Day::Pending,
            Some(Reason::NotQueued) => Day::NotAsked,
            Some(Reason::NotYetDue { .. }) => Day::NotYetDue,
            Some(Reason::Abandoned { .. }) => Day::Abandoned,
        }
    }
}

/// What one column of the grid shows: the summary of its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every day has a price.
    Prices,
    /// Some days have a price, the others no data: nothing left to do.
    Partial,
    /// No day has data on the server.
    NoData,
    /// At least one day failed.
    Failed,
    /// At least one day is queued or in progress, none failed.
    Pending,
    /// At least one day was never asked for, none failed or pending.
    NotAsked,
    /// At least one day is not yet due, and nothing else needs doing.
    NotYetDue,
    /// Every day without a price is abandoned or has no data, and at least
    /// one is abandoned.
    Abandoned,
}

/// The states in the order the legend lists them.
const STATES: [State; 8] = [
    State::Prices,
    State::Partial,
    State::NoData,
    State::Failed,
    State::Pending,
    State::NotYetDue,
    State::Abandoned,
    State::NotAsked,
];

impl State {
    /// The character drawn for the state: block glyphs with color, plain
    /// ASCII without, so that a grid piped into a file or a mail still reads.
    pub fn glyph(self, color: bool) -> char {
        match (self, color) {
            (State::Prices, true) => '█',
            (State::Prices, false) => '#',
            (State::Partial, true) => '▄',
            (State::Partial, false) => '+',
            (State::NoData, true) => '·',
            (State::NoData, false) => '.',
            (State::Failed, true) => '✗',
            (State::Failed, false) => 'x',
            (State::Pending, true) => '░',
            (State::Pending, false) => '?',
            (State::NotYetDue, true) => '◌',
            (State::NotYetDue, false) => '-',
            (State::Abandoned, true) => '✗',
            (State::Abandoned, false) => '_',
            (State::NotAsked, _) => ' ',
        }
    }

    /// The ANSI escape that colors the glyph, if it has a color.
    fn style(self) -> Option<&'static str> {
        match self {
            State::Prices | State::Partial => Some("\x1b[32m"), // green
            State::NoData => Some("\x1b[90m"),                  // grey
            State::Failed => Some("\x1b[1;31m"),                // bold red
            State::Pending => Some("\x1b[33m"),                 // yellow
            State::NotYetDue => Some("\x1b[36m"),               // cyan
            State::Abandoned => Some("\x1b[90m"),               // grey
            State::NotAsked => None,
        }
    }

    /// What the legend says of the state.
    fn meaning(self) -> &'static str {
        match self {
            State::Prices => "prices",
            State::Partial => "partial: prices and no data",
            State::NoData => "no data (the server has none)",
            State::Failed => "failed",
            State::Pending => "pending: queued or in progress",
            State::NotYetDue => "not yet due",
            State::Abandoned => "abandoned (retry --never)",
            State::NotAsked => "not asked: never queued",
        }
    }
}

/// Days by what they hold: the days of one column, of a row, or of the
/// whole grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub prices: u64,
    pub no_data: u64,
    pub failed: u64,
    pub pending: u64,
    pub not_asked: u64,
    pub not_yet_due: u64,
    pub abandoned: u64,
}

impl DayCounts {
    /// Counts one more day.
    pub fn add(&mut self, day: Day) {
        match day {
            Day::Price => self.prices += 1,
            Day::NoData => self.no_data += 1,
            Day::Failed => self.failed += 1,
            Day::Pending => self.pending += 1,
            Day::NotAsked => self.not_asked += 1,
            Day::NotYetDue => self.not_yet_due += 1,
            Day::Abandoned => self.abandoned += 1,
        }
    }

    /// All days counted.
    pub fn days(&self) -> u64 {
        self.prices + self.no_data + self.failed + self.pending + self.not_asked + self.not_yet_due + self.abandoned
    }

    /// Days without a price that still need something done (or to wait
    /// for): failed, pending, never asked, not yet due.
    pub fn unsettled(&self) -> u64 {
        self.failed + self.pending + self.not_asked + self.not_yet_due
    }

    /// Days without a price, whatever the reason.
    pub fn missing(&self) -> u64 {
        self.days() - self.prices
    }

    /// The column these days make: the one that most needs doing wins
    /// (failed, then pending, then not asked), so a month with one failed
    /// day is not drawn as done; otherwise prices, no data, or partial for
    /// both. A column without days (there is none in a grid) is not asked.
    pub fn state(&self) -> State {
        if self.failed > 0 {
            State::Failed
        } else if self.pending > 0 {
            State::Pending
        } else if self.not_asked > 0 {
            State::NotAsked
        } else if self.not_yet_due > 0 {
            State::NotYetDue
        } else if self.abandoned > 0 {
            State::Abandoned
        } else {
            match (self.prices > 0, self.no_data > 0) {
                (true, true) => State::Partial,
                (true, false) => State::Prices,
                (false, true) => State::NoData,
                (false, false) => State::NotAsked,
            }
        }
    }

    /// The counts for people: "40 prices, 20 no data, 0 failed, 2 pending, 0 not asked",
    /// and the days not yet due or abandoned when there are some.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}, {} no data, {} failed, {} pending, {} not asked",
            super::plural(self.prices, "price", "prices"),
            self.no_data,
            self.failed,
            self.pending,
            self.not_asked
        );
        if self.not_yet_due > 0 {
            line.push_str(&format!(", {} not yet due", self.not_yet_due));
        }
        if self.abandoned > 0 {
            line.push_str(&format!(", {} abandoned", self.abandoned));
        }
        line
    }
}

impl std::ops::AddAssign for DayCounts {
    fn add_assign(&mut self, o: DayCounts) {
        self.prices += o.prices;
        self.no_data += o.no_data;
        self.failed += o.failed;
        self.pending += o.pending;
        self.not_asked += o.not_asked;
        self.not_yet_due += o.not_yet_due;
        self.abandoned += o.abandoned;
    }
}

/// The span of time one column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// Calendar months, `n` at a time, aligned on year 0 (so 3 months are
    /// quarters, 12 a year, 120 a decade).
    Months(u32),
}

impl Bucket {
    /// The finest bucket that draws `from..=to` in at most `room` columns.
    /// Past months come 2, 3 and 6 months, then 1, 2, 5, 10, 20... years,
    /// so any range fits.
    pub fn choose(from: NaiveDate, to: NaiveDate, room: usize) -> Bucket {
        let room = room.max(2) as i64; // two buckets hold any range of one bucket's length
        let mut bucket = Bucket::Day;
        while bucket.columns(from, to) as i64 > room {
            bucket = bucket.coarser();
        }
        bucket
    }

    fn coarser(self) -> Bucket {
        match self {
            Bucket::Day => Bucket::Week,
            Bucket::Week => Bucket::Months(1),
            Bucket::Months(n @ (1 | 2)) => Bucket::Months(n + 1),
            Bucket::Months(n @ (3 | 6)) => Bucket::Months(n * 2),
            // Years in a 1, 2, 5 series.
            Bucket::Months(n) => {
                let years = (n / 12).max(1);
                let lead = years / 10u32.pow(years.ilog10());
                let next = if lead == 2 { years / 2 * 5 } else { years.saturating_mul(2) };
                Bucket::Months(next.saturating_mul(12))
            }
        }
    }

    /// The number of the bucket holding `day`, counted from some fixed
    /// origin: consecutive buckets have consecutive numbers.
    pub fn index(self, day: NaiveDate) -> i64 {
        match self {
            Bucket::Day => day.num_days_from_ce().into(),
            // Day 1 of the common era was a Monday.
            Bucket::Week => (i64::from(day.num_days_from_ce()) - 1).div_euclid(7),
            Bucket::Months(n) => (i64::from(day.year()) * 12 + i64::from(day.month0())).div_euclid(n.into()),
        }
    }

    /// How many columns `from..=to` takes.
    pub fn columns(self, from: NaiveDate, to: NaiveDate) -> usize {
        (self.index(to) - self.index(from) + 1).max(0) as usize
    }

    /// "one column per day", "... per 3 months", "... per 2 years".
    pub fn describe(self) -> String {
        match self {
            Bucket::Day => "one column per day".into(),
            Bucket::Week => "one column per ISO week (Monday to Sunday)".into(),
            Bucket::Months(1) => "one column per month".into(),
            Bucket::Months(12) => "one column per year".into(),
            Bucket::Months(n) if n % 12 == 0 => format!("one column per {} years", n / 12),
            Bucket::Months(n) => format!("one column per {n} months"),
        }
    }
}

/// The layout of a grid: its days, its bucket, its label column, and
/// whether it is drawn in color.
#[derive(Debug, Clone)]
pub struct Grid {
    from: NaiveDate,
    to: NaiveDate,
    bucket: Bucket,
    label_width: usize,
    width: usize,
    color: bool,
}

impl Grid {
    /// A grid of `from..=to` whose rows, labels `label_width` characters
    /// wide, fit in `width` characters (unless the labels leave room for
    /// fewer than a dozen columns).
    pub fn new(from: NaiveDate, to: NaiveDate, label_width: usize, width: usize, color: bool) -> Grid {
        let room = width.saturating_sub(label_width + ROW_EXTRA).max(MIN_COLUMNS);
        Grid { from, to, bucket: Bucket::choose(from, to, room), label_width, width, color }
    }

    /// What one column stands for.
    pub fn bucket(&self) -> Bucket {
        self.bucket
    }

    /// The number of columns of each row.
    pub fn columns(&self) -> usize {
        self.bucket.columns(self.from, self.to)
    }

    /// The first line: the days drawn and what a column is.
    pub fn header(&self) -> String {
        let days = (self.to - self.from).num_days() + 1;
        let days = super::plural(days.max(0) as u64, "day", "days");
        format!("Coverage {} .. {} ({days}), {}", self.from, self.to, self.bucket.describe())
    }

    /// The time axis above the rows: each month's name where it starts
    /// (the year for January), or each year where it starts when columns
    /// are months. A label that would touch the one before is left out.
    pub fn axis(&self) -> String {
        let mut line = " ".repeat(self.label_width + 2);
        let start = line.len();
        let first = self.bucket.index(self.from);
        let mut free = 0; // the first column a label may take
        let step = if matches!(self.bucket, Bucket::Months(_)) { 12 } else { 1 };
        let Some(mut at) = self.from.with_day(1).and_then(|d| d.with_month0(if step == 12 { 0 } else { d.month0() }))
        else {
            return line;
        };
        while at <= self.to {
            if at >= self.from {
                let column = (self.bucket.index(at) - first) as usize;
                let label = if at.month() == 1 { at.year().to_string() } else { at.format("%b").to_string() };
                if column >= free {
                    line.extend(std::iter::repeat_n(' ', start + column - line.chars().count()));
                    line.push_str(&label);
                    free = column + label.chars().count() + 1;
                }
            }
            match at.checked_add_months(Months::new(step)) {
                Some(next) => at = next,
                None => break,
            }
        }
        line
    }

    /// An empty row, ready to count the days of one (exchange, symbol).
    pub fn row(&self) -> Row {
        Row {
            bucket: self.bucket,
            first: self.bucket.index(self.from),
            columns: vec![DayCounts::default(); self.columns()],
        }
    }

    /// A row drawn: its label, then each column's glyph between two frame
    /// characters (so that columns never asked for still show where the
    /// range ends). With color, one escape per run of equal columns.
    pub fn line(&self, label: &str, row: &Row) -> String {
        let frame = if self.color { '│' } else { '|' };
        let mut line = format!("{label:<width$} {frame}", width = self.label_width);
        let mut current: Option<State> = None;
        for state in row.states() {
            if self.color && current != Some(state) {
                line.push_str(state.style().unwrap_or(RESET));
                current = Some(state);
            }
            line.push(state.glyph(self.color));
        }
        if current.is_some_and(|s| s.style().is_some()) {
            line.push_str(RESET);
        }
        line.push(frame);
        line
    }

    /// The legend below the rows, wrapped to the width: every glyph and its
    /// meaning, and how a column of several days is summarised.
    pub fn legend(&self) -> Vec<String> {
        let entries = STATES.iter().map(|&s| {
            let meaning = s.meaning();
            match (s, self.color, s.style()) {
                (State::NotAsked, _, _) => (format!("(blank) {meaning}"), 8 + meaning.len()),
                (_, true, Some(style)) => (format!("{style}{}{RESET} {meaning}", s.glyph(true)), 2 + meaning.len()),
                _ => (format!("{} {meaning}", s.glyph(false)), 2 + meaning.len()),
            }
        });
        let mut lines = pack("Legend: ", entries, "   ", self.width);
        if self.bucket != Bucket::Day {
            let why = "A column shows what most needs doing among its days: failed, then pending, then not asked, \
                       then not yet due, then abandoned; otherwise prices, no data, or partial for a mix of both.";
            lines.extend(pack(LEGEND_INDENT, why.split(' ').map(|w| (w.to_string(), w.len())), " ", self.width));
        }
        lines
    }
}

/// Where the legend's lines start, under its first entry.
const LEGEND_INDENT: &str = "        ";

/// Lays out `items` (text, and its length on screen) separated by `sep`
/// in lines of at most `width` characters where they fit, the first line
/// starting with `first` and the others indented under it.
fn pack(first: &str, items: impl Iterator<Item = (String, usize)>, sep: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut line, mut len, mut empty) = (first.to_string(), first.len(), true);
    for (text, n) in items {
        if !empty && len + sep.len() + n > width {
            lines.push(std::mem::replace(&mut line, LEGEND_INDENT.to_string()));
            (len, empty) = (LEGEND_INDENT.len(), true);
        }
        if !empty {
            line.push_str(sep);
            len += sep.len();
        }
        line.push_str(&text);
        (len, empty) = (len + n, false);
    }
    lines.push(line);
    lines
}

/// The columns of one row as its days come in: one count of days per
/// column, so a row costs its columns, not its days.
#[derive(Debug, Clone)]
pub struct Row {
    bucket: Bucket,
    first: i64,
    columns: Vec<DayCounts>,
}

impl Row {
    /// Counts `day` in its column; a day outside the grid is ignored.
    pub fn push(&mut self, day: NaiveDate, what: Day) {
        let Ok(column) = usize::try_from(self.bucket.index(day) - self.first) else { return };
        if let Some(counts) = self.columns.get_mut(column) {
            counts.add(what);
        }
    }

    /// Each column's state, in day order.
    pub fn states(&self) -> impl Iterator<Item = State> + '_ {
        self.columns.iter().map(DayCounts::state)
    }

    /// The days of the whole row.
    pub fn counts(&self) -> DayCounts {
        let mut all = DayCounts::default();
        for c in &self.columns {
            all += *c;
        }
        all
    }
}

/// Draws the coverage grid of `cells` in `width` characters: a header, the
/// time axis, one row per (exchange, symbol) written as soon as its days are
/// read, the legend and a summary. Returns the days by state.
pub fn coverage<W: Write>(store: &Store, cells: &Cells, width: usize, color: bool, mut out: W) -> Result<DayCounts> {
    let widest = |names: &[String]| names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
    let (exchange_width, symbol_width) = (widest(&cells.exchanges), widest(&cells.symbols));
    let grid = Grid::new(cells.from, cells.to, exchange_width + 1 + symbol_width, width, color);

    writeln!(out, "{}", grid.header())?;
    writeln!(out, "{}", grid.axis())?;
    let mut totals = DayCounts::default();
    for exchange in &cells.exchanges {
        for symbol in &cells.symbols {
            let mut row = grid.row();
            store.for_each_cell(exchange, symbol, cells.from, cells.to, |day, reason| {
                row.push(day, Day::of(reason.as_ref()));
                Ok(())
            })?;
            totals += row.counts();
            let label = format!("{exchange:<exchange_width$} {symbol}");
            writeln!(out, "{}", grid.line(&label, &row))?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn counts(days: &[Day]) -> DayCounts {
        let mut c = DayCounts::default();
        for day in days {
            c.add(*day);
        }
        c
    }

    #[test]
    fn reasons_map_to_days() {
        assert_eq!(Day::of(None), Day::Price);
        assert_eq!(Day::of(Some(&Reason::NoData)), Day::NoData);
        assert_eq!(Day::of(Some(&Reason::Failed { error: "HTTP 404".into() })), Day::Failed);
        assert_eq!(Day::of(Some(&Reason::PriceDeleted)), Day::Failed);
        assert_eq!(Day::of(Some(&Reason::Queued { attempts: 2, error: None })), Day::Pending);
        assert_eq!(Day::of(Some(&Reason::InProgress)), Day::Pending);
        assert_eq!(Day::of(Some(&Reason::NotQueued)), Day::NotAsked);
    }

    #[test]
    fn a_column_shows_what_most_needs_doing() {
        use Day::*;
        assert_eq!(counts(&[Price, Price]).state(), State::Prices);
        assert_eq!(counts(&[NoData, NoData]).state(), State::NoData);
        assert_eq!(counts(&[Price, NoData, Price]).state(), State::Partial);
        assert_eq!(counts(&[NotAsked, NotAsked]).state(), State::NotAsked);
        assert_eq!(counts(&[Price, NotAsked, NoData]).state(), State::NotAsked);
        assert_eq!(counts(&[Price, Pending, NotAsked]).state(), State::Pending);
        assert_eq!(counts(&[Price, Pending, Failed, NotAsked]).state(), State::Failed);
        assert_eq!(counts(&[]).state(), State::NotAsked);
        let c = counts(&[Price, Pending, Failed, NoData, NoData]);
        assert_eq!((c.days(), c.missing()), (5, 4));
        assert_eq!(c.line(), "1 price, 2 no data, 1 failed, 1 pending, 0 not asked");
    }

    #[test]
    fn weeks_run_monday_to_sunday() {
        // 2020-03-01 was a Sunday, 2020-03-02 a Monday.
        assert_eq!(Bucket::Week.columns(d("2020-03-01"), d("2020-03-02")), 2);
        assert_eq!(Bucket::Week.columns(d("2020-03-02"), d("2020-03-08")), 1);
        assert_eq!(Bucket::Week.columns(d("2020-03-01"), d("2020-03-31")), 6);
        assert_eq!(Bucket::Months(1).columns(d("2019-12-31"), d("2020-01-01")), 2);
        assert_eq!(Bucket::Months(3).columns(d("2020-01-01"), d("2020-12-31")), 4);
        assert_eq!(Bucket::Months(12).columns(d("2013-04-24"), d("2020-12-08")), 8);
    }

    #[test]
    fn the_finest_bucket_that_fits_is_chosen() {
        assert_eq!(Bucket::choose(d("2020-03-01"), d("2020-03-31"), 31), Bucket::Day);
        assert_eq!(Bucket::choose(d("2020-03-01"), d("2020-03-31"), 30), Bucket::Week);
        assert_eq!(Bucket::choose(d("2020-01-01"), d("2020-12-31"), 80), Bucket::Week);
        assert_eq!(Bucket::choose(d("2019-01-01"), d("2020-12-31"), 80), Bucket::Months(1));
        assert_eq!(Bucket::choose(d("2013-04-24"), d("2020-12-08"), 60), Bucket::Months(2));
        assert_eq!(Bucket::choose(d("2013-04-24"), d("2020-12-08"), 20), Bucket::Months(6));
        // Past years: 2, 5, 10... years a column.
        let (from, to) = (d("1900-01-01"), d("2020-12-31"));
        assert_eq!(Bucket::choose(from, to, 100), Bucket::Months(24));
        assert_eq!(Bucket::choose(from, to, 20), Bucket::Months(120));
        assert!(Bucket::Months(120).columns(from, to) <= 20);
        assert_eq!(Bucket::Months(120).describe(), "one column per 10 years");
        let (from, to) = (NaiveDate::MIN, NaiveDate::MAX);
        assert!(Bucket::choose(from, to, 12).columns(from, to) <= 12);
    }

    #[test]
    fn rows_summarise_their_days_per_column() {
        // Two weeks and a day: Sun 1 March, then Mon 2 to Sun 8, Mon 9 to Sun 15.
        let grid = Grid::new(d("2020-03-01"), d("2020-03-15"), 12, 26, false);
        assert_eq!(grid.bucket(), Bucket::Week);
        let mut row = grid.row();
        assert_eq!(row.columns.len(), 3, "a row holds its columns, not its days");
        row.push(d("2020-03-01"), Day::Price);
        for day in d("2020-03-02").iter_days().take(7) {
            row.push(day, if day.day() % 2 == 0 { Day::Price } else { Day::NoData });
        }
        for day in d("2020-03-09").iter_days().take(7) {
            row.push(day, if day == d("2020-03-12") { Day::Failed } else { Day::Price });
        }
        row.push(d("2020-03-16"), Day::Failed); // past the grid: ignored
        assert_eq!(grid.line("bitstamp btc", &row), "bitstamp btc |#+x|");
        assert_eq!(row.counts().days(), 15);
        assert!(grid.header().contains("2020-03-01 .. 2020-03-15 (15 days), one column per ISO week"));
    }

    #[test]
    fn color_is_ansi_escapes_and_only_with_color() {
        let mut row = Grid::new(d("2020-03-01"), d("2020-03-05"), 8, 100, true).row();
        for (day, what) in d("2020-03-01").iter_days().zip([Day::Price, Day::Price, Day::NoData, Day::Failed]) {
            row.push(day, what);
        }
        let colored = Grid::new(d("2020-03-01"), d("2020-03-05"), 8, 100, true);
        let line = colored.line("kraken", &row);
        assert_eq!(line, "kraken   │\x1b[32m██\x1b[90m·\x1b[1;31m✗\x1b[0m │");
        assert!(colored.legend().concat().contains("\x1b[32m█\x1b[0m prices"));

        let plain = Grid::new(d("2020-03-01"), d("2020-03-05"), 8, 100, false);
        assert_eq!(plain.line("kraken", &row), "kraken   |##.x |");
        assert!(!plain.legend().concat().contains('\x1b'));
        assert!(plain.legend()[0].starts_with("Legend: # prices   + partial"));
    }

    #[test]
    fn the_legend_fits_the_width_and_explains_columns_of_several_days() {
        let days = Grid::new(d("2020-03-01"), d("2020-03-31"), 16, 240, false);
        let legend = days.legend();
        assert_eq!(legend.len(), 1, "{legend:?}");
        for state in &STATES[..7] {
            assert!(legend[0].contains(&format!("{} {}", state.glyph(false), state.meaning())), "{state:?}");
        }
        assert!(legend[0].ends_with("(blank) not asked: never queued"));
        let years = Grid::new(d("2013-04-24"), d("2020-12-08"), 16, 40, false);
        let legend = years.legend();
        assert!(legend.iter().all(|l| l.chars().count() <= 40), "{legend:#?}");
        assert!(legend.iter().any(|l| l.contains("A column shows what most needs")), "{legend:#?}");
        let colored = Grid::new(d("2013-04-24"), d("2020-12-08"), 16, 40, true).legend();
        assert_eq!(colored.len(), legend.len(), "escapes take no room on screen");
    }

    #[test]
    fn the_axis_names_months_where_they_start() {
        // 2020 is a leap year: 20 to 29 February are ten columns.
        let grid = Grid::new(d("2020-02-20"), d("2020-04-10"), 4, 100, false);
        assert_eq!(grid.axis(), format!("{}Mar{}Apr", " ".repeat(6 + 10), " ".repeat(31 - 3)));
        let grid = Grid::new(d("2019-06-01"), d("2021-12-31"), 4, 60, false);
        assert_eq!(grid.bucket(), Bucket::Months(1));
        assert_eq!(grid.axis(), format!("{}2020{}2021", " ".repeat(6 + 7), " ".repeat(12 - 4)));
    }
}
