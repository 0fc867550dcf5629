use std::io::{self, IsTerminal};

use anyhow::Result;

use super::open::open_selection;
use super::{Env, Execute};
use crate::cli::CoverageArgs;
use crate::error::Exit;
use crate::report;

/// The width drawn into when stdout is not a terminal and `--width` is not
/// given: what most terminals and mail readers show without wrapping.
const DEFAULT_WIDTH: usize = 100;

impl Execute for CoverageArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let Some((store, sel)) = open_selection(env, &self.selection.ask())? else { return Ok(Exit::Incomplete) };
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let width = match self.width {
            Some(w) => usize::from(w),
            None => terminal_size::terminal_size_of(&stdout).map_or(DEFAULT_WIDTH, |(w, _)| usize::from(w.0)),
        };
        let color = terminal && !no_color();
        let totals = report::coverage(&store, &sel, width, color, io::BufWriter::new(stdout.lock()))?;
        Ok(super::query::completeness(totals.missing(), totals.unsettled))
    }
}

/// Whether the user asked for no color (<https://no-color.org>: set and not empty).
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}
