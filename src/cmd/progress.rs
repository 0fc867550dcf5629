//! How a run looks to the person running it: a live bar on a terminal, a
//! line every few seconds off one (cron, pipes), a line per request with
//! -v, nothing but errors with -q. All of it on stderr: stdout is data.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::{Completion, Outcome};
use crate::work::{Observer, SlotRequest, Summary};

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

/// How many tasks of what a run is about (a selection, or the whole queue)
/// there are, and how many are still waiting or held: read from the
/// database, so it counts what every process sharing it has done.
pub type Remaining = Box<dyn Fn() -> anyhow::Result<Left> + Send>;

/// Tasks still to do (queued or in progress) of `all`: the selection's
/// tasks but those not yet due, which no run of now can do.
#[derive(Debug, Clone, Copy)]
pub struct Left {
    pub left: u64,
    pub all: u64,
}

impl Left {
    /// What the counts of a selection (or of the queue) leave to do.
    pub fn of(c: &crate::store::StateCounts) -> Left {
        Left { left: c.queued + c.in_progress, all: c.total() - c.not_yet_due }
    }
}

/// Shows a run's progress, notes and requests on stderr.
pub struct Reporter {
    verbosity: Verbosity,
    bar: Option<ProgressBar>,
    started: Instant,
    last_line: Mutex<Instant>,
    scope: Option<Scope>,
    unpublished: AtomicU64,
    asks_again: AtomicI64,
    /// Whether the line on what was already done was said.
    resumed: AtomicBool,
}

/// The days a run asked for that the server had not published yet, and
/// when the first of them is asked again: a summary says so, since a run
/// that fetched nothing should say why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unpublished {
    pub count: u64,
    pub asks_again: Option<i64>,
}

/// What the progress counts, from the database: the tasks waiting or held
/// when the run started, and those done since by anyone (a thread of its
/// own reads it, so the workers never wait on a count).
struct Scope {
    total: u64,
    /// Done when the run started.
    already: u64,
    done: Arc<AtomicU64>,
    /// Our own tasks finished when `done` was last read.
    own_at_read: Arc<AtomicU64>,
    own: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    /// Joined on drop: the reader holds a database connection, which must be
    /// closed before the process ends, or SQLite's last close cannot fold
    /// the write-ahead log back into the file.
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Scope {
    fn start(remaining: Remaining) -> anyhow::Result<Scope> {
        let Left { left, all: total } = remaining()?;
        let mut scope = Scope {
            total,
            already: total.saturating_sub(left),
            done: Arc::new(AtomicU64::new(total.saturating_sub(left))),
            own_at_read: Arc::new(AtomicU64::new(0)),
            own: Arc::new(AtomicU64::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
            reader: None,
        };
        let (done, own_at_read, own, stop) =
            (scope.done.clone(), scope.own_at_read.clone(), scope.own.clone(), scope.stop.clone());
        let reader = std::thread::Builder::new().name("progress".into()).spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let own_now = own.load(Ordering::Relaxed);
                let started = Instant::now();
                let Ok(Left { left, .. }) = remaining() else { return };
                done.store(total.saturating_sub(left), Ordering::Relaxed);
                own_at_read.store(own_now, Ordering::Relaxed);
                // Reading costs at most a twentieth of the time.
                let pause = (started.elapsed() * 20).max(Duration::from_millis(250));
                let until = Instant::now() + pause;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        })?;
        scope.reader = Some(reader);
        Ok(scope)
    }

