//! The selection to queue (`enqueue`, `fetch`), as its flags give it.

use clap::Args;

use crate::dates::{parse_span, Span};
use crate::interval::Interval;
use crate::resolve::QueueAsk;

/// The selection to queue, as typed: required names (checked with the
/// price server) and days.
#[derive(Debug, Args)]
pub struct QueueSelectionArgs {
    /// Where the prices come from: `cryptodb` (the reference API at
    /// --server), a built-in exchange (binance, coinbase, kraken, bitstamp,
    /// bitfinex, okx) or a source declared in --sources.
    #[arg(long, env = "PRICEQUEUE_SOURCE", value_name = "NAME", default_value = "cryptodb")]
    pub source: String,

    /// Exchanges: names (repeat the flag or separate with commas), or `all`
    /// for every exchange the source lists. A source that is one exchange
    /// (binance, ...) needs none: its prices are stored under its name.
    #[arg(long = "exchange", short = 'e', value_name = "NAME", value_delimiter = ',')]
    pub exchanges: Vec<String>,

    /// Symbols, as the source names them (BTCUSDT on binance, BTC-USD on
    /// coinbase): names (repeat the flag or separate with commas), or `all`
    /// for every symbol the source lists (any source but cryptodb asks first).
    #[arg(long = "symbol", short = 's', value_name = "NAME", value_delimiter = ',', required = true)]
    pub symbols: Vec<String>,

    /// First day: 2020-03-01, 2020-03 (a month), 2020 (a year), today,
    /// yesterday, or -7d (seven days ago; also -2w, -6m, -3y; days are UTC).
    /// Alone, it is the whole range: `--from 2020-03` is March, `--from -7d` one day.
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub from: Span,

    /// Last day, included, written like --from (a month or year means its
    /// last day) [default: the end of --from: `--from 2020-03` is March].
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub to: Option<Span>,

    /// Take exchange and symbol names the server does not list, or that
    /// cannot be checked (the server is down), instead of stopping: the API
    /// answers "no data" for a name it does not know.
    #[arg(long)]
    pub allow_unknown: bool,

    /// Queue days more than a year after today: without it, a --to that far
    /// ahead is taken for a typo (2102 for 2012) and nothing is queued.
    #[arg(long)]
    pub far_future: bool,

    /// The candles' interval: 1m 3m 5m 15m 30m 1h 2h 3h 4h 6h 8h 12h or 1d,
    /// one the source serves (each task is still one UTC day: all its
    /// candles at this interval).
    #[arg(long, env = "PRICEQUEUE_INTERVAL", value_name = "INTERVAL", default_value = "1d")]
    pub interval: Interval,

    /// Queue `all` without asking (needed without a terminal: scripts, cron).
    #[arg(long, short = 'y')]
    pub yes: bool,
}

impl QueueSelectionArgs {
    /// What the flags ask to queue, as a plain value the demo builds too.
    pub fn ask(&self) -> QueueAsk {
        QueueAsk {
            exchanges: self.exchanges.clone(),
            symbols: self.symbols.clone(),
            from: self.from.first,
            to: self.to.map_or(self.from.last, |t| t.last),
            allow_unknown: self.allow_unknown,
            far_future: self.far_future,
            interval: self.interval,
        }
    }
}

impl From<&QueueSelectionArgs> for QueueAsk {
    fn from(args: &QueueSelectionArgs) -> QueueAsk {
        args.ask()
    }
}
