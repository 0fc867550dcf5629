//! Which source the names given were meant for: the hint for a forgotten
//! `--source` (`--symbol BTCUSDT` on the reference API, whose symbols are
//! `btc`; `--exchange binance`, a source of its own). A symbol's source is
//! guessed from its shape alone, offline: a wrong guess costs a suggestion
//! in an error, never a request or a task.
//!
//! The forms are those of each source's candle requests, in the pages the
//! built-in declarations cite (`builtin/*.toml`): Binance `symbol=BTCUSDT`,
//! Coinbase `/products/BTC-USD/candles`, Kraken `pair=XBTUSD` (its answers
//! key rows by `XXBTZUSD`), Bitstamp `/ohlc/btcusd/`, Bitfinex
//! `trade:1D:tBTCUSD`, OKX `instId=BTC-USDT`. ⚠ The quote currencies are
//! the common ones, not each source's whole list: a pair quoted in another
//! currency gets no hint.

use super::PriceSource;

/// The other sources the names given to a source point at.
#[derive(Debug, Default)]
pub struct Meant {
    /// Exchanges named like another source, with that source.
    exchanges: Vec<String>,
    /// Symbols written as other built-in sources write theirs, with them.
    symbols: Vec<(String, Vec<&'static str>)>,
    /// Whether the source asked for serves several exchanges (it takes
    /// --exchange, which a source that is one exchange does not).
    many_exchanges: bool,
}

impl Meant {
    /// What `exchanges` and `symbols`, given to `source`, point at among
    /// `sources` (the names of every source there is).
    pub fn of(source: &dyn PriceSource, exchanges: &[String], symbols: &[String], sources: &[String]) -> Meant {
        let many_exchanges = source.exchange().is_none();
        let exchanges = exchanges
            .iter()
            .map(|n| n.trim())
            .filter(|n| many_exchanges && *n != source.name() && sources.iter().any(|s| s == n))
            .map(str::to_string)
            .collect();
        let symbols = symbols
            .iter()
            .map(|n| (n.trim().to_string(), sources_writing(n)))
            .filter(|(_, writers)| !writers.is_empty() && !writers.contains(&source.name()))
            .collect();
        Meant { exchanges, symbols, many_exchanges }
    }

    /// The hint, if anything points elsewhere: why, and the `--source` to
    /// give. An exchange named like a source counts if `exchanges_refused`
    /// (the source does not list it), or where a symbol points there too:
    /// `--exchange kraken` is an exchange of the reference API as well.
    pub fn hint(&self, exchanges_refused: bool) -> Option<String> {
        let mut why: Vec<String> = Vec::new();
        let mut wanted: Vec<&str> = Vec::new();
        for name in &self.exchanges {
            let also_written = self.symbols.iter().any(|(_, w)| w.contains(&name.as_str()));
            if exchanges_refused || also_written {
                why.push(format!("{name} is also a source of its own"));
                wanted.push(name);
            }
        }
        for (symbol, writers) in &self.symbols {
            why.push(match &writers[..] {
                [one] => format!("{symbol} is written as {one} writes its symbols"),
                many => format!("{symbol} is written as {} write theirs", many.join(" or ")),
            });
            wanted.extend(writers.iter().copied());
        }
        let mut seen: Vec<&str> = Vec::new();
        wanted.retain(|s| {
            let new = !seen.contains(s);
            seen.push(s);
            new
        });
        let (first, rest) = wanted.split_first()?;
        let or: String = rest.iter().map(|s| format!(" (or --source {s})")).collect();
        // Said where the user is on a source of several exchanges, which takes --exchange.
        let no_exchange = if self.many_exchanges { " A source that is one exchange needs no --exchange" } else { "" };
        Some(format!("{}: did you mean --source {first}{or}?{no_exchange}", why.join("; ")))
    }
}

/// How a source writes a pair: a prefix, the base, a separator, the quote,
/// all in one case.
struct Form {
    source: &'static str,
    prefix: &'static str,
    /// Between base and quote; empty for none.
    separator: &'static str,
    upper: bool,
    /// The quotes it lists most, the most common first.
    quotes: &'static [&'static str],
    /// Bases it never writes: Kraken writes bitcoin XBT.
    not_bases: &'static [&'static str],
}

