use std::time::Duration;

use anyhow::Result;

use super::{confirmed, plural, sources, Env, Execute};
use crate::cli::{EnqueueArgs, QueueSelectionArgs};
use crate::clock;
use crate::error::Exit;
use crate::resolve;
use crate::selection::Selection;
use crate::source::{Declarations, PriceSource};
use crate::store::{Create, Store};

impl Execute for EnqueueArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let known = sources::declarations(env);
        let source = sources::open_to_queue(env, &known, &self.selection.source, 1)?;
        let sel = resolve::queue_selection(&self.selection, source.as_ref(), &known.decls.names())?;
        if !all_confirmed(&self.selection, source.as_ref(), &sel, env)? {
            return Ok(Exit::Ok);
        }
        let store = Store::open(&env.store(Create::IfMissing))?;
        sources::keep_declaration(&store, &known.decls, source.name())?;
        enqueue(&store, &sel, source.name(), self.grace, env)?;
        take_over(&store, env)?;
        Ok(Exit::Ok)
    }
}

/// Says how many pairs `all` named on a source whose lists are its whole
/// market (an exchange's hundreds of pairs), and asks before they are
/// queued (y/N), unless --yes: false when the answer is no (said). Where
/// nobody can answer, nothing is queued: a usage error naming --yes.
pub(super) fn all_confirmed(
    asked: &QueueSelectionArgs,
    source: &dyn PriceSource,
    sel: &Selection,
    env: &Env,
) -> Result<bool> {
    let all = |names: &[String]| names.iter().any(|n| n.trim().eq_ignore_ascii_case("all"));
    let all_exchanges = source.exchange().is_none() && all(&asked.exchanges);
    let all_symbols = all(&asked.symbols);
    if asked.yes || !(all_exchanges || all_symbols) || !source.asks_before_all() {
        return Ok(true);
    }
    let which = match (all_exchanges, all_symbols) {
        (true, true) => "--exchange all --symbol all",
        (true, false) => "--exchange all",
        _ => "--symbol all",
    };
    // A few of the names, to show what `all` took in.
    let names: Vec<String> = sel
        .pairs
        .iter()
        .map(|p| if source.exchange().is_some() { p.symbol.clone() } else { format!("{} {}", p.exchange, p.symbol) })
        .collect();
    let shown = match names.len() {
        0..=5 => names.join(", "),
        n => format!("{}, and {} more", names[..4].join(", "), n - 4),
    };
    let question = format!(
        "{which} on {} is {} ({shown}): queue {} for {}?",
        source.name(),
        plural(names.len() as u64, "pair", "pairs"),
        plural(sel.len(), "task", "tasks"),
        if sel.from == sel.to { sel.from.to_string() } else { format!("{} to {}", sel.from, sel.to) },
    );
    let no_terminal = "add --yes to queue them all, or name the pairs you want \
                       (--symbol with their names, comma-separated); nothing was queued";
    let yes = confirmed(&question, no_terminal)?;
    if !yes {
        env.say("nothing was queued");
    }
    Ok(yes)
}

/// Queues the cells of the selection, to fetch from `source`, and says
/// what was queued.
pub(super) fn enqueue(store: &Store, sel: &Selection, source: &str, grace: Duration, env: &Env) -> Result<()> {
    let added = store.enqueue(sel, source, clock::now_ms(), grace)?;
    let from = if Declarations::is_unnamed(source) { String::new() } else { format!(" from {source}") };
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
