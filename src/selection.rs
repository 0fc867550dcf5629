//! A selection: a list of pairs and a range of days, the cells a command is
//! about. Commands and the page resolve one from what the user typed
//! (`resolve.rs`); the store takes it whole, one transaction per call.
//!
//! A selection to queue is every exchange named crossed with every symbol
//! named ([`Selection::cross`]); a report's is the pairs the database has
//! tasks for, which in a database of many sources is no cross product at
//! all (binance's BTCUSDT and coinbase's BTC-USD, not binance's BTC-USD).

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::interval::Interval;

/// An exchange and a symbol, as the database keys tasks and prices (with
/// the day). The source a pair's tasks are fetched from is no part of its
/// key: `tasks` is unique on (exchange, symbol, day) whatever the source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pair {
    pub exchange: String,
    pub symbol: String,
}

impl Pair {
    pub fn new(exchange: impl Into<String>, symbol: impl Into<String>) -> Pair {
        Pair { exchange: exchange.into(), symbol: symbol.into() }
    }

    /// Every exchange with every symbol.
    pub fn cross(exchanges: &[String], symbols: &[String]) -> Vec<Pair> {
        exchanges.iter().flat_map(|e| symbols.iter().map(move |s| Pair::new(e, s))).collect()
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.exchange, self.symbol)
    }
}

/// Each pair over every day from `from` to `to`, both included, at one
/// interval (`1d` unless [`Selection::at`] says). The pairs are in name
/// order, each once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub pairs: Vec<Pair>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub interval: Interval,
}

impl Selection {
    /// These pairs (put in order, each once) over the range.
    pub fn new(pairs: impl IntoIterator<Item = Pair>, from: NaiveDate, to: NaiveDate) -> Selection {
        let pairs: BTreeSet<Pair> = pairs.into_iter().collect();
        Selection { pairs: pairs.into_iter().collect(), from, to, interval: Interval::D1 }
    }

    /// The same cells at `interval`.
    pub fn at(self, interval: Interval) -> Selection {
        Selection { interval, ..self }
    }

    /// Every exchange crossed with every symbol, over the range.
    pub fn cross(exchanges: &[String], symbols: &[String], from: NaiveDate, to: NaiveDate) -> Selection {
        Selection::new(Pair::cross(exchanges, symbols), from, to)
    }

    /// One pair over the range.
    pub fn one(exchange: &str, symbol: &str, from: NaiveDate, to: NaiveDate) -> Selection {
        Selection { pairs: vec![Pair::new(exchange, symbol)], from, to, interval: Interval::D1 }
    }

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
        self.pairs.len() as u64 * self.days()
    }

    /// Whether the selection holds no cell.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pairs as two columns, exchanges and symbols, the i-th of each
    /// one pair: how a statement takes them as arrays.
    pub fn columns(&self) -> (Vec<&str>, Vec<&str>) {
        self.pairs.iter().map(|p| (p.exchange.as_str(), p.symbol.as_str())).unzip()
    }

    /// The same pairs over the last `n` days of the range (at least one,
    /// at most all of them).
    pub fn last_days(&self, n: u32) -> Selection {
        let from = (self.to - chrono::Duration::days(i64::from(n.max(1)) - 1)).max(self.from);
        Selection { from, ..self.clone() }
    }

    /// "12 exchanges x 3 symbols x 31 days (2020-03-01 to 2020-03-31)" for
    /// a cross product (what is queued), "12 pairs x 31 days (...)" for
    /// any other list of pairs (what a database of many sources holds).
    pub fn describe(&self) -> String {
        use crate::words::plural;
        let range = if self.from == self.to { self.from.to_string() } else { format!("{} to {}", self.from, self.to) };
        let exchanges: BTreeSet<&str> = self.pairs.iter().map(|p| p.exchange.as_str()).collect();
        let symbols: BTreeSet<&str> = self.pairs.iter().map(|p| p.symbol.as_str()).collect();
        let names = if exchanges.len() * symbols.len() == self.pairs.len() {
            format!(
                "{} x {}",
                plural(exchanges.len() as u64, "exchange", "exchanges"),
                plural(symbols.len() as u64, "symbol", "symbols")
            )
        } else {
            plural(self.pairs.len() as u64, "pair", "pairs")
        };
        format!("{names} x {} ({range})", plural(self.days(), "day", "days"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_selection_counts_and_narrows_its_cells() {
        let sel = Selection::cross(&["b".into(), "a".into()], &["x".into()], d("2020-02-28"), d("2020-03-01"));
        assert_eq!((sel.days(), sel.len()), (3, 6));
        assert_eq!(sel.pairs, [Pair::new("a", "x"), Pair::new("b", "x")], "in name order");
        assert_eq!(sel.columns(), (vec!["a", "b"], vec!["x", "x"]));
        assert_eq!(sel.last_days(2).from, d("2020-02-29"));
        assert_eq!(sel.last_days(99).from, d("2020-02-28"));
        assert_eq!(sel.describe(), "2 exchanges x 1 symbol x 3 days (2020-02-28 to 2020-03-01)");
    }

    #[test]
    fn pairs_of_many_sources_are_no_cross_product() {
        let pairs =
            [Pair::new("coinbase", "BTC-USD"), Pair::new("binance", "BTCUSDT"), Pair::new("binance", "BTCUSDT")];
        let sel = Selection::new(pairs, d("2020-03-01"), d("2020-03-01"));
        assert_eq!(sel.pairs, [Pair::new("binance", "BTCUSDT"), Pair::new("coinbase", "BTC-USD")], "each once");
        assert_eq!(sel.len(), 2, "not binance BTC-USD nor coinbase BTCUSDT");
        assert_eq!(sel.describe(), "2 pairs x 1 day (2020-03-01)");
    }
}
