use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Result;

use super::plural;
use super::progress::{Left, Remaining, Reporter, Unpublished};
use super::{handle_signals, Env, Run, STOP};
use crate::cli::WorkArgs;
use crate::clock;
use crate::error::Exit;
use crate::source::PriceSource;
use crate::store::{Create, Store};
use crate::work::{self, default_workers, Summary, WorkOptions};

/// More workers than this is more than price servers serve at once: the
/// extra requests only queue up at the server.
const MANY_WORKERS: usize = 64;

impl Run for WorkArgs {
    fn run(&self, env: &Env) -> Result<Exit> {
        let store = Store::open(&env.store(Create::No).synchronous(self.synchronous))?;
        let queue = store.clone();
        let remaining = Box::new(move || queue.counts().map(|c| Left::of(&c)));
        let ran = self.work(&store, env, false, remaining)?;
        let code = exit_code(&ran.summary, ran.summary.failed);
        for line in summary_lines(&ran) {
            env.report(&line, code);
        }
        let s = &ran.summary;
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

    /// Runs the workers over the queue in `store` against `--server`,
    /// showing progress as `env` asks; `checked` when the server already
    /// answered like the price API.
    pub(super) fn work(&self, store: &Store, env: &Env, checked: bool, remaining: Remaining) -> Result<Ran> {
        let opts = WorkOptions { server_checked: checked, ..self.options() };
        if opts.workers > MANY_WORKERS {
            env.say(&format!(
                "warning: {} workers: price servers serve a few requests at a time (the reference server a few hundred a second); more workers only queue up there. Consider fewer, or --rate",
                opts.workers
            ));
        }
        let sources = super::sources::open_to_work(store, env, opts.workers)?;
        start(store, sources, &opts, env, Some(remaining))
    }
}

/// What a run did: its summary, and what it asked for that was not
/// published yet.
pub(super) struct Ran {
    pub summary: Summary,
    pub unpublished: Unpublished,
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

/// The summary of a run: the line of counts, then a line on the days the
/// server had not published yet, one on those not yet due, and one on the
/// failures cooling down, if any.
pub(super) fn summary_lines(ran: &Ran) -> Vec<String> {
    let s = &ran.summary;
    let mut lines = vec![summary_line(s)];
    let asked = ran.unpublished;
    if asked.count > 0 {
        // A run that fetched nothing must say why: the server answered, but
        // without these prices, which a live server publishes a while after
        // the day ends.
        // Not "answered null": a range source says it with a missing row or
        // a candle not closed yet, and the reference API with `null`.
        lines.push(format!(
            "the server has not published {} yet (no price, or a candle not closed yet, for {} within --settle); \
             they are asked again from {}",
            plural(asked.count, "price", "prices"),
            if asked.count == 1 { "a day that ended" } else { "days that ended" },
            asked.asks_again.map_or_else(|| "?".into(), clock::show)
        ));
    }
    if s.waiting > 0 {
        lines.push(format!(
            "{} not yet due (their day has not ended, or the server had no price yet); the first comes due at {}: a later run fetches them",
            plural(s.waiting, "task is", "tasks are"),
            s.next_due.map_or_else(|| "?".into(), clock::show)
        ));
    }
    if s.cooled > 0 {
        lines.push(format!(
            "{} on transient errors (server errors, timeouts, busy or unfinished answers); a run from {} on asks again: \
             `pricequeue status` shows them",
            plural(s.cooled, "task failed", "tasks failed"),
            s.next_cooled.map_or_else(|| "?".into(), clock::show)
        ));
    }
    lines
}

/// A line for each source that answered nothing usable in the run while
/// tasks failed a second round of attempts in a row: said even with
/// --quiet (cron mails what a job prints), since the cool-down between two
/// rounds is an hour at least, so this is no blip. The exit code stays 0:
/// the tasks are not failed for good, and a later run asks again.
pub(super) fn broken_sources(s: &Summary) -> Vec<String> {
    s.sources
        .iter()
        .filter(|r| r.broken())
        .map(|r| {
            format!(
                "{} has answered nothing usable for over an hour: {} failed a second round of attempts in a row, \
                 the last with: {}. A later run asks again; `pricequeue status` shows them",
                r.source,
                plural(r.failing_again, "task", "tasks"),
                r.last_error.as_deref().unwrap_or("none recorded")
            )
        })
        .collect()
}

/// "fetched 780 prices, 336 no data, 0 failed, 2 retried in 1.21 s (925 tasks/s)", and what else happened.
pub(super) fn summary_line(s: &Summary) -> String {
    let outside = if s.outside_history > 0 {
        format!(", {} outside the source's history", s.outside_history)
    } else {
        String::new()
    };
    let finished = s.fetched + s.no_data + s.outside_history + s.failed;
    // A rate only means something when something was finished.
    let rate = if finished > 0 { format!(" ({:.0} tasks/s)", s.rate()) } else { String::new() };
    let mut line = format!(
        "fetched {}, {} no data{outside}, {} failed, {} retried in {:.2} s{rate}",
        plural(s.fetched, "price", "prices"),
        s.no_data,
        s.failed,
        s.retried,
        s.elapsed.as_secs_f64(),
    );
    if s.slowdowns > 0 {
        let times = match s.slowdowns {
            1 => "once".to_string(),
            n => format!("{n} times"),
        };
        line.push_str(&format!("; the server asked to slow down {times}, {:.1} s of pauses", s.paused.as_secs_f64()));
    }
    if s.recovered > 0 {
        line.push_str(&format!(
            "; took back {} from runs that died or whose lease ran out",
            plural(s.recovered, "task", "tasks")
        ));
    }
    if s.discarded > 0 {
        line.push_str(&format!(
            "; {} discarded (another run had taken their tasks over)",
            plural(s.discarded, "result", "results")
        ));
    }
    if s.deadline_reached {
        line.push_str("; stopped at the --deadline: run the same command again to carry on");
    }
    if s.interrupted || STOP.load(Ordering::Relaxed) {
        line.push_str("; interrupted: run the same command again to carry on");
    }
    line
}

/// 130 if interrupted, 4 if tasks failed, 3 if the deadline left tasks, else 0.
pub(super) fn exit_code(s: &Summary, failed: u64) -> Exit {
    if s.interrupted {
        Exit::Interrupted
    } else if failed > 0 {
        Exit::Failed
    } else if s.deadline_reached {
        Exit::Incomplete
    } else {
        Exit::Ok
    }
}
