use anyhow::Result;

use super::enqueue::{all_confirmed, enqueue, take_over};
use super::progress::Left;
use super::work::{broken_sources, exit_code, summary_lines};
use super::{plural, sources, Env, Run};
use crate::cli::FetchArgs;
use crate::error::Exit;
use crate::resolve;
use crate::store::{Create, Reason, Store};

impl Run for FetchArgs {
    fn run(&self, env: &Env) -> Result<Exit> {
        let known = sources::declarations(env);
        let asked = &self.selection;
        let source = sources::open_to_queue(env, &known, &asked.source)?;
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
        let mut ran = self.work.work(&store, env, checked, remaining)?;

        // The exit code speaks for the whole selection: a task that failed
        // in an earlier run is still a price this command did not get.
        // Failures cooling down after transient errors (state `cooling`)
        // are not among them: a later run asks again, and no person is
        // needed yet.
        let counts = store.counts_in(&sel)?;
        let failed = counts.failed;
        let code = exit_code(&ran.summary, failed);
        // The days waiting are the selection's too, not the whole queue's.
        (ran.summary.waiting, ran.summary.next_due) = (counts.not_yet_due, None);
        if counts.not_yet_due > 0 {
            store.for_each_cell(&sel, |_, _, _, why| {
                if let Some(Reason::NotYetDue { at, .. }) = why {
                    ran.summary.next_due = Some(ran.summary.next_due.map_or(at, |first| first.min(at)));
                }
                Ok(())
            })?;
        }
        let summary = &ran.summary;
        for line in summary_lines(&ran) {
            env.report(&line, code);
        }
        if failed > summary.failed {
            env.report(
                &format!(
                    "{} of this selection failed in earlier runs; `pricequeue status` shows why, \
                     `pricequeue retry` queues them again, `pricequeue retry --never` gives up on them",
                    plural(failed - summary.failed, "task", "tasks"),
                ),
                code,
            );
        }
        // Lines cron must hear even with --quiet, whatever the exit code:
        // a command that can never store anything, and a source that stays broken.
        if counts.outside_history > 0 && counts.outside_history == counts.total() {
            super::log(&format!(
                "nothing stored: every day of this selection ({} to {}, {}) is outside {}'s history, older than \
                 it serves; another source may have them",
                sel.from,
                sel.to,
                plural(counts.outside_history, "task", "tasks"),
                source.name()
            ));
        }
        for line in broken_sources(summary) {
            super::log(&line);
        }
        Ok(code)
    }
}
