use std::sync::atomic::Ordering;
use std::sync::Arc;

use anyhow::Result;

use super::progress::Reporter;
use super::{handle_signals, Env, Run, STOP};
use crate::cli::WorkArgs;
use crate::error::{FAILED, INTERRUPTED, MISSING, OK};
use crate::source::{HttpSource, Timeouts};
use crate::store::{Create, Store};
use crate::work::{self, default_workers, Summary, WorkOptions};

impl Run for WorkArgs {
    fn run(&self, env: &Env) -> Result<i32> {
        let store = Store::open(&env.db(), Create::No, self.synchronous)?;
        let summary = self.work(&store, env)?;
        let code = exit_code(&summary, summary.failed);
        env.report(&summary_line(&summary), code);
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
            ..WorkOptions::default()
        }
    }

    /// Runs the workers over the queue in `store` against `--server`,
    /// showing progress as `env` asks.
    pub(super) fn work(&self, store: &Store, env: &Env) -> Result<Summary> {
        handle_signals()?;
        let opts = self.options();
        let timeouts = Timeouts { request: self.timeout, ..Timeouts::default() };
        let source = Arc::new(HttpSource::new(&env.server, timeouts, opts.workers));
        let reporter = Arc::new(Reporter::new(env.verbosity));
        let result = work::run(store, source, &opts, &STOP, reporter.clone());
        reporter.finish();
        result
    }
}

/// "fetched 780 prices, 336 no data, 0 failed, 2 retried in 1.21 s (925 tasks/s)", and what else happened.
pub(super) fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "fetched {} prices, {} no data, {} failed, {} retried in {:.2} s ({:.0} tasks/s)",
        s.fetched,
        s.no_data,
        s.failed,
        s.retried,
        s.elapsed.as_secs_f64(),
        s.rate()
    );
    if s.deferred > 0 || !s.paused.is_zero() {
        line.push_str(&format!(
            "; the server asked to slow down {} times, {:.1} s of pauses",
            s.deferred,
            s.paused.as_secs_f64()
        ));
    }
    if s.recovered > 0 {
        line.push_str(&format!("; took back {} tasks from runs that died or whose lease ran out", s.recovered));
    }
    if s.discarded > 0 {
        line.push_str(&format!("; {} results discarded (another run had taken their tasks over)", s.discarded));
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
pub(super) fn exit_code(s: &Summary, failed: u64) -> i32 {
    if s.interrupted {
        INTERRUPTED
    } else if failed > 0 {
        FAILED
    } else if s.deadline_reached {
        MISSING
    } else {
        OK
    }
}