    /// Done by anyone as last read, plus what we finished since.
    fn done(&self, own: u64) -> u64 {
        self.own.store(own, Ordering::Relaxed);
        let since = own.saturating_sub(self.own_at_read.load(Ordering::Relaxed));
        (self.done.load(Ordering::Relaxed) + since).min(self.total)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

impl Reporter {
    /// A bar when stderr is a terminal (and not quiet), log lines otherwise.
    pub fn new(verbosity: Verbosity) -> Reporter {
        let bar = (verbosity > Verbosity::Quiet && std::io::stderr().is_terminal()).then(|| {
            // Hidden until its length is known: a first frame of `0/0` says nothing.
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            // The message is kept short, so that the bar keeps a readable
            // width on an 80-column terminal.
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{wide_bar}] {human_pos}/{human_len} ETA {eta} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        Reporter {
            verbosity,
            bar,
            started: Instant::now(),
            last_line: Mutex::new(Instant::now()),
            scope: None,
            unpublished: AtomicU64::new(0),
            asks_again: AtomicI64::new(i64::MAX),
            resumed: AtomicBool::new(false),
        }
    }

    /// What this run asked for and was not published yet.
    pub fn unpublished(&self) -> Unpublished {
        let count = self.unpublished.load(Ordering::Relaxed);
        let at = self.asks_again.load(Ordering::Relaxed);
        Unpublished { count, asks_again: (count > 0 && at < i64::MAX).then_some(at) }
    }

    /// Counts progress over `remaining`'s tasks, as the database has them.
    pub fn counting(mut self, remaining: Remaining) -> anyhow::Result<Reporter> {
        if self.verbosity > Verbosity::Quiet {
            self.scope = Some(Scope::start(remaining)?);
        }
        Ok(self)
    }

    /// Draws the bar at `done` of `total`, the first time on screen.
    fn show(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total.max(done));
            bar.set_position(done);
            if bar.is_hidden() {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                bar.enable_steady_tick(Duration::from_millis(200));
            }
        }
    }

    /// A line for people: above the bar if there is one.
    pub fn say(&self, line: &str) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
        match &self.bar {
            // A hidden bar would swallow the line.
            Some(bar) if !bar.is_hidden() => bar.println(line),
            _ => super::log(line),
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

/// The run's counts, short: a retry only when there was one.
fn counts(s: &Summary) -> String {
    let retried = if s.retried > 0 { format!(" · retried {}", s.retried) } else { String::new() };
    format!("no data {}{retried} · failed {}", s.no_data, s.failed)
}

/// `26316` as `26,316`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl Observer for Reporter {
    fn note(&self, message: &str) {
        self.say(message);
    }

    fn progress(&self, s: &Summary, total: u64) {
        let own = s.fetched + s.no_data + s.failed + s.cooling + s.not_yet;
        if let Some(scope) = &self.scope {
            // A resumed run says what it resumes, once it is under way (a
            // run that cannot start says only why): the bar starts there.
            if !self.resumed.swap(true, Ordering::Relaxed) && scope.already > 0 {
                self.say(&format!("{} of {} already done", thousands(scope.already), thousands(scope.total)));
            }
        }
        let (done, total) = match &self.scope {
            Some(scope) => (scope.done(own), scope.total),
            None => (own, total),
        };
        match &self.bar {
            Some(bar) => {
                self.show(done, total);
                // This run's pace: what it finished itself, per second.
                let rate = own as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
                bar.set_message(format!("{rate:.0}/s · {}", counts(s)));
            }
            None if self.verbosity > Verbosity::Quiet => {
                let mut last = self.last_line.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed() < LOG_EVERY {
                    return;
                }
                *last = Instant::now();
                let secs = self.started.elapsed().as_secs_f64().max(1e-3);
                // This run's pace: what it finished itself, per second.
                let rate = own as f64 / secs;
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

    fn request(&self, source: &str, done: &[Completion], took: Duration) {
        self.count_unpublished(done);
        if self.verbosity < Verbosity::Verbose {
            return;
        }
        let ms = took.as_millis();
        match done {
            [] => {}
            [one] => {
                let t = &one.task;
                self.say(&format!("{} {} {}: {} ({ms} ms)", t.exchange, t.symbol, t.day, what(&one.outcome)));
            }
            [first, .., last] => {
                // One request for a batch of days: what became of them, counted.
                let t = &first.task;
                self.say(&format!("{source} {} {} to {}: {} ({ms} ms)", t.symbol, t.day, last.task.day, counted(done)));
            }
        }
    }

    fn candles(&self, asked: &SlotRequest, done: &[Completion], took: Duration) {
        self.count_unpublished(done);
        if self.verbosity < Verbosity::Verbose {
            return;
        }
        // Per request: the slots asked and the candles that came; then the
        // days it settled, if any (a request may settle none, or many).
        let mut line = format!(
            "{} {} {} {}: {} ({} ms)",
            asked.source,
            asked.symbol,
            asked.interval,
            asked.range(),
            crate::words::plural(asked.candles as u64, "candle", "candles"),
            took.as_millis()
        );
        match done {
            [] => {}
            [one] => line.push_str(&format!("; {}: {}", one.task.day, what(&one.outcome))),
            [first, .., last] => {
                line.push_str(&format!("; {} to {}: {}", first.task.day, last.task.day, counted(done)));
            }
        }
        self.say(&line);
    }
}

impl Reporter {
    /// Counts the days asked for that had no price yet, and when the first
    /// is asked again, for the summary's line on them.
    fn count_unpublished(&self, done: &[Completion]) {
        for c in done {
            if let Outcome::NotYet { at, asked: true, .. } = c.outcome {
                self.unpublished.fetch_add(1, Ordering::Relaxed);
                self.asks_again.fetch_min(at, Ordering::Relaxed);
            }
        }
    }
}

/// What became of a task, as a line of -v says it.
fn what(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Price(p) => format!("price, close {}", p.close),
        Outcome::Candles(c) => crate::words::plural(c.len() as u64, "candle", "candles"),
        Outcome::CandlesSoFar { candles, at } => format!(
            "{} so far; asked again from {}",
            crate::words::plural(candles.len() as u64, "candle", "candles"),
            crate::clock::show(*at)
        ),
        Outcome::NoData => "no data".into(),
        Outcome::OutsideHistory => "outside the source's history".into(),
        Outcome::Failed { error } => format!("failed: {error}"),
        Outcome::Cooling { error, at } => {
            format!("failed for now: {error}; asked again from {}", crate::clock::show(*at))
        }
        Outcome::Retry { error, .. } => format!("will retry: {error}"),
        Outcome::Defer { error, .. } => format!("deferred: {error}"),
        Outcome::NotYet { at, asked: true, .. } => {
            format!("no price yet; asked again from {}", crate::clock::show(*at))
        }
        Outcome::NotYet { at, .. } => format!("not yet due until {}", crate::clock::show(*at)),
        Outcome::Released => "released".into(),
    }
}

/// What became of the tasks of one request, counted: "40 prices, 1 no data".
fn counted(done: &[Completion]) -> String {
    let mut counts: Vec<(String, u64)> = Vec::new();
    for c in done {
        let word = match &c.outcome {
            Outcome::Price(_) => "prices".to_string(),
            Outcome::Candles(_) => "with every candle".to_string(),
            Outcome::CandlesSoFar { .. } => "with the candles so far".to_string(),
            other => what(other),
        };
        match counts.iter_mut().find(|(w, _)| *w == word) {
            Some((_, n)) => *n += 1,
            None => counts.push((word, 1)),
        }
    }
    counts.iter().map(|(w, n)| format!("{n} {w}")).collect::<Vec<_>>().join(", ")
}
