use std::io;

use anyhow::Result;

use super::{Env, Run};
use crate::cli::{Filter, QueryArgs};
use crate::dates;
use crate::error::Exit;
use crate::report::{self, Cells, Format};
use crate::store::{Create, Store, Synchronous};
use chrono::NaiveDate;

impl Run for QueryArgs {
    fn run(&self, env: &Env) -> Result<Exit> {
        let Some((store, cells)) = open_selection(env, &self.filter)? else { return Ok(Exit::Incomplete) };
        let totals = report::query(&store, &cells, self.format, self.missing, io::stdout().lock())?;
        if self.format != Format::Table {
            super::log(&totals.line());
        }
        Ok(completeness(totals.missing(), totals.unsettled))
    }
}

/// The exit code of a report on a selection: 0 every cell has a price; 3
/// some cell is not settled; 5 all settled, but some have no price.
pub(super) fn completeness(missing: u64, unsettled: u64) -> Exit {
    match (missing, unsettled) {
        (0, _) => Exit::Ok,
        (_, 0) => Exit::Settled,
        _ => Exit::Incomplete,
    }
}

/// Checks the filter's days, opens the database and resolves the
/// selection; `None` (said on stderr) when there is nothing to report on.
pub(super) fn open_selection(env: &Env, filter: &Filter) -> Result<Option<(Store, Cells)>> {
    if let (Some(from), Some(to)) = (filter.first_day(), filter.last_day()) {
        dates::check_range(from, to)?;
    }
    let store = Store::open(&env.db(), Create::ReadOnly, Synchronous::Normal)?;
    super::note_immutable(&store, env);
    match cells(&store, filter)? {
        Some(cells) => Ok(Some((store, cells))),
        None => {
            // Said even with --quiet: it is why the exit code is 3.
            super::log(&format!(
                "{}: nothing stored or queued for this selection: every price of it is missing",
                store.path().display()
            ));
            Ok(None)
        }
    }
}

/// Fills in what the filter leaves open from the database; `None` when
/// there is nothing to report on.
pub(super) fn cells(store: &Store, f: &Filter) -> Result<Option<Cells>> {
    // Names given, sorted; `None` means those in the database.
    let given = |names: &[String]| -> Option<Vec<String>> {
        let mut names: Vec<String> = names.iter().map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).collect();
        if names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
            return None;
        }
        names.sort();
        names.dedup();
        Some(names)
    };
    let (exchanges, symbols) = match (given(&f.exchanges), given(&f.symbols)) {
        (Some(e), Some(s)) => (e, s),
        (e, s) => {
            let (db_exchanges, db_symbols) = store.names()?;
            (e.unwrap_or(db_exchanges), s.unwrap_or(db_symbols))
        }
    };
    if exchanges.is_empty() || symbols.is_empty() {
        return Ok(None);
    }
    let (from, to) = match (f.first_day(), f.last_day()) {
        (Some(from), Some(to)) => (from, to),
        (from, to) => {
            let mut bounds: Option<(NaiveDate, NaiveDate)> = None;
            for e in &exchanges {
                for s in &symbols {
                    if let Some((lo, hi)) = store.day_bounds(e, s)? {
                        bounds = Some(bounds.map_or((lo, hi), |(a, b)| (lo.min(a), hi.max(b))));
                    }
                }
            }
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
    Ok(Some(Cells { exchanges, symbols, from, to }))
}
