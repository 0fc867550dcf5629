use std::time::Duration;

use anyhow::Result;

use super::{plural, sources, Env, Run};
use crate::cli::EnqueueArgs;
use crate::clock;
use crate::error::Exit;
use crate::resolve;
use crate::selection::Selection;
use crate::store::{Create, Store};

impl Run for EnqueueArgs {
    fn run(&self, env: &Env) -> Result<Exit> {
        let decls = sources::declarations(env)?;
        let source = sources::open_to_queue(env, &decls, &self.selection.source)?;
        let sel = resolve::queue_selection(&self.selection, source.as_ref())?;
        let store = Store::open(&env.store(Create::IfMissing))?;
        sources::keep_declaration(&store, &decls, source.name())?;
        enqueue(&store, &sel, source.name(), self.grace, env)?;
        take_over(&store, env)?;
        Ok(Exit::Ok)
    }
}

/// Queues the cells of the selection, to fetch from `source`, and says
/// what was queued.
pub(super) fn enqueue(store: &Store, sel: &Selection, source: &str, grace: Duration, env: &Env) -> Result<()> {
    let added = store.enqueue(sel, source, clock::now_ms(), grace)?;
    let from = if source == "cryptodb" { String::new() } else { format!(" from {source}") };
    env.say(&format!(
        "enqueued {}{from} ({} already in the queue) in {}: {}",
        plural(added.added, "new task", "new tasks"),
        added.existing,
        store.location(),
        sel.describe(),
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
    Ok(())
}

/// A database the demo made becomes the user's once they queue tasks in
/// it: the demo no longer replaces it.
pub(super) fn take_over(store: &Store, env: &Env) -> Result<()> {
    if store.set_demo(false)? {
        env.say(&format!(
            "{} was made by `pricequeue demo`; it now holds your tasks, so the demo will not replace it",
            store.location()
        ));
    }
    Ok(())
}
