//! The workers: threads that fetch claimed tasks, and the coordinator that
//! claims them and writes the results back.
//!
//! One coordinator thread does every database write of a run: it claims
//! tasks many at a time, cuts them into batches (consecutive days of one
//! pair at one interval, `batches.rs`: at `1d` as many as the task's source
//! serves in one request, below a day as many as fill whole requests),
//! hands the batches to the fetcher threads over a channel, and commits
//! whatever results have arrived in one transaction (group commit). A batch
//! of days is one request and its tasks commit together; below a day a
//! batch's slots are paged through (`pages.rs`) and each day is handed on
//! as soon as all its candles are settled (`slots.rs`). No transaction is
//! ever open across an HTTP request, and a crash loses at most results not
//! yet committed, whose tasks are simply fetched again.
//!
//! Each source has its own lane ([`Lane`]): its pace, the pauses it asked
//! for, its ban, how many requests in a row failed to reach it. One source
//! asking to slow down does not hold up another.

mod batches;
mod coordinator;
mod fetcher;
mod pages;
mod slots;
mod stretch;
mod summary;
mod turns;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::clock::{self, now_ms};
use crate::interval::Interval;
use crate::owner;
use crate::selection::Selection;
use crate::source::{server_trouble, FetchError, PriceSource};
use crate::store::{Completion, Store, Task};

pub use summary::{SourceRun, Summary};

/// How a run behaves; the command line fills this in.
#[derive(Debug, Clone)]
pub struct WorkOptions {
    /// Fetcher threads, each with one request in flight at most.
    pub workers: usize,
    /// Attempts per round of a task (see [`WorkOptions::retry_policy`]).
    pub max_attempts: u32,
    /// Delay before the first retry; doubles with each attempt, with jitter.
    pub retry_delay: Duration,
    /// The longest delay between two attempts.
    pub max_retry_delay: Duration,
    /// How long a claim stays valid without renewal; a task whose worker
    /// died comes back to the queue after this.
    pub lease: Duration,
    /// The longest a run waits for a server's Retry-After, in one pause or
    /// all of them together; past it the run stops, the rest left queued.
    pub max_pause: Duration,
    /// Stop claiming after this long, finish what is in flight, and end
    /// cleanly (a cron job that must not run into the next one).
    pub deadline: Option<Duration>,
    /// A day is fetched once it has ended (UTC) and this much more has passed.
    pub grace: Duration,
    /// A `null` for a day that ended less than this long ago is asked again
    /// later: the server may not have published the price yet.
    pub settle: Duration,
    /// The time between two price requests to a source, over every
    /// process on the database (`--rate`); `None` for each source's own
    /// documented pace (none for `cryptodb`).
    pub rate: Option<Duration>,
    /// The server was already seen to answer like the price API (its names
    /// were checked): no probe before the first claim.
    pub server_checked: bool,
    /// The tasks the run works on: those of this selection only (`fetch`),
    /// or the whole queue for `None` (`work`). The summary speaks of them.
    pub within: Option<Selection>,
}

impl Default for WorkOptions {
    fn default() -> Self {
        WorkOptions {
            workers: default_workers(),
            max_attempts: 5,
            retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(60),
            lease: Duration::from_secs(20),
            max_pause: Duration::from_secs(300),
            deadline: None,
            grace: Duration::from_secs(600),
            settle: Duration::from_secs(2 * 86_400),
            rate: None,
            server_checked: false,
            within: None,
        }
    }
}

impl WorkOptions {
    /// How long a failing task is tried: `max_attempts` a round, then the
    /// store's rounds and cool-downs.
    pub fn retry_policy(&self) -> crate::store::RetryPolicy {
        crate::store::RetryPolicy::new(self.max_attempts)
    }
}

/// `min(32, cores + 4)`: fetching waits on the network, not the CPU.
pub fn default_workers() -> usize {
    let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (cores + 4).min(32)
}

/// Where a run reports what a person watching should know. The workers
/// never print: the command decides what to show, and where.
pub trait Observer: Send + Sync {
    /// Something worth a line: a pause, a lost server.
    fn note(&self, _message: &str) {}
    /// Progress, after each commit: what is done so far of `total`, the
    /// tasks that were due when the run started.
    fn progress(&self, _summary: &Summary, _total: u64) {}
    /// One request answered (or failed), from a fetcher thread: the
    /// source, and what became of the run's tasks it asked for.
    fn request(&self, _source: &str, _done: &[Completion], _took: Duration) {}
    /// One request for candles below a day answered (or failed), from a
    /// fetcher thread: what it asked and how many candles came, and the
    /// days it settled. Unless told otherwise, as [`Observer::request`].
    fn candles(&self, asked: &SlotRequest, done: &[Completion], took: Duration) {
        self.request(asked.source, done, took);
    }
}