const FORMS: &[Form] = &[
    Form {
        source: "binance",
        prefix: "",
        separator: "",
        upper: true,
        quotes: &["USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "BRL", "JPY"],
        not_bases: &[],
    },
    Form {
        source: "coinbase",
        prefix: "",
        separator: "-",
        upper: true,
        quotes: &["USD", "EUR", "GBP", "USDC", "USDT", "BTC", "ETH"],
        not_bases: &[],
    },
    Form {
        source: "kraken",
        prefix: "",
        separator: "",
        upper: true,
        quotes: &["USD", "EUR", "GBP", "CAD", "JPY", "CHF", "AUD", "ZUSD", "ZEUR", "USDT", "USDC", "XBT", "ETH"],
        not_bases: &["BTC"],
    },
    Form {
        source: "bitstamp",
        prefix: "",
        separator: "",
        upper: false,
        quotes: &["usd", "eur", "gbp", "usdt", "usdc", "btc", "eth"],
        not_bases: &[],
    },
    Form {
        source: "bitfinex",
        prefix: "t",
        separator: "",
        upper: true,
        quotes: &["USD", "EUR", "GBP", "JPY", "UST", "BTC", "ETH"],
        not_bases: &[],
    },
    // Bitfinex's names of more than three letters take a colon: tDOGE:USD.
    Form {
        source: "bitfinex",
        prefix: "t",
        separator: ":",
        upper: true,
        quotes: &["USD", "EUR", "GBP", "JPY", "UST", "BTC", "ETH"],
        not_bases: &[],
    },
    Form {
        source: "okx",
        prefix: "",
        separator: "-",
        upper: true,
        quotes: &["USDT", "USDC", "BTC", "ETH", "EUR"],
        not_bases: &[],
    },
];

/// The built-in sources that write `symbol` as it is written, the likeliest
/// first (the one whose most common quote it has); none for a symbol of
/// no such shape (`btc`, `IBM`, `bitcoin`).
pub fn sources_writing(symbol: &str) -> Vec<&'static str> {
    let mut found: Vec<(usize, &'static str)> = Vec::new();
    for form in FORMS {
        if let Some(rank) = rank(form, symbol.trim()) {
            match found.iter_mut().find(|(_, s)| *s == form.source) {
                Some(seen) => seen.0 = seen.0.min(rank),
                None => found.push((rank, form.source)),
            }
        }
    }
    found.sort_by_key(|(rank, _)| *rank);
    found.into_iter().map(|(_, source)| source).collect()
}

/// Where `symbol`'s quote comes in `form`'s list, if `form` writes it.
fn rank(form: &Form, symbol: &str) -> Option<usize> {
    let pair = symbol.strip_prefix(form.prefix)?;
    let in_case =
        |b: u8| b.is_ascii_digit() || if form.upper { b.is_ascii_uppercase() } else { b.is_ascii_lowercase() };
    form.quotes.iter().position(|quote| {
        let Some(base) = pair.strip_suffix(quote).and_then(|rest| rest.strip_suffix(form.separator)) else {
            return false;
        };
        (2..=10).contains(&base.len())
            && base.bytes().all(in_case)
            && base.bytes().any(|b| !b.is_ascii_digit())
            && !form.not_bases.contains(&base)
    })
}

#[cfg(test)]
mod tests {
    use super::sources_writing;

    #[test]
    fn each_source_s_own_spelling_points_to_it() {
        for (symbol, sources) in [
            ("BTCUSDT", &["binance"][..]),
            ("ETHBTC", &["binance"]),
            ("BTC-USD", &["coinbase"]),
            ("BTC-USDT", &["okx", "coinbase"]),
            ("XBTUSD", &["kraken"]),
            ("XXBTZUSD", &["kraken"]),
            ("ETHUSD", &["kraken"]),
            ("ETHUSDT", &["binance", "kraken"]),
            ("btcusd", &["bitstamp"]),
            ("tBTCUSD", &["bitfinex"]),
            ("tDOGE:USD", &["bitfinex"]),
            (" BTCUSDT ", &["binance"]),
        ] {
            assert_eq!(sources_writing(symbol), sources, "{symbol}");
        }
    }

    #[test]
    fn other_names_point_nowhere() {
        // The reference API's symbols, the README's declared sources', and
        // shapes no source writes.
        for symbol in [
            "btc", "eth", "BTC", "IBM", "AAPL", "aapl.us", "bitcoin", "BTC/USD", "btc-usd", "BtcUsd", "USDT", "-USD",
            "", "tUSD", "1234USDT",
        ] {
            assert!(sources_writing(symbol).is_empty(), "{symbol}: {:?}", sources_writing(symbol));
        }
    }
}
