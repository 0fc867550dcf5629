use anyhow::Result;

use super::{resolve_names, Env, Run};
use crate::cli::{EnqueueArgs, Selection};
use crate::dates;
use crate::error::OK;
use crate::report::Cells;
use crate::source::{HttpSource, PriceSource, Timeouts};
use crate::store::{Create, Enqueued, Store, Synchronous};

impl Run for EnqueueArgs {
    fn run(&self, env: &Env) -> Result<i32> {
        let source = HttpSource::new(&env.server, Timeouts::default(), 1);
        let cells = resolve(&self.selection, &source, env)?;
        let store = Store::open(&env.db(), Create::IfMissing, Synchronous::Normal)?;
        let added = store.enqueue(&cells.exchanges, &cells.symbols, &dates::days(cells.from, cells.to)?)?;
        env.say(&enqueued_line(&added, &store));
        Ok(OK)
    }
}

/// Checks the days and expands `all`, before anything touches the database.
pub(super) fn resolve(sel: &Selection, source: &dyn PriceSource, env: &Env) -> Result<Cells> {
    let (from, to) = sel.days();
    dates::check_range(from, to)?;
    let exchanges = resolve_names(&sel.exchanges, "exchange", source, |s| s.exchanges(), sel.allow_unknown, env)?;
    let symbols = resolve_names(&sel.symbols, "symbol", source, |s| s.symbols(), sel.allow_unknown, env)?;
    Ok(Cells { exchanges, symbols, from, to })
}

pub(super) fn enqueued_line(e: &Enqueued, store: &Store) -> String {
    format!("enqueued {} new tasks ({} already in the queue) in {}", e.added, e.existing, store.path().display())
}
