//! How a run looks to the person running it: a live bar on a terminal, a
//! line every few seconds off one (cron, pipes), a line per request with
//! -v, nothing but errors with -q. All of it on stderr: stdout is data.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::{Outcome, Task};
use crate::work::{Observer, Summary};

/// How much a command says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// Progress, notes and the summary.
    Normal,
    /// And a line per request.
    Verbose,
}

/// Off a terminal, a progress line this often.
const LOG_EVERY: Duration = Duration::from_secs(5);

/// Shows a run's progress, notes and requests on stderr.
pub struct Reporter {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Mutex<Instant>,
}

impl Reporter {
    /// A bar when stderr is a terminal (and not quiet), log lines otherwise.
    pub fn new(verbosity: Verbosity) -> Reporter {
        let bar = (verbosity > Verbosity::Quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} [{wide_bar}] {pos}/{len} ETA {eta} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Reporter { verbosity, bar, started: Instant::now(), last_line: Mutex::new(Instant::now()) }
    }

    /// A line for people: above the bar if there is one.
    pub fn say(&self, line: &str) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(line),
            None => super::log(line),
        }
    }

    /// Takes the bar off the screen, before the summary.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.finish();
    }
}

fn counts(s: &Summary) -> String {
    format!("no data {} · retried {} · failed {}", s.no_data, s.retried, s.failed)
}

impl Observer for Reporter {
    fn note(&self, message: &str) {
        self.say(message);
    }

    fn progress(&self, s: &Summary, total: u64) {
        let done = s.fetched + s.no_data + s.failed;
        match &self.bar {
            Some(bar) => {
                bar.set_length(total.max(done));
                bar.set_position(done);
                let rate = done as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{rate:.0} tasks/s · {}", counts(s)));
            }
            None if self.verbosity > Verbosity::Quiet => {
                let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() < LOG_EVERY {
                    return;
                }
                *last = Instant::now();
                let secs = self.started.elapsed().as_secs_f64().max(1e-3);
                let rate = done as f64 / secs;
                let left = total.saturating_sub(done);
                let eta = if rate > 0.0 { format!("{:.0} s", left as f64 / rate) } else { "?".into() };
                let percent = if total > 0 { 100.0 * done as f64 / total as f64 } else { 100.0 };
                super::log(&format!(
                    "progress: {done}/{total} ({percent:.0}%), {rate:.0} tasks/s, ETA {eta}; {}",
                    counts(s)
                ));
            }
            None => {}
        }
    }

    fn request(&self, task: &Task, outcome: &Outcome, took: Duration) {
        if self.verbosity < Verbosity::Verbose {
            return;
        }
        let what = match outcome {
            Outcome::Price(p) => format!("price, close {}", p.close),
            Outcome::NoData => "no data".into(),
            Outcome::Failed { error } => format!("failed: {error}"),
            Outcome::Retry { error, .. } => format!("will retry: {error}"),
            Outcome::Defer { error, .. } => format!("deferred: {error}"),
            Outcome::NotYet { at, asked: true, .. } => format!("no price yet; asked again from {}", crate::clock::show(*at)),
            Outcome::NotYet { at, .. } => format!("not yet due until {}", crate::clock::show(*at)),
            Outcome::Released => "released".into(),
        };
        self.say(&format!("{} {} {}: {what} ({} ms)", task.exchange, task.symbol, task.day, took.as_millis()));
    }
}
