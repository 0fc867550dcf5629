use std::io;

use anyhow::Result;
use chrono::NaiveDate;

use super::{Env, Execute};
use crate::cli::StatusArgs;
use crate::error::Exit;
use crate::report::{self, Only};
use crate::resolve::{self, ReportAsk};
use crate::selection::Selection;
use crate::store::{Create, Store};

impl Execute for StatusArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let store = Store::open(&env.store(Create::ReadOnly))?;
        super::open::note_immutable(&store, env);
        if self.recount {
            store.recount()?;
        }
        // --source keeps the pairs of those sources, --interval their tasks
        // of that interval, over every day they have.
        let sources: Vec<String> =
            self.sources.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let sources = if sources.iter().any(|n| n.eq_ignore_ascii_case("all")) { vec![] } else { sources };
        let only = match (sources.is_empty(), self.interval) {
            (true, None) => None,
            _ => {
                let ask = ReportAsk { sources, interval: self.interval, ..ReportAsk::default() };
                // None: no pair of theirs, so nothing to count.
                let selection = resolve::report_selection(&store, &ask)?
                    .unwrap_or_else(|| Selection::new([], NaiveDate::MIN, NaiveDate::MIN).at(ask.interval()));
                Some(Only { sources: ask.sources, interval: self.interval, selection })
            }
        };
        report::status(&store, self.format, only.as_ref(), io::stdout().lock())?;
        Ok(Exit::Ok)
    }
}
