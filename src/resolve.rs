//! From what the user typed to a [`Selection`]: a selection to queue, its
//! names checked with the price server, or a report's selection, what it
//! leaves open filled in from the database. The commands and the page both
//! resolve theirs here; the [`Selection`] itself is plain data the store
//! takes (`selection.rs`).

use std::collections::HashMap;

use anyhow::Result;
use chrono::NaiveDate;

use crate::dates;
use crate::error::Usage;
use crate::interval::Interval;
use crate::selection::{Pair, Selection};
use crate::source::{FetchError, Meant, PriceSource};
use crate::store::Store;
use crate::words::plural;

/// What to queue, as the command line's flags (or the demo) give it: the
/// names of exchanges and symbols (`all` for every one the source lists),
/// the first and last day, and whether names the source does not list, and
/// days over a year ahead, are taken. A plain value, resolved by
/// [`queue_selection`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAsk {
    pub exchanges: Vec<String>,
    pub symbols: Vec<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub allow_unknown: bool,
    pub far_future: bool,
    /// The candles' interval: one the source serves.
    pub interval: Interval,
}

/// The selection to queue that `ask` names, before anything touches the
/// database: the days checked, `all` expanded and the names checked through
/// the price server. `sources` are the names of every source there is: an
/// exchange named like one, or a symbol written as a built-in source
/// writes its own, makes the errors name the `--source` it likely wanted.
/// Refuses an interval `source` does not serve, naming those it does.
pub fn check_interval(source: &dyn PriceSource, interval: Interval) -> Result<()> {
    let served = source.intervals();
    if served.contains(&interval) {
        return Ok(());
    }
    let has = match served.as_slice() {
        [Interval::D1] => "serves days only (1d)".to_string(),
        _ => format!("serves {}", Interval::list(&served)),
    };
    anyhow::bail!(Usage(format!(
        "{} has no {interval} candles: it {has}; pick one of those with --interval",
        source.name()
    )))
}

pub fn queue_selection(ask: impl Into<QueueAsk>, source: &dyn PriceSource, sources: &[String]) -> Result<Selection> {
    let args = ask.into();
    let (from, to) = (args.from, args.to);
    dates::check_range(from, to)?;
    check_interval(source, args.interval)?;
    let meant = Meant::of(source, &args.exchanges, &args.symbols, sources);
    // The hint goes after the error it explains, a usage error staying one.
    // An exchange named like a source counts where the exchanges were
    // refused as unknown, not where the server could not be asked.
    let with_hint = |exchanges_refused: bool| {
        let meant = &meant;
        move |e: anyhow::Error| -> anyhow::Error {
            let is_usage = e.downcast_ref::<Usage>().is_some();
            let Some(hint) = meant.hint(exchanges_refused && is_usage) else { return e };
            match e.downcast::<Usage>() {
                Ok(Usage(message)) => Usage(format!("{message}. {hint}")).into(),
                Err(e) => anyhow::anyhow!("{e:#}. {hint}"),
            }
        }
    };
    let exchanges = match source.exchange() {
        // A source that is one exchange: its prices go under its name.
        Some(only) => {
            let given: Vec<&str> = args.exchanges.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
            if let Some(other) = given.iter().find(|n| **n != only && !n.eq_ignore_ascii_case("all")) {
                anyhow::bail!(Usage(format!(
                    "the source {} is one exchange, stored as '{only}': --exchange {other} does not go with it; \
                     leave --exchange out, or name another --source",
                    source.name()
                )));
            }
            vec![only.to_string()]
        }
        None => resolve_names(&args.exchanges, "exchange", source, |s| s.exchanges(), args.allow_unknown)
            .map_err(with_hint(true))?,
    };
    let symbols = resolve_names(&args.symbols, "symbol", source, |s| s.symbols(), args.allow_unknown)
        .map_err(with_hint(false))?;
    let sel = Selection::cross(&exchanges, &symbols, from, to).at(args.interval);
    if !args.far_future {
        check_far_future(&sel, chrono::Utc::now().date_naive())?;
    }
    Ok(sel)
}

