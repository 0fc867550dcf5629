use anyhow::Result;

use super::enqueue::{all_confirmed, enqueue, take_over};
use super::progress::Left;
use super::summary::{broken_sources, exit_code, print};
use super::{plural, sources, Env, Execute};
use crate::cli::FetchArgs;
use crate::error::Exit;
use crate::resolve;
use crate::store::{Create, Store};
use crate::work::WorkOptions;

impl Execute for FetchArgs {
    /// Queues the selection, then works on it, and on it alone: the rest
    /// of the queue is `work`'s. The source is opened once, to check the
    /// names and to fetch.
    fn execute(&self, env: &Env) -> Result<Exit> {
        let known = sources::declarations(env);
        let asked = &self.selection;
        let options = self.work.options();
        let source = sources::open_to_queue(env, &known, &asked.source, options.workers)?;
        let sel = resolve::queue_selection(asked, source.as_ref(), &known.decls.names())?;
        if !all_confirmed(asked, source.as_ref(), &sel, env)? {
            return Ok(Exit::Ok);
        }
        let store = Store::open(&env.store(Create::IfMissing).synchronous(self.work.synchronous))?;
        sources::keep_declaration(&store, &known.decls, source.name())?;
        enqueue(&store, &sel, source.name(), self.work.grace, env)?;
        take_over(&store, env)?;
        if self.refresh_days > 0 {
            let last = sel.last_days(self.refresh_days);
            let again = store.refresh(&last)?;
            env.say(&format!(
                "queued {} again to refresh {} to {}",
                plural(again as u64, "fetched task", "fetched tasks"),
                last.from,
                last.to
            ));
        }
        // The names were checked, so the server answered like the price API.
        let all = |names: &[String]| names.iter().any(|n| n.trim().eq_ignore_ascii_case("all"));
        let checked = !asked.allow_unknown || (all(&asked.exchanges) && all(&asked.symbols));
        // Progress is the selection's, as the database has it: two runs
        // sharing the work each show what both have done.
        let (queue, scope) = (store.clone(), sel.clone());
        let remaining = Box::new(move || queue.counts_in(&scope).map(|c| Left::of(&c)));
        let opts = WorkOptions { server_checked: checked, within: Some(sel.clone()), ..options };
        let ran = self.work.work(&store, env, opts, Some(source.clone()), remaining)?;

        // The summary speaks for the selection: its exit code counts a task
        // that failed in an earlier run too, a price this command did not get.
        let summary = &ran.summary;
        let code = exit_code(summary);
        print(env, &ran, code, self.work.format)?;
        // Lines cron must hear even with --quiet, whatever the exit code:
        // a command that can never store anything, and a source that stays broken.
        if let Some(tasks) = summary.tasks.filter(|t| t.outside_history > 0 && t.outside_history == t.total()) {
            super::log(&format!(
                "nothing stored: every day of this selection ({} to {}, {}) is outside {}'s history, older than \
                 it serves; another source may have them",
                sel.from,
                sel.to,
                plural(tasks.outside_history, "task", "tasks"),
                source.name()
            ));
        }
        for line in broken_sources(summary) {
            super::log(&line);
        }
        Ok(code)
    }
}
