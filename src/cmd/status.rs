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
        // --source keeps the pairs of those sources, over every day they have.
        let only = match self.sources.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect::<Vec<_>>() {
            names if names.is_empty() || names.iter().any(|n| n.eq_ignore_ascii_case("all")) => None,
            names => {
                let ask = ReportAsk { sources: names.iter().map(|n| n.to_string()).collect(), ..ReportAsk::default() };
                // None: no pair of theirs, so nothing to count.
                let selection = resolve::report_selection(&store, &ask)?
                    .unwrap_or_else(|| Selection::new([], NaiveDate::MIN, NaiveDate::MIN));
                Some(Only { sources: ask.sources, selection })
            }
        };
        report::status(&store, self.format, only.as_ref(), io::stdout().lock())?;
        Ok(Exit::Ok)
    }
}
