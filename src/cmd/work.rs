use std::sync::Arc;

use anyhow::Result;

use super::plural;
use super::progress::{Left, Remaining, Reporter};
use super::summary::{broken_sources, exit_code, print, Ran};
use super::{handle_signals, Env, Execute, STOP};
use crate::cli::WorkArgs;
use crate::error::Exit;
use crate::source::PriceSource;
use crate::store::{Create, Store};
use crate::work::{self, default_workers, WorkOptions};

/// More workers than this is more than price servers serve at once: the
/// extra requests only queue up at the server.
const MANY_WORKERS: usize = 64;

impl Execute for WorkArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let store = Store::open(&env.store(Create::No).synchronous(self.synchronous))?;
        let queue = store.clone();
        let remaining = Box::new(move || queue.counts().map(|c| Left::of(&c)));
        let ran = self.work(&store, env, self.options(), None, remaining)?;
        let s = &ran.summary;
        let code = exit_code(s);
        print(env, &ran, code, self.format)?;
        if s.outside_history > 0 && s.fetched + s.no_data + s.failed + s.cooling + s.retried + s.not_yet == 0 {
            super::log(&format!(
                "nothing stored: all {} this run asked for {} outside their source's history (older than it serves); \
                 another source may have them",
                plural(s.outside_history, "day", "days"),
                if s.outside_history == 1 { "is" } else { "are" }
            ));
        }
        for line in broken_sources(s) {
            super::log(&line);
        }
        Ok(code)
    }
}

impl WorkArgs {
    /// The worker options these flags ask for.
    pub fn options(&self) -> WorkOptions {
        WorkOptions {
            workers: self.workers.map_or_else(default_workers, usize::from),
            max_attempts: self.max_attempts,
            retry_delay: self.retry_delay,
            lease: self.lease,
            max_pause: self.max_pause,
            deadline: self.deadline,
            grace: self.grace,
            settle: self.settle,
            rate: self.rate.map(|r| r.interval()),
            ..WorkOptions::default()
        }
    }

    /// Runs the workers as `opts` say over the queue in `store`, showing
    /// progress over `remaining` as `env` asks. The sources are those of
    /// the tasks waiting: `opened` is used as it is (a command that checked
    /// names with it opens it once), the others opened from the database.
    pub(super) fn work(
        &self,
        store: &Store,
        env: &Env,
        opts: WorkOptions,
        opened: Option<Arc<dyn PriceSource>>,
        remaining: Remaining,
    ) -> Result<Ran> {
        if opts.workers > MANY_WORKERS {
            env.say(&format!(
                "warning: {} workers: price servers serve a few requests at a time (the reference server a few hundred a second); more workers only queue up there. Consider fewer, or --rate",
                opts.workers
            ));
        }
        let sources = super::sources::open_to_work(store, env, opts.workers, opened, opts.within.as_ref())?;
        start(store, sources, &opts, env, Some(remaining))
    }
}

/// Runs workers over the queue in `store`, with Ctrl-C and SIGTERM
/// stopping them cleanly and progress shown as `env` asks (counted over
/// `remaining`'s tasks when given, else over this run's).
pub(super) fn start(
    store: &Store,
    sources: Vec<Arc<dyn PriceSource>>,
    opts: &WorkOptions,
    env: &Env,
    remaining: Option<Remaining>,
) -> Result<Ran> {
    handle_signals()?;
    let reporter = Reporter::new(env.verbosity);
    let reporter = Arc::new(match remaining {
        Some(remaining) => reporter.counting(remaining)?,
        None => reporter,
    });
    let result = work::run(store, sources, opts, &STOP, reporter.clone());
    reporter.finish();
    Ok(Ran { summary: result?, unpublished: reporter.unpublished() })
}