/// One request for candles below a day, as [`Observer::candles`] hears of it.
#[derive(Debug, Clone, Copy)]
pub struct SlotRequest<'a> {
    pub source: &'a str,
    pub symbol: &'a str,
    pub interval: Interval,
    /// The slots asked, `first..=last` ([`Interval::slot_of_ms`]).
    pub first: i64,
    pub last: i64,
    /// Candles the answer held among them.
    pub candles: usize,
}

impl SlotRequest<'_> {
    /// The slots asked as people read them: `2024-03-12 00:00 to 16:39`.
    pub fn range(&self) -> String {
        slots::show_slots(self.interval, self.first, self.last)
    }
}

/// Fetches every task due in the queue (within `opts.within`, when given),
/// of the `sources` given, until none is left (or `stop` is set), and
/// returns what was done. Tasks of other sources stay queued.
pub fn run(
    store: &Store,
    sources: Vec<Arc<dyn PriceSource>>,
    opts: &WorkOptions,
    stop: &AtomicBool,
    observer: Arc<dyn Observer>,
) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary { recovered: recover(store)?, ..Summary::default() };
    let names: Vec<String> = sources.iter().map(|s| s.name().to_string()).collect();
    let within = opts.within.as_ref();
    if sources.is_empty() || !store.has_pending(Some(&names), within)? {
        summary.elapsed = started.elapsed();
        ended(store, within, &mut summary)?;
        return Ok(summary);
    }
    let lanes: Vec<Arc<Lane>> = sources.into_iter().map(|s| Arc::new(Lane::new(s, opts.rate))).collect();
    for lane in &lanes {
        check_pause(store, lane, opts.max_pause)?;
    }
    if !opts.server_checked {
        for lane in &lanes {
            probe(lane.source.as_ref())?;
        }
    }
    let counts = match within {
        Some(sel) => store.counts_in(sel)?,
        None => store.counts()?,
    };
    let total = counts.queued + counts.in_progress;

    let workers = opts.workers.max(1);
    let (task_tx, task_rx) = crossbeam_channel::unbounded();
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared { stopping: AtomicBool::new(false), lanes });
    let mut handles = Vec::with_capacity(workers);
    for i in 0..workers {
        let fetcher = fetcher::Fetcher {
            shared: Arc::clone(&shared),
            opts: opts.clone(),
            batches: task_rx.clone(),
            done: done_tx.clone(),
            observer: Arc::clone(&observer),
        };
        handles.push(
            thread::Builder::new().name(format!("fetch-{i}")).stack_size(256 * 1024).spawn(move || fetcher.run())?,
        );
    }
    drop(done_tx);
    drop(task_rx);

    let result = coordinator::Coordinator::new(store, opts, task_tx, done_rx, &shared, &mut summary).run(
        stop,
        observer.as_ref(),
        total,
    );
    // The coordinator dropped its task sender: fetchers drain and exit. One
    // waiting for a request slot would wait for ever if an error ended the
    // coordinator (no one adds slots then), so it is told to stop.
    shared.stopping.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    for lane in &shared.lanes {
        let requests = lane.requests.load(Ordering::Relaxed);
        if requests > 0 {
            summary.requests += requests;
            summary.source(lane.source.name()).requests = requests;
        }
    }
    result?;
    summary.elapsed = started.elapsed();
    ended(store, within, &mut summary)?;
    Ok(summary)
}

/// What the run leaves behind, of the tasks it worked on (`within`, or the
/// whole queue): those waiting for their day, those cooling down, and for
/// a selection its tasks by state.
fn ended(store: &Store, within: Option<&Selection>, summary: &mut Summary) -> Result<()> {
    (summary.waiting, summary.next_due) = match within {
        Some(sel) => store.not_yet_due_in(sel)?,
        None => store.not_yet_due()?,
    };
    (summary.cooled, summary.next_cooled) = store.cooling(within)?;
    summary.tasks = within.map(|sel| store.counts_in(sel)).transpose()?;
    Ok(())
}

/// State the fetchers share.
struct Shared {
    /// The run is stopping: hand back tasks instead of fetching them.
    stopping: AtomicBool,
    /// One per source of the run.
    lanes: Vec<Arc<Lane>>,
}

