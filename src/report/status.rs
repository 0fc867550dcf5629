//! `status`: task counts by state, overall and per (exchange, symbol), and
//! the errors of failed tasks.

use std::collections::HashSet;
use std::io::Write;

use anyhow::Result;
use chrono::NaiveDate;

use super::Value;
use super::{Format, Output};
use crate::interval::Interval;
use crate::selection::Selection;
use crate::source::Declarations;
use crate::store::state::ROUNDS;
use crate::store::{StateCounts, Store, TaskState};

/// Failed tasks listed with their error; `query` lists them all.
const FAILURES_SHOWN: usize = 20;

/// Writes the status report and returns the overall counts: a section
/// each for the states, the pairs and the failures. With `only`, of the
/// pairs (over every day) and the sources it names: what `--source` keeps.
pub fn status<W: Write>(store: &Store, format: Format, only: Option<&Only>, out: W) -> Result<StateCounts> {
    let pairs: Vec<(String, String, StateCounts)> = match only {
        None => store.counts_by_pair()?,
        // At one interval, each pair's tasks of that interval over every
        // day: the counts the store keeps by interval.
        Some(only) if only.interval.is_some() => {
            let mut pairs = Vec::with_capacity(only.selection.pairs.len());
            for p in &only.selection.pairs {
                // Days both backends can hold, wider than any task's.
                let (first, last) = (NaiveDate::from_ymd_opt(1, 1, 1), NaiveDate::from_ymd_opt(9999, 12, 31));
                let (first, last) = (first.unwrap_or_default(), last.unwrap_or_default());
                let whole = Selection::one(&p.exchange, &p.symbol, first, last).at(only.selection.interval);
                let counts = store.counts_in(&whole)?;
                if counts.total() > 0 {
                    pairs.push((p.exchange.clone(), p.symbol.clone(), counts));
                }
            }
            pairs
        }
        Some(only) => {
            let keep: HashSet<(&str, &str)> =
                only.selection.pairs.iter().map(|p| (p.exchange.as_str(), p.symbol.as_str())).collect();
            let mut pairs = store.counts_by_pair()?;
            pairs.retain(|(e, s, _)| keep.contains(&(e.as_str(), s.as_str())));
            pairs
        }
    };
    let total = match only {
        None => store.counts()?,
        Some(_) => pairs.iter().fold(StateCounts::default(), |mut sum, (_, _, c)| {
            for (state, n) in c.by_state() {
                sum[state] += n;
            }
            sum
        }),
    };
    // CSV holds one table: the per-pair counts, from which the rest follows.
    let csv = format == Format::Csv;
    let mut out = Output::new(format, out, !csv);
    if total.total() == 0 && format == Format::Table {
        let line = match only {
            None => format!("{}: no tasks yet; `pricequeue fetch` queues and fetches some", store.location()),
            Some(only) => format!("{}: no tasks of {}", store.location(), only.describe()),
        };
        out.note(&line)?;
        out.finish()?;
        return Ok(total);
    }
    if !csv {
        write_states(store, &total, only.is_none(), &mut out)?;
    }
    write_pairs(pairs, &mut out)?;
    if !csv {
        write_sources(store, only, &mut out)?;
    }
    if !csv && total.failed + total.cooling > 0 {
        write_failures(store, &total, only.map(|o| &o.selection), &mut out)?;
    }
    out.finish()?;
    Ok(total)
}

/// What `status --source` and `status --interval` keep: the sources named
/// (none: any), the interval named (`None`: any), and their pairs over
/// every day they have.
#[derive(Debug, Clone)]
pub struct Only {
    pub sources: Vec<String>,
    pub interval: Option<Interval>,
    pub selection: Selection,
}

impl Only {
    /// "binance, coinbase at 1m", as a line that found no task says it.
    fn describe(&self) -> String {
        let sources = (!self.sources.is_empty()).then(|| self.sources.join(", "));
        let interval = self.interval.map(|i| format!("{i} candles"));
        match (sources, interval) {
            (Some(s), Some(i)) => format!("{s} at {i}"),
            (Some(s), None) => s,
            (None, Some(i)) => i,
            (None, None) => "this selection".into(),
        }
    }
}