/// Refuses a selection that reaches more than a year past `today`: such a
/// --to is most likely a typo (2102 for 2012), and its tasks, each waiting
/// as `not yet due` until its day has ended, cost room in the database for
/// nothing. `--far-future` takes it.
fn check_far_future(sel: &Selection, today: NaiveDate) -> Result<()> {
    let limit = today.checked_add_months(chrono::Months::new(12)).unwrap_or(NaiveDate::MAX);
    if sel.to <= limit {
        return Ok(());
    }
    let future = Selection { from: sel.from.max(today + chrono::Duration::days(1)), ..sel.clone() };
    anyhow::bail!(Usage(format!(
        "--to {} is more than a year after today ({today}): it would queue {} after today, {}, \
         none of which can be fetched before its day has ended. If the year is a typo, fix --to; \
         to queue them anyway, add --far-future",
        sel.to,
        plural(future.days(), "day", "days"),
        plural(future.len(), "task", "tasks"),
    )))
}

/// What a report asks for, as the command line's flags or the page's
/// address give it: the names of exchanges, symbols and sources (none, or
/// `all`, for any) and the days (none for the database's first or last).
/// A plain value, built alike by both, and resolved by [`report_selection`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportAsk {
    pub exchanges: Vec<String>,
    pub symbols: Vec<String>,
    pub sources: Vec<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The candles' interval; `None` (not given) reports on `1d`.
    pub interval: Option<Interval>,
}

impl ReportAsk {
    /// Whether it names nothing at all: every pair, every day, every
    /// interval (`retry` alone retries every failed task).
    pub fn is_open(&self) -> bool {
        [&self.exchanges, &self.symbols, &self.sources].iter().all(|names| given(names).is_none())
            && self.from.is_none()
            && self.to.is_none()
            && self.interval.is_none()
    }

    /// The interval reported on: the one given, or `1d`.
    pub fn interval(&self) -> Interval {
        self.interval.unwrap_or_default()
    }
}

/// Names given, trimmed and sorted; `None` for none or `all`: any name.
fn given(names: &[String]) -> Option<Vec<String>> {
    let mut names: Vec<String> = names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
    if names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
        return None;
    }
    names.sort();
    names.dedup();
    Some(names)
}

/// The selection of a report that `ask` names, what it leaves open filled
/// in from the database; `None` when there is nothing to report on.
///
/// Its pairs are those the database holds (with tasks or prices) that the
/// names given match: in a database of many sources, `--symbol BTCUSDT`
/// is binance's pair, not every exchange's. Where both exchanges and
/// symbols are named, each exchange with each symbol is a pair named on
/// purpose and stays in, tasks or none: a mistyped symbol then shows as
/// `not queued` (and exits 3) rather than vanishing into a complete answer.
/// Sources keep the pairs whose first or last task is theirs (a pair named
/// on purpose that has no task at all stays in). The days left open are
/// the first and last of the pairs'.
pub fn report_selection(store: &Store, ask: &ReportAsk) -> Result<Option<Selection>> {
    let (exchanges, symbols, sources) = (given(&ask.exchanges), given(&ask.symbols), given(&ask.sources));
    let interval = ask.interval();
    // `1d` is `prices` and every task of old; below a day, the pairs are
    // those with tasks or candles at that interval.
    let stored_pairs = || match interval {
        Interval::D1 => store.pairs(),
        _ => store.interval_pairs(interval),
    };
    let of_sources = |theirs: &[String]| sources.as_ref().is_none_or(|want| theirs.iter().any(|s| want.contains(s)));
    let pairs: Vec<Pair> = match (exchanges, symbols) {
        (Some(exchanges), Some(symbols)) => {
            let named = Pair::cross(&exchanges, &symbols);
            match &sources {
                None => named,
                Some(_) => {
                    let stored: HashMap<Pair, Vec<String>> = stored_pairs()?.into_iter().collect();
                    let queued = |p: &Pair| stored.get(p).filter(|theirs| !theirs.is_empty());
                    named.into_iter().filter(|p| queued(p).is_none_or(|theirs| of_sources(theirs))).collect()
                }
            }
        }
        (exchanges, symbols) => {
            let matches = |names: &Option<Vec<String>>, name: &String| names.as_ref().is_none_or(|n| n.contains(name));
            stored_pairs()?
                .into_iter()
                .filter(|(p, theirs)| {
                    matches(&exchanges, &p.exchange) && matches(&symbols, &p.symbol) && of_sources(theirs)
                })
                .map(|(p, _)| p)
                .collect()
        }
    };
    if pairs.is_empty() {
        return Ok(None);
    }
    let (from, to) = match (ask.from, ask.to) {
        (Some(from), Some(to)) => (from, to),
        (from, to) => {
            let bounds = match interval {
                Interval::D1 => store.day_bounds(&pairs)?,
                _ => store.interval_day_bounds(&pairs, interval)?,
            };
            match (bounds, from, to) {
                (None, Some(d), None) | (None, None, Some(d)) => (d, d),
                (None, _, _) => return Ok(None),
                // The open end comes from the database; a given end past it
                // means there is nothing there, not a reversed range.
                (Some((_, hi)), Some(from), None) if from > hi => return Ok(None),
                (Some((lo, _)), None, Some(to)) if to < lo => return Ok(None),
                (Some((lo, hi)), from, to) => (from.unwrap_or(lo), to.unwrap_or(hi)),
            }
        }
    };
    dates::check_range(from, to)?;
    Ok(Some(Selection::new(pairs, from, to).at(interval)))
}