/// A batch of claimed tasks for one request: consecutive days (some may be
/// missing: finished already) of one pair, from the source of `lane`.
struct Batch {
    lane: usize,
    tasks: Vec<Task>,
}

/// What the fetchers and the coordinator share about one source.
struct Lane {
    source: Arc<dyn PriceSource>,
    /// The source as `server_pauses` and `server_slots` name it: its base
    /// URL, after its name for any source but the reference API's.
    key: String,
    /// The time between two requests, over every process on the database.
    rate: Option<Duration>,
    /// No request before this time (ms since epoch): a server's Retry-After.
    paused_until: AtomicI64,
    /// Requests in a row that found nobody at the server's address.
    unreachable_streak: AtomicU32,
    /// Pauses in a row the server asked for without an answer between them:
    /// each one at least twice as long as the one before.
    pause_streak: AtomicU32,
    /// The request slots this run holds (ms since the epoch, in order),
    /// each good for one request, when the lane has a rate.
    slots: Mutex<VecDeque<i64>>,
    slot_added: Condvar,
    /// The source banned this address (Binance's 418): said once.
    banned: AtomicBool,
    /// Requests sent to the source in this run.
    requests: AtomicU64,
}

impl Lane {
    fn new(source: Arc<dyn PriceSource>, rate: Option<Duration>) -> Lane {
        let key = source.lane();
        let rate = rate.or_else(|| source.pace());
        Lane {
            source,
            key,
            rate,
            paused_until: AtomicI64::new(0),
            unreachable_streak: AtomicU32::new(0),
            pause_streak: AtomicU32::new(0),
            slots: Mutex::new(VecDeque::new()),
            slot_added: Condvar::new(),
            banned: AtomicBool::new(false),
            requests: AtomicU64::new(0),
        }
    }
}

/// Takes back tasks whose worker is gone (at once for a provably dead
/// process, otherwise when the lease has run out), and queues the days
/// that have come due.
fn recover(store: &Store) -> Result<u64> {
    store.promote_due(now_ms())?;
    let mut n = store.recover_expired(now_ms())? as u64;
    for (holder, _) in store.owners()? {
        if owner::provably_dead(&holder) {
            n += store.release_owner(&holder)? as u64;
        }
    }
    Ok(n)
}

/// Refuses to start while the source's recorded pause runs past `max`.
fn check_pause(store: &Store, lane: &Lane, max: Duration) -> Result<()> {
    if let Some(until) = store.pause(&lane.key)? {
        if until.saturating_sub(now_ms()) > clock::ms(max) {
            bail!("{}", too_long(lane.source.server(), until, max));
        }
    }
    Ok(())
}

/// The message for a pause longer than `--max-pause`.
fn too_long(server: &str, until: i64, max: Duration) -> String {
    let at = clock::show_secs(until);
    format!(
        "the price server at {server} asked for no requests until {at}, longer than --max-pause {}; \
         the tasks stay queued: run the same command again after then",
        humantime::format_duration(max)
    )
}

/// One cheap request before any task is claimed: a server that is not
/// there, does not answer, or is not the price API, is one clear error,
/// not thousands of failed tasks. A server error gets two more tries.
fn probe(source: &dyn PriceSource) -> Result<()> {
    let mut tries = 0;
    loop {
        tries += 1;
        match source.exchanges() {
            Ok(_) => return Ok(()),
            Err(e @ (FetchError::Transient(_) | FetchError::RateLimited { .. })) if tries < 3 => {
                let _ = e;
                thread::sleep(Duration::from_millis(500 * tries));
            }
            Err(e) => bail!(server_trouble(source, &e)),
        }
    }
}

/// Sleeps until `at` (ms since the epoch), waking early when `stop` is
/// set; true if `at` was reached.
fn sleep_until(at: i64, stop: &AtomicBool) -> bool {
    loop {
        let wait = at.saturating_sub(now_ms());
        if wait <= 0 {
            return true;
        }
        if stop.load(std::sync::atomic::Ordering::Relaxed) {
            return false;
        }
        thread::sleep(Duration::from_millis(wait.min(20) as u64));
    }
}

/// Exponential backoff with "equal jitter": half the delay is fixed, half
/// random, so retries of tasks that failed together spread out.
fn backoff(base: Duration, max: Duration, attempts_before: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts_before.min(20)).min(max);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests;
