use std::io;

use anyhow::Result;

use super::{Env, Execute};
use crate::cli::QueryArgs;
use crate::error::Exit;
use crate::report::{self, Format, Listing};

impl Execute for QueryArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let Some((store, sel)) = super::open::open_selection(env, &self.selection.ask())? else {
            return Ok(Exit::Incomplete);
        };
        let listing = if self.each_day { Listing::Days } else { Listing::Spans };
        let totals = report::query(&store, &sel, self.format, self.missing, listing, io::stdout().lock())?;
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
