//! The workers: threads that fetch claimed tasks, and the coordinator that
//! claims them and writes the results back.
//!
//! One coordinator thread does every database write of a run: it claims
//! tasks in batches, hands them to the fetcher threads over a channel, and
//! commits whatever results have arrived in one transaction (group commit).
//! No transaction is ever open across an HTTP request, and a crash loses at
//! most results not yet committed, whose tasks are simply fetched again.

mod coordinator;
mod fetcher;

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};

use crate::owner;
use crate::source::{FetchError, PriceSource};
use crate::store::{now_ms, Outcome, Store, Task};

pub use fetcher::backoff;

/// How a run behaves; the command line fills this in.
#[derive(Debug, Clone)]
pub struct WorkOptions {
    /// Fetcher threads, each with one request in flight at most.
    pub workers: usize,
    /// Attempts per task before it is marked failed.
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
        }
    }
}

/// `min(32, cores + 4)`: fetching waits on the network, not the CPU.
pub fn default_workers() -> usize {
    let cores = thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    (cores + 4).min(32)
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    /// Prices fetched and stored.
    pub fetched: u64,
    /// Days the server has no price for.
    pub no_data: u64,
    /// Tasks that gave up in this run.
    pub failed: u64,
    /// Attempts that failed and were queued again.
    pub retried: u64,
    /// Answers that asked us to come back later (Retry-After).
    pub deferred: u64,
    /// Results thrown away because another worker had taken the task over.
    pub discarded: u64,
    /// Tasks taken back from dead workers or expired leases.
    pub recovered: u64,
    /// Time every worker spent paused for Retry-After.
    pub paused: Duration,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Whether the run was stopped (Ctrl-C, SIGTERM) before the queue was empty.
    pub interrupted: bool,
    /// Whether `deadline` stopped the run.
    pub deadline_reached: bool,
}

impl Summary {
    /// Tasks finished for good (fetched, no data, failed) per second.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            (self.fetched + self.no_data + self.failed) as f64 / secs
        } else {
            0.0
        }
    }
}

/// Where a run reports what a person watching should know. The workers
/// never print: the command decides what to show, and where.
pub trait Observer: Send + Sync {
    /// Something worth a line: a pause, a lost server.
    fn note(&self, _message: &str) {}
    /// Progress, after each commit: what is done so far of `total`, the
    /// tasks that were due when the run started.
    fn progress(&self, _summary: &Summary, _total: u64) {}
    /// One request answered (or failed), from a fetcher thread.
    fn request(&self, _task: &Task, _outcome: &Outcome, _took: Duration) {}
}

/// An observer that says nothing.
pub struct Silent;

impl Observer for Silent {}

/// Fetches every task due in the queue until none is left (or `stop` is
/// set), and returns what was done.
pub fn run(
    store: &Store,
    source: Arc<dyn PriceSource>,
    opts: &WorkOptions,
    stop: &AtomicBool,
    observer: Arc<dyn Observer>,
) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary { recovered: recover(store)?, ..Summary::default() };
    if !store.has_pending()? {
        summary.elapsed = started.elapsed();
        return Ok(summary);
    }
    check_pause(store, source.server(), opts.max_pause)?;
    probe(source.as_ref())?;
    let counts = store.counts()?;
    let total = counts.queued + counts.in_progress;

    let workers = opts.workers.max(1);
    let (job_tx, job_rx) = crossbeam_channel::unbounded();
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared {
        paused_until: AtomicI64::new(0),
        stopping: AtomicBool::new(false),
        unreachable_streak: AtomicU32::new(0),
    });
    let mut handles = Vec::with_capacity(workers);
    for i in 0..workers {
        let fetcher = fetcher::Fetcher {
            source: Arc::clone(&source),
            shared: Arc::clone(&shared),
            opts: opts.clone(),
            jobs: job_rx.clone(),
            done: done_tx.clone(),
            observer: Arc::clone(&observer),
        };
        handles.push(
            thread::Builder::new().name(format!("fetch-{i}")).stack_size(256 * 1024).spawn(move || fetcher.run())?,
        );
    }
    drop(done_tx);
    drop(job_rx);

    let result = coordinator::Coordinator::new(store, opts, source.server(), job_tx, done_rx, &shared, &mut summary)
        .run(stop, observer.as_ref(), total);
    // The coordinator dropped its job sender: fetchers drain and exit.
    for h in handles {
        let _ = h.join();
    }
    result?;
    summary.elapsed = started.elapsed();
    Ok(summary)
}

/// State the fetchers share.
struct Shared {
    /// No request before this time (ms since epoch): a server's Retry-After.
    paused_until: AtomicI64,
    /// The run is stopping: hand back tasks instead of fetching them.
    stopping: AtomicBool,
    /// Requests in a row that found nobody at the server's address.
    unreachable_streak: AtomicU32,
}

/// Takes back tasks whose worker is gone: at once for a provably dead
/// process, otherwise when the lease has run out.
fn recover(store: &Store) -> Result<u64> {
    let mut n = store.recover_expired(now_ms())? as u64;
    for (holder, _) in store.owners()? {
        if owner::provably_dead(&holder) {
            n += store.release_owner(&holder)? as u64;
        }
    }
    Ok(n)
}

/// Refuses to start while the server's recorded pause runs past `max`.
fn check_pause(store: &Store, server: &str, max: Duration) -> Result<()> {
    if let Some(until) = store.pause(server)? {
        let wait = until - now_ms();
        if wait > max.as_millis() as i64 {
            bail!("{}", too_long(server, until, max));
        }
    }
    Ok(())
}

/// The message for a pause longer than `--max-pause`.
fn too_long(server: &str, until: i64, max: Duration) -> String {
    let at = chrono::DateTime::from_timestamp_millis(until)
        .map_or_else(|| until.to_string(), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string());
    format!(
        "the price server at {server} asked for no requests until {at} (Retry-After), longer than \
         --max-pause {}; the tasks stay queued: run the same command again after then",
        humantime::format_duration(max)
    )
}

/// One cheap request before any task is claimed: a server that is not
/// there, or is not the price API, is one clear error, not thousands of
/// failed tasks. Transient trouble gets two more tries.
fn probe(source: &dyn PriceSource) -> Result<()> {
    let mut tries = 0;
    loop {
        tries += 1;
        match source.exchanges() {
            Ok(_) => return Ok(()),
            Err(FetchError::Unreachable(e)) => {
                bail!("cannot reach the price server: {e}. Is it running? `pricequeue serve` starts one")
            }
            Err(FetchError::Transient(_) | FetchError::RateLimited { .. }) if tries < 3 => {
                thread::sleep(Duration::from_millis(500 * tries));
            }
            Err(e) => bail!(
                "{} does not answer like the price API ({e}); check --server: it is the API's base \
                 URL, like http://localhost:8080",
                source.server()
            ),
        }
    }
}
