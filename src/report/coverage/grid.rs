//! The layout of a grid and the drawing of its lines: the header, the
//! time axis, and one row of columns per (exchange, symbol).

use chrono::{Datelike, Months, NaiveDate};

use super::mark::RESET;
use super::{legend, Bucket, DayCounts, Mark};
use crate::life::Kind;
use crate::words::plural;

/// Columns drawn even when the labels leave less room than that: a grid
/// wider than the terminal still reads, one squeezed to nothing does not.
const MIN_COLUMNS: usize = 12;

/// Characters of a row besides its label and columns: the space after the
/// label and the two frame characters.
const ROW_EXTRA: usize = 3;

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
        let days = plural(days.max(0) as u64, "day", "days");
        format!("Coverage {} .. {} ({days}), {}", self.from, self.to, self.bucket.describe())
    }

    /// The time axis above the rows: each month's name where it starts
    /// (the year for January; with a column per month or more, each year
    /// where it starts), the first column's day when no month starts there
    /// ("Mar 5"), and with a column per day, the 8th, 15th and 22nd of each
    /// month. Labels are placed in that order, and one that would touch a
    /// label already placed is left out, so a range of three days still
    /// has its first column named.
    pub fn axis(&self) -> String {
        let first = self.bucket.index(self.from);
        let column = |day: NaiveDate| (self.bucket.index(day) - first) as usize;
        let by_months = matches!(self.bucket, Bucket::Months(_));
        let mut labels: Vec<(usize, String)> = Vec::new();
        let step = if by_months { 12 } else { 1 };
        let start = self.from.with_day(1).and_then(|d| d.with_month0(if by_months { 0 } else { d.month0() }));
        let mut at = start;
        while let Some(day) = at.filter(|d| *d <= self.to) {
            if day >= self.from {
                let label = if day.month() == 1 { day.year().to_string() } else { day.format("%b").to_string() };
                labels.push((column(day), label));
            }
            at = day.checked_add_months(Months::new(step));
        }
        let first_label = match self.bucket {
            Bucket::Months(_) => self.from.format("%b %Y").to_string(),
            _ => self.from.format("%b %-d").to_string(),
        };
        labels.push((0, first_label));
        if self.bucket == Bucket::Day {
            let weeks = self.from.iter_days().take_while(|d| *d <= self.to).filter(|d| matches!(d.day(), 8 | 15 | 22));
            labels.extend(weeks.map(|d| (column(d), d.day().to_string())));
        }
        let mut axis: Vec<char> = Vec::new();
        for (column, label) in labels {
            let (start, end) = (column, column + label.chars().count());
            if axis.len() < end + 1 {
                axis.resize(end + 1, ' ');
            }
            // One blank on each side of a label, as between words.
            let free = axis[start.saturating_sub(1)..=end].iter().all(|c| *c == ' ');
            if free {
                axis.splice(start..end, label.chars());
            }
        }
        let axis: String = axis.into_iter().collect();
        format!("{}{}", " ".repeat(self.label_width + 2), axis.trim_end())
    }

    /// An empty row, ready to count the days of one (exchange, symbol).
    pub fn row(&self) -> GridRow {
        GridRow {
            bucket: self.bucket,
            first: self.bucket.index(self.from),
            columns: vec![DayCounts::default(); self.columns()],
        }
    }

    /// A row drawn: its label, then each column's glyph between two frame
    /// characters (so that columns never asked for still show where the
    /// range ends). With color, one escape per run of equal columns.
    pub fn line(&self, label: &str, row: &GridRow) -> String {
        let frame = if self.color { '│' } else { '|' };
        let mut line = format!("{label:<width$} {frame}", width = self.label_width);
        let mut current: Option<Mark> = None;
        for mark in row.marks() {
            if self.color && current != Some(mark) {
                line.push_str(mark.style().unwrap_or(RESET));
                current = Some(mark);
            }
            line.push(mark.glyph(self.color));
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
        legend::lines(self.bucket, self.color, self.width)
    }
}

