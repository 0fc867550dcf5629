//! Which source each pair's prices come from, and where saying so helps a
//! reader of a report.

use std::collections::{BTreeSet, HashMap};

use anyhow::Result;

use crate::selection::Selection;
use crate::source::Declarations;
use crate::store::Store;

/// The sources of a selection's pairs.
#[derive(Debug, Default)]
pub struct PairSources {
    of: HashMap<(String, String), String>,
    only_default: bool,
}

impl PairSources {
    /// The sources of the pairs of `sel` that have tasks in its range.
    pub fn load(store: &Store, sel: &Selection) -> Result<PairSources> {
        let mut of = HashMap::new();
        let mut all = BTreeSet::new();
        for (exchange, symbol, sources) in store.sources_in(sel)? {
            all.extend(sources.iter().cloned());
            // A pair fetched from two sources (one of them at another
            // time) names both.
            of.insert((exchange, symbol), sources.join("+"));
        }
        // The default source is named nowhere while it is the only one in play.
        let only_default = all.iter().all(|s| Declarations::is_unnamed(s));
        Ok(PairSources { of, only_default })
    }

    /// The source of a pair's tasks, if it has any in the range.
    pub fn of(&self, exchange: &str, symbol: &str) -> Option<&str> {
        self.of.get(&(exchange.to_string(), symbol.to_string())).map(String::as_str)
    }

    /// The source where it tells the reader something: not where the
    /// exchange is the source itself (`binance BTCUSDT` says it already),
    /// and not while every task comes from the default one.
    pub fn shown(&self, exchange: &str, symbol: &str) -> Option<&str> {
        self.of(exchange, symbol).filter(|s| *s != exchange && !self.only_default)
    }

    /// Whether any pair of the selection shows its source.
    pub fn any_shown(&self) -> bool {
        !self.only_default && self.of.iter().any(|((exchange, _), s)| s != exchange)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(pairs: &[(&str, &str, &str)]) -> PairSources {
        let of = pairs.iter().map(|(e, s, src)| ((e.to_string(), s.to_string()), src.to_string())).collect();
        let only_default = pairs.iter().all(|(_, _, s)| Declarations::is_unnamed(s));
        PairSources { of, only_default }
    }

    #[test]
    fn a_source_is_named_where_the_exchange_does_not_say_it() {
        let alone = sources(&[("bitstamp", "btc", "cryptodb"), ("kraken", "eth", "cryptodb")]);
        assert_eq!(alone.shown("bitstamp", "btc"), None, "the default alone is named nowhere");
        assert!(!alone.any_shown());

        let mixed = sources(&[("bitstamp", "btc", "cryptodb"), ("binance", "BTCUSDT", "binance")]);
        assert_eq!(mixed.shown("bitstamp", "btc"), Some("cryptodb"));
        assert_eq!(mixed.shown("binance", "BTCUSDT"), None, "binance's prices are stored as binance");
        assert_eq!(mixed.of("binance", "BTCUSDT"), Some("binance"));
        assert_eq!(mixed.shown("kraken", "btc"), None, "nothing queued");
        assert!(mixed.any_shown());

        let declared = sources(&[("Coinbase", "BTC", "cryptocompare")]);
        assert_eq!(declared.shown("Coinbase", "BTC"), Some("cryptocompare"));
    }
}
