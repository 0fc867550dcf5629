//! `remove`: takes the tasks of a selection out of the queue (and their
//! prices, when asked), after saying how many and asking first.

use anyhow::Result;

use super::{confirmed, plural, Env, Execute};
use crate::cli::RemoveArgs;
use crate::dates;
use crate::error::{Exit, Usage};
use crate::resolve;
use crate::store::{Create, Store};

impl Execute for RemoveArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let asked = self.selection.ask();
        // A selection left open is everything in the database: never by
        // accident, so it must be named (`--exchange all`).
        let named = |names: &[String]| names.iter().any(|n| !n.trim().is_empty());
        if !named(&asked.exchanges)
            && !named(&asked.symbols)
            && !named(&asked.sources)
            && asked.from.is_none()
            && asked.to.is_none()
        {
            anyhow::bail!(Usage(
                "name the tasks to remove with --exchange, --symbol, --source, --from or --to \
                 (`--exchange all` alone removes every task)"
                    .into()
            ));
        }
        if let (Some(from), Some(to)) = (asked.from, asked.to) {
            dates::check_range(from, to)?;
        }
        let store = Store::open(&env.store(Create::No))?;
        // The pairs are those of the sources named; within them, only the
        // tasks of those sources go (a pair may have been fetched from two).
        let sources: Vec<String> =
            asked.sources.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        let sources = if sources.iter().any(|s| s.eq_ignore_ascii_case("all")) { vec![] } else { sources };
        let Some(sel) = resolve::report_selection(&store, &asked)? else {
            env.say(&format!("{}: no task or price of this selection; nothing to remove", store.location()));
            return Ok(Exit::Ok);
        };
        let from = if sources.is_empty() { String::new() } else { format!(" from {}", sources.join(", ")) };
        let (tasks, prices) = store.to_remove(&sel, &sources)?;
        let what = |tasks, prices| {
            let tasks = plural(tasks, "task", "tasks");
            if self.prices {
                format!("{tasks} and {}", plural(prices, "price", "prices"))
            } else {
                tasks
            }
        };
        let kept = if self.prices || prices == 0 {
            String::new()
        } else {
            format!(" ({} kept: --prices removes them too)", plural(prices, "price is", "prices are"))
        };
        if tasks == 0 && (prices == 0 || !self.prices) {
            env.say(&format!("no task{from} of {}; nothing to remove{kept}", sel.describe()));
            return Ok(Exit::Ok);
        }
        let question =
            format!("remove {}{from} of {} from {}{kept}?", what(tasks, prices), sel.describe(), store.location());
        let no_terminal = "add --yes to remove them; nothing was removed";
        if !self.yes && !confirmed(&question, no_terminal)? {
            env.say("nothing was removed");
            return Ok(Exit::Ok);
        }
        let (tasks, prices) = store.remove(&sel, &sources, self.prices)?;
        env.say(&format!("removed {}{from} of {}", what(tasks, prices), sel.describe()));
        Ok(Exit::Ok)
    }
}