/// The columns of one row as its days come in: one count of days per
/// column, so a row costs its columns, not its days.
#[derive(Debug, Clone)]
pub struct GridRow {
    bucket: Bucket,
    first: i64,
    columns: Vec<DayCounts>,
}

impl GridRow {
    /// Counts `day` in its column; a day outside the grid is ignored.
    pub fn push(&mut self, day: NaiveDate, what: Kind) {
        let Ok(column) = usize::try_from(self.bucket.index(day) - self.first) else { return };
        if let Some(counts) = self.columns.get_mut(column) {
            counts.add(what);
        }
    }

    /// Each column's mark, in day order.
    pub fn marks(&self) -> impl Iterator<Item = Mark> + '_ {
        self.columns.iter().map(DayCounts::mark)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::coverage::test_day as d;

    #[test]
    fn rows_summarise_their_days_per_column() {
        // Two weeks and a day: Sun 1 March, then Mon 2 to Sun 8, Mon 9 to Sun 15.
        let grid = Grid::new(d("2020-03-01"), d("2020-03-15"), 12, 26, false);
        assert_eq!(grid.bucket(), Bucket::Week);
        let mut row = grid.row();
        assert_eq!(row.columns.len(), 3, "a row holds its columns, not its days");
        row.push(d("2020-03-01"), Kind::Price);
        for day in d("2020-03-02").iter_days().take(7) {
            row.push(day, if day.day() % 2 == 0 { Kind::Price } else { Kind::NoData });
        }
        for day in d("2020-03-09").iter_days().take(7) {
            row.push(day, if day == d("2020-03-12") { Kind::Failed } else { Kind::Price });
        }
        row.push(d("2020-03-16"), Kind::Failed); // past the grid: ignored
        assert_eq!(grid.line("bitstamp btc", &row), "bitstamp btc |#+x|");
        assert_eq!(row.counts().days(), 15);
        assert!(grid.header().contains("2020-03-01 .. 2020-03-15 (15 days), one column per ISO week"));
    }

    #[test]
    fn color_is_ansi_escapes_and_only_with_color() {
        let mut row = Grid::new(d("2020-03-01"), d("2020-03-05"), 8, 100, true).row();
        for (day, what) in d("2020-03-01").iter_days().zip([Kind::Price, Kind::Price, Kind::NoData, Kind::Failed]) {
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
    fn the_axis_names_months_where_they_start() {
        // 2020 is a leap year: 20 to 29 February are ten columns. With a
        // column per day, the first day and each 8th, 15th and 22nd are
        // named too, where they fit: the 22nd of February does not.
        let grid = Grid::new(d("2020-02-20"), d("2020-04-10"), 4, 100, false);
        let want = [(0, "Feb 20"), (10, "Mar"), (17, "8"), (24, "15"), (31, "22"), (41, "Apr"), (48, "8")];
        let mut axis = " ".repeat(6);
        for (column, label) in want {
            axis.push_str(&" ".repeat(6 + column - axis.len()));
            axis.push_str(label);
        }
        assert_eq!(grid.axis(), axis);
        let grid = Grid::new(d("2019-06-01"), d("2021-12-31"), 4, 60, false);
        assert_eq!(grid.bucket(), Bucket::Months(1));
        assert_eq!(grid.axis(), format!("{}2020{}2021", " ".repeat(6 + 7), " ".repeat(12 - 4)));
    }

    #[test]
    fn a_short_range_names_its_first_column() {
        // No month starts in it: the axis was blank, and no column named.
        let grid = Grid::new(d("2020-03-05"), d("2020-03-07"), 4, 100, false);
        assert_eq!(grid.axis(), format!("{}Mar 5", " ".repeat(6)));
        let grid = Grid::new(d("2020-03-01"), d("2020-03-31"), 4, 100, false);
        assert_eq!(grid.axis(), format!("{}Mar    8      15     22", " ".repeat(6)));
    }
}
