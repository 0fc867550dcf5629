use std::time::Duration;

use anyhow::Result;

use super::{plural, resolve_names, Env, Run};
use crate::cli::{EnqueueArgs, Selection};
use crate::clock;
use crate::dates;
use crate::error::Exit;
use crate::report::Cells;
use crate::source::{HttpSource, PriceSource, Timeouts};
use crate::store::{Create, Store, Synchronous};

impl Run for EnqueueArgs {
    fn run(&self, env: &Env) -> Result<Exit> {
        let source = HttpSource::new(&env.server, Timeouts { request: env.timeout, ..Timeouts::default() }, 1);
        let cells = resolve(&self.selection, &source)?;
        let store = Store::open(&env.db(), Create::IfMissing, Synchronous::Normal)?;
        enqueue(&store, &cells, self.grace, env)?;
        Ok(Exit::Ok)
    }
}

/// Checks the days and expands `all`, before anything touches the database.
pub(super) fn resolve(sel: &Selection, source: &dyn PriceSource) -> Result<Cells> {
    let (from, to) = sel.days();
    dates::check_range(from, to)?;
    let exchanges = resolve_names(&sel.exchanges, "exchange", source, |s| s.exchanges(), sel.allow_unknown)?;
    let symbols = resolve_names(&sel.symbols, "symbol", source, |s| s.symbols(), sel.allow_unknown)?;
    Ok(Cells { exchanges, symbols, from, to })
}

/// Queues the cells of the selection, and says what was queued. A
/// database the demo made becomes the user's: the demo no longer replaces it.
pub(super) fn enqueue(store: &Store, cells: &Cells, grace: Duration, env: &Env) -> Result<()> {
    let added =
        store.enqueue(&cells.exchanges, &cells.symbols, &dates::days(cells.from, cells.to)?, clock::now_ms(), grace)?;
    let days = (cells.to - cells.from).num_days() + 1;
    let range = if days == 1 { cells.from.to_string() } else { format!("{} to {}", cells.from, cells.to) };
    env.say(&format!(
        "enqueued {} ({} already in the queue) in {}: {} x {} x {} ({range})",
        plural(added.added, "new task", "new tasks"),
        added.existing,
        store.path().display(),
        plural(cells.exchanges.len() as u64, "exchange", "exchanges"),
        plural(cells.symbols.len() as u64, "symbol", "symbols"),
        plural(days as u64, "day", "days"),
    ));
    if added.not_yet_due > 0 {
        let (_, first) = store.not_yet_due()?;
        env.say(&format!(
            "{} not yet due: a day is fetched once it has ended (UTC) and --grace {} has passed; \
             the first comes due at {}",
            plural(added.not_yet_due, "task is", "tasks are"),
            humantime::format_duration(grace),
            first.map_or_else(|| "?".into(), clock::show)
        ));
    }
    if store.set_demo(false)? {
        env.say(&format!(
            "{} was made by `pricequeue demo`; it now holds your tasks, so the demo will not replace it",
            store.path().display()
        ));
    }
    Ok(())
}
