use std::io::{self, IsTerminal};

use anyhow::Result;

use super::query::cells;
use super::{Env, Run};
use crate::cli::CoverageArgs;
use crate::dates;
use crate::error::{MISSING, OK};
use crate::report;
use crate::store::{Create, Store, Synchronous};

/// The width drawn into when stdout is not a terminal and `--width` is not
/// given: what most terminals and mail readers show without wrapping.
const DEFAULT_WIDTH: usize = 100;

impl Run for CoverageArgs {
    fn run(&self, env: &Env) -> Result<i32> {
        if let (Some(from), Some(to)) = (self.filter.first_day(), self.filter.last_day()) {
            dates::check_range(from, to)?;
        }
        let store = Store::open(&env.db(), Create::No, Synchronous::Normal)?;
        let Some(cells) = cells(&store, &self.filter)? else {
            eprintln!("{}: nothing stored or queued for this selection", store.path().display());
            return Ok(OK);
        };
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let width = match self.width {
            Some(w) => usize::from(w),
            None => terminal_size::terminal_size_of(&stdout).map_or(DEFAULT_WIDTH, |(w, _)| usize::from(w.0)),
        };
        let color = terminal && !no_color();
        let totals = report::coverage(&store, &cells, width, color, stdout.lock())?;
        Ok(if totals.missing() > 0 { MISSING } else { OK })
    }
}

/// Whether the user asked for no color (<https://no-color.org>: set and not empty).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
