//! A selection: exchanges x symbols x a range of days, the cells a command
//! is about. Commands and the page resolve one from what the user typed
//! (`resolve.rs`); the store takes it whole, one transaction per call.

use chrono::NaiveDate;

/// The cross product of these names and days, both ends included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub exchanges: Vec<String>,
    pub symbols: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Selection {
    /// How many days the range holds.
    pub fn days(&self) -> u64 {
        ((self.to - self.from).num_days() + 1).max(0) as u64
    }

    /// Every day of the range, in order.
    pub fn day_list(&self) -> Vec<NaiveDate> {
        self.from.iter_days().take_while(|d| *d <= self.to).collect()
    }

    /// How many (exchange, symbol, day) cells the selection holds.
    pub fn len(&self) -> u64 {
        self.exchanges.len() as u64 * self.symbols.len() as u64 * self.days()
    }

    /// Whether the selection holds no cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every (exchange, symbol), in name order.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.exchanges.iter().flat_map(move |e| self.symbols.iter().map(move |s| (e.as_str(), s.as_str())))
    }

    /// The same names over the last `n` days of the range (at least one,
    /// at most all of them).
    pub fn last_days(&self, n: u32) -> Selection {
        let from = (self.to - chrono::Duration::days(i64::from(n.max(1)) - 1)).max(self.from);
        Selection { from, ..self.clone() }
    }

    /// "12 exchanges x 3 symbols x 31 days (2020-03-01 to 2020-03-31)".
    pub fn describe(&self) -> String {
        use crate::report::plural;
        let range = if self.from == self.to { self.from.to_string() } else { format!("{} to {}", self.from, self.to) };
        format!(
            "{} x {} x {} ({range})",
            plural(self.exchanges.len() as u64, "exchange", "exchanges"),
            plural(self.symbols.len() as u64, "symbol", "symbols"),
            plural(self.days(), "day", "days"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_counts_and_narrows_its_cells() {
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let sel = Selection {
            exchanges: vec!["a".into(), "b".into()],
            symbols: vec!["x".into()],
            from: d("2020-02-28"),
            to: d("2020-03-01"),
        };
        assert_eq!((sel.days(), sel.len()), (3, 6));
        assert_eq!(sel.pairs().collect::<Vec<_>>(), [("a", "x"), ("b", "x")]);
        assert_eq!(sel.last_days(2).from, d("2020-02-29"));
        assert_eq!(sel.last_days(99).from, d("2020-02-28"));
        assert_eq!(sel.describe(), "2 exchanges x 1 symbol x 3 days (2020-02-28 to 2020-03-01)");
    }
}