/// Tasks by state over the whole queue, and when the first day not yet
/// due comes due.
fn write_states<W: Write>(store: &Store, total: &StateCounts, whole: bool, out: &mut Output<W>) -> Result<()> {
    out.section("states", Some("Tasks by state"), &["state", "tasks"])?;
    for (state, n) in total.by_state() {
        out.row(&[Value::Text(state.name().into()), Value::Integer(n as i64)])?;
    }
    out.row(&[Value::Text("total".into()), Value::Integer(total.total() as i64)])?;
    // When the first comes due is read over the whole queue: for some of
    // its pairs the note says what the days are, not when.
    if total.not_yet_due > 0 && !whole {
        out.note("not_yet_due: days that have not ended (UTC, plus the grace) or whose price was not published yet")?;
    } else if total.not_yet_due > 0 {
        if let (_, Some(first)) = store.not_yet_due()? {
            out.note(&format!(
                "not_yet_due: days that have not ended (UTC, plus the grace) or whose price was not \
                 published yet; the first comes due at {}",
                crate::clock::show(first)
            ))?;
        }
    }
    Ok(())
}

/// Tasks by state for each (exchange, symbol).
fn write_pairs<W: Write>(pairs: Vec<(String, String, StateCounts)>, out: &mut Output<W>) -> Result<()> {
    out.section(
        "pairs",
        Some("Tasks by exchange and symbol"),
        &[&["exchange", "symbol"][..], &TaskState::ALL.map(TaskState::name)].concat(),
    )?;
    for (exchange, symbol, c) in pairs {
        let mut row = vec![Value::Text(exchange), Value::Text(symbol)];
        row.extend(c.by_state().map(|(_, n)| Value::Integer(n as i64)));
        out.row(&row)?;
    }
    Ok(())
}

/// The sources with tasks waiting, and the declared ones the database
/// keeps: shown once the queue has more than the reference API's tasks.
fn write_sources<W: Write>(store: &Store, only: Option<&Only>, out: &mut Output<W>) -> Result<()> {
    let named = |name: &str| only.is_none_or(|o| o.sources.iter().any(|s| s == name));
    let mut waiting = store.waiting_by_source()?;
    waiting.retain(|(name, _)| named(name));
    let mut declared = store.declarations()?;
    declared.retain(|(name, _)| named(name));
    if declared.is_empty() && waiting.iter().all(|(name, _)| Declarations::is_unnamed(name)) {
        return Ok(());
    }
    out.section(
        "sources",
        Some("Sources with tasks waiting (queued, in progress, not yet due, or cooling down after transient errors)"),
        &["source", "declared", "waiting"],
    )?;
    let mut names: Vec<&str> = waiting.iter().map(|(n, _)| n.as_str()).collect();
    names.extend(declared.iter().map(|(n, _)| n.as_str()));
    names.sort();
    names.dedup();
    for name in names {
        let n = waiting.iter().find(|(w, _)| w == name).map_or(0, |(_, n)| *n);
        let is_declared = declared.iter().any(|(d, _)| d == name);
        out.row(&[
            Value::Text(name.into()),
            Value::Text(if is_declared { "yes" } else { "no" }.into()),
            Value::Integer(n as i64),
        ])?;
    }
    Ok(())
}

/// The most recent failures, with their last error: each permanent (a
/// person is needed) or transient (cooling down; a later run asks again).
fn write_failures<W: Write>(
    store: &Store,
    total: &StateCounts,
    only: Option<&Selection>,
    out: &mut Output<W>,
) -> Result<()> {
    let failures = total.failed + total.cooling;
    let shown = failures.min(FAILURES_SHOWN as u64);
    out.section(
        "failures",
        Some(&format!("Failed tasks ({shown} most recent of {failures}), with their last error")),
        &["exchange", "symbol", "day", "attempts", "failure", "asked_again", "error"],
    )?;
    for f in store.failures(only, FAILURES_SHOWN)? {
        let (kind, again) = match f.again_at {
            Some(at) => ("transient", format!("from {}, round {} of {}", crate::clock::show(at), f.rounds + 1, ROUNDS)),
            None => ("permanent", "after `retry`".to_string()),
        };
        out.row(&[
            Value::Text(f.exchange),
            Value::Text(f.symbol),
            Value::Text(f.day.to_string()),
            Value::Integer(f.attempts.into()),
            Value::Text(kind.into()),
            Value::Text(again),
            Value::Text(f.error),
        ])?;
    }
    let (cooling, first) = store.cooling(only)?;
    let permanent = total.failed;
    if permanent > 0 {
        out.note(&format!(
            "{permanent} permanent: a person is needed. `pricequeue retry` queues them again once the cause \
             is mended, `pricequeue retry --never` gives up on them"
        ))?;
    }
    if let (true, Some(first)) = (cooling > 0, first) {
        out.note(&format!(
            "{cooling} transient (server errors, timeouts, rate limits): cooling down, no person needed yet; \
             a run from {} on asks the first again",
            crate::clock::show(first)
        ))?;
    }
    if failures > shown {
        out.note("`pricequeue query --missing` lists every failed task")?;
    }
    Ok(())
}