/// Expands `all` through the price server's list, and checks the names
/// given against it: a typo would otherwise come back as "no data" on every
/// day, since the API answers `null` for names it does not know. A name that
/// cannot be checked (the price server is down, does not answer, or is not
/// the price API) is refused too, unless `allow_unknown` takes names unchecked.
fn resolve_names(
    names: &[String],
    what: &str,
    source: &dyn PriceSource,
    list: fn(&dyn PriceSource) -> Result<Vec<String>, FetchError>,
    allow_unknown: bool,
) -> Result<Vec<String>> {
    let names: Vec<&str> = names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    let all = names.iter().any(|n| n.eq_ignore_ascii_case("all"));
    if names.is_empty() {
        anyhow::bail!(Usage(format!("no {what} given: name at least one with --{what}, or `all`")));
    }
    for name in &names {
        if name.chars().any(char::is_control) {
            anyhow::bail!(Usage(format!("the {what} name {name:?} has a control character in it")));
        }
        if name.len() > crate::source::MAX_NAME {
            anyhow::bail!(Usage(format!(
                "the {what} name starting {:?} is {} bytes long; names are at most {} bytes",
                name.chars().take(20).collect::<String>(),
                name.len(),
                crate::source::MAX_NAME
            )));
        }
    }
    let mut out: Vec<String> = if all {
        list(source).map_err(|e| {
            anyhow::anyhow!(
                "cannot ask the price server for `all` {what}s: {}",
                crate::source::server_trouble(source, &e)
            )
        })?
    } else {
        names.iter().map(|n| n.to_string()).collect()
    };
    if !all && !allow_unknown {
        let known = list(source).map_err(|e| {
            anyhow::anyhow!(
                "cannot check the {what} names against the price server, so nothing was queued: {}. \
                 (--allow-unknown queues names unchecked)",
                crate::source::server_trouble(source, &e)
            )
        })?;
        if let Some(unknown) = out.iter().find(|n| !known.contains(n)) {
            anyhow::bail!(Usage(unknown_name(what, unknown, &known, source.server())));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// "unknown exchange 'krakn' ... did you mean 'kraken'?"
fn unknown_name(what: &str, name: &str, known: &[String], server: &str) -> String {
    let lower = name.to_lowercase();
    let closest = known
        .iter()
        .map(|k| (strsim::jaro_winkler(&lower, &k.to_lowercase()), k))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(" Did you mean '{k}'?"))
        .unwrap_or_default();
    format!(
        "unknown {what} '{name}': the price server at {server} lists {}.{closest} \
         (--allow-unknown takes it anyway)",
        known.join(", ")
    )
}
