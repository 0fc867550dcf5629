//! The selection a report is about, as its flags give it: `query`,
//! `coverage`, `retry` and `remove` share them.

use clap::Args;

use crate::dates::{parse_span, Span};
use crate::interval::Interval;
use crate::resolve::ReportAsk;

/// The selection to report on (or retry, or remove), as typed: everything
/// is optional, what is left open filled in from the database.
#[derive(Debug, Args)]
pub struct ReportSelectionArgs {
    /// Exchanges (repeat or separate with commas) [default: those with
    /// tasks]. With --symbol too, each exchange with each symbol, tasks or
    /// none: a pair nothing was queued for shows as `not queued`.
    #[arg(long = "exchange", short = 'e', value_name = "NAME", value_delimiter = ',')]
    pub exchanges: Vec<String>,

    /// Symbols (repeat or separate with commas) [default: those with tasks
    /// on the exchanges given]: `--symbol BTCUSDT` alone is every pair of
    /// that symbol the database has tasks for.
    #[arg(long = "symbol", short = 's', value_name = "NAME", value_delimiter = ',')]
    pub symbols: Vec<String>,

    /// Only the pairs whose tasks are fetched from these sources (cryptodb,
    /// binance, ..., repeat or separate with commas) [default: any source].
    #[arg(id = "source", long = "source", value_name = "NAME", value_delimiter = ',')]
    pub sources: Vec<String>,

    /// First day, written like 2020-03-01, 2020-03, 2020, today, yesterday,
    /// -7d or -3y [default: the first day in the database].
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub from: Option<Span>,

    /// Last day, included, written like --from [default: the end of --from
    /// (`--from 2020-03` is March), or without --from the last day in the
    /// database].
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub to: Option<Span>,

    /// The candles' interval: 1m 3m 5m 15m 30m 1h 2h 3h 4h 6h 8h 12h or 1d
    /// [default: 1d]. Only the tasks and candles of that interval are
    /// reported on (or retried, or removed).
    #[arg(long, env = "PRICEQUEUE_INTERVAL", value_name = "INTERVAL")]
    pub interval: Option<Interval>,
}

impl ReportSelectionArgs {
    /// What the flags ask for, as a plain value the page builds too.
    pub fn ask(&self) -> ReportAsk {
        ReportAsk {
            exchanges: self.exchanges.clone(),
            symbols: self.symbols.clone(),
            sources: self.sources.clone(),
            from: self.from.map(|s| s.first),
            // `--to`, or the end of `--from`'s span, as in `fetch`
            // (`--from 2020-03` alone is March).
            to: self.to.or(self.from).map(|s| s.last),
            interval: self.interval,
        }
    }
}
