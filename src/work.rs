//! The workers: threads that fetch claimed tasks, and the coordinator that
//! claims them and writes the results back.
//!
//! One coordinator thread does every database write of a run: it claims
//! tasks in batches, hands them to the fetcher threads over a channel, and
//! commits whatever results have arrived in one transaction (group commit).
//! No transaction is ever open across an HTTP request, and a crash loses at
//! most results not yet committed, whose tasks are simply fetched again.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::owner;
use crate::source::{FetchError, PriceSource};
use crate::store::{now_ms, Completion, Outcome, Store, Task};

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
}

impl Default for WorkOptions {
    fn default() -> Self {
        WorkOptions {
            workers: default_workers(),
            max_attempts: 5,
            retry_delay: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(60),
            lease: Duration::from_secs(20),
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
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Tasks taken back from dead workers or expired leases.
    pub recovered: u64,
    /// Whether the run was stopped before the queue was empty.
    pub interrupted: bool,
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

/// Fetches every task due in the queue until none is left (or `stop` is
/// set), and returns what was done.
pub fn run(store: &Store, source: Arc<dyn PriceSource>, opts: &WorkOptions, stop: &AtomicBool) -> Result<Summary> {
    let started = Instant::now();
    let mut summary = Summary { recovered: recover(store)?, ..Summary::default() };
    if store.pending()? == 0 {
        summary.elapsed = started.elapsed();
        return Ok(summary);
    }
    // One cheap request first: a server that is not there is one clear
    // error, not thousands of failed tasks.
    if let Err(FetchError::Unreachable(e)) = source.exchanges() {
        bail!("cannot reach the price server: {e}. Is it running? `pricequeue serve` starts one");
    }

    let workers = opts.workers.max(1);
    let (job_tx, job_rx) = crossbeam_channel::unbounded::<Task>();
    let (done_tx, done_rx) = crossbeam_channel::unbounded::<Completion>();
    let shared = Arc::new(Shared {
        paused_until: AtomicI64::new(0),
        stopping: AtomicBool::new(false),
        unreachable_streak: AtomicU32::new(0),
    });
    let mut handles = Vec::with_capacity(workers);
    for i in 0..workers {
        let fetcher = Fetcher {
            source: Arc::clone(&source),
            shared: Arc::clone(&shared),
            opts: opts.clone(),
            jobs: job_rx.clone(),
            done: done_tx.clone(),
        };
        handles.push(
            thread::Builder::new().name(format!("fetch-{i}")).stack_size(256 * 1024).spawn(move || fetcher.run())?,
        );
    }
    drop(done_tx);
    drop(job_rx);

    let result = Coordinator {
        store,
        opts,
        server: source.server().to_string(),
        owner: owner::this_process(),
        job_tx,
        done_rx,
        shared: &shared,
        summary: &mut summary,
        last_error: None,
    }
    .run(stop);
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
/// process on this host, otherwise when the lease has run out.
fn recover(store: &Store) -> Result<u64> {
    let mut n = store.recover_expired(now_ms())? as u64;
    for (holder, _) in store.owners()? {
        if owner::provably_dead(&holder) {
            n += store.release_owner(&holder)? as u64;
        }
    }
    Ok(n)
}

struct Coordinator<'a> {
    store: &'a Store,
    opts: &'a WorkOptions,
    /// The price server, as `server_pauses` names it.
    server: String,
    owner: &'static str,
    job_tx: Sender<Task>,
    done_rx: Receiver<Completion>,
    shared: &'a Shared,
    summary: &'a mut Summary,
    /// The error of the last failed attempt, for the message if the server is lost.
    last_error: Option<String>,
}

impl Coordinator<'_> {
    fn run(mut self, stop: &AtomicBool) -> Result<()> {
        let workers = self.opts.workers.max(1);
        // Keep every fetcher busy with a task waiting behind it, but claim
        // no more than that, so other processes on the same queue get work.
        let target = workers * 2;
        // So many connection failures in a row, and the server is gone:
        // better one error now than every task failed after its retries.
        let lost_after = (workers as u32 * 2).max(20);
        let lease_ms = self.opts.lease.as_millis() as i64;
        let mut outstanding = 0usize;
        let mut last_renewal = Instant::now();
        let mut pause_saved = 0i64;
        let mut lost = false;
        let mut batch = Vec::new();
        loop {
            let stopping = stop.load(Ordering::Relaxed) || lost;
            if stopping && !self.shared.stopping.swap(true, Ordering::Relaxed) {
                self.summary.interrupted = !lost;
            }
            if !stopping && outstanding <= target / 2 {
                // A pause another process recorded holds for us too.
                if let Some(until) = self.store.pause(&self.server)? {
                    self.shared.paused_until.fetch_max(until, Ordering::Relaxed);
                    pause_saved = pause_saved.max(until);
                }
                let now = now_ms();
                let claimed = self.store.claim(self.owner, target - outstanding, now, now + lease_ms)?;
                outstanding += claimed.len();
                for task in claimed {
                    // Cannot fail: the fetchers hold the receiver until we drop job_tx.
                    let _ = self.job_tx.send(task);
                }
            }
            if outstanding == 0 {
                if lost {
                    bail!(
                        "lost the price server at {}: {} requests in a row could not connect (last: {}). \
                         Run the same command again when it is back",
                        self.server,
                        self.shared.unreachable_streak.load(Ordering::Relaxed),
                        self.last_error.as_deref().unwrap_or("no error recorded")
                    );
                }
                if stopping {
                    return Ok(());
                }
                self.summary.recovered += recover(self.store)?;
                match self.store.next_wakeup()? {
                    None => return Ok(()),
                    Some(at) => sleep_until(at, stop),
                }
                continue;
            }

            // Wait for one result, then take all that are ready: one commit for the lot.
            match self.done_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(c) => batch.push(c),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    bail!("every fetcher thread stopped unexpectedly")
                }
            }
            batch.extend(self.done_rx.try_iter().take(4096));
            if !batch.is_empty() {
                self.store.complete(&batch)?;
                outstanding -= batch.len();
                for c in batch.drain(..) {
                    self.tally(c.outcome);
                }
            }
            let paused = self.shared.paused_until.load(Ordering::Relaxed);
            if paused > pause_saved {
                self.store.set_pause(&self.server, paused)?;
                pause_saved = paused;
            }
            if last_renewal.elapsed() >= self.opts.lease / 4 {
                self.store.renew(self.owner, now_ms() + lease_ms)?;
                last_renewal = Instant::now();
            }
            lost = lost || self.shared.unreachable_streak.load(Ordering::Relaxed) >= lost_after;
        }
    }

    fn tally(&mut self, outcome: Outcome) {
        let s = &mut *self.summary;
        match outcome {
            Outcome::Price(_) => s.fetched += 1,
            Outcome::NoData => s.no_data += 1,
            Outcome::Failed { error } => {
                s.failed += 1;
                self.last_error = Some(error);
            }
            Outcome::Retry { error, .. } => {
                s.retried += 1;
                self.last_error = Some(error);
            }
            Outcome::Released => {}
        }
    }
}

struct Fetcher {
    source: Arc<dyn PriceSource>,
    shared: Arc<Shared>,
    opts: WorkOptions,
    jobs: Receiver<Task>,
    done: Sender<Completion>,
}

impl Fetcher {
    fn run(self) {
        for task in self.jobs.iter() {
            let outcome = if self.shared.stopping.load(Ordering::Relaxed) || !self.wait_for_pause() {
                Outcome::Released
            } else {
                self.fetch(&task)
            };
            if self.done.send(Completion { task, outcome }).is_err() {
                return;
            }
        }
    }

    /// Honours a server's Retry-After; false if the run stops meanwhile.
    fn wait_for_pause(&self) -> bool {
        loop {
            let wait = self.shared.paused_until.load(Ordering::Relaxed) - now_ms();
            if wait <= 0 {
                return true;
            }
            if self.shared.stopping.load(Ordering::Relaxed) {
                return false;
            }
            thread::sleep(Duration::from_millis(wait.min(100) as u64));
        }
    }

    fn fetch(&self, task: &Task) -> Outcome {
        let result = self.source.price(&task.exchange, &task.symbol, task.day);
        let streak = &self.shared.unreachable_streak;
        match &result {
            Err(FetchError::Unreachable(_)) => streak.fetch_add(1, Ordering::Relaxed),
            _ => streak.swap(0, Ordering::Relaxed),
        };
        let error = match result {
            Ok(Some(price)) => return Outcome::Price(price),
            Ok(None) => return Outcome::NoData,
            Err(FetchError::Permanent(e)) => return Outcome::Failed { error: e },
            Err(e) => e,
        };
        let attempt = task.attempts + 1;
        if attempt >= self.opts.max_attempts {
            return Outcome::Failed { error: format!("{error} (gave up after {attempt} attempts)") };
        }
        let mut delay = backoff(self.opts.retry_delay, self.opts.max_retry_delay, task.attempts);
        if let FetchError::RateLimited { retry_after, .. } = &error {
            // Every worker holds off, not just this one; the coordinator
            // records the pause for other processes.
            delay = retry_after.unwrap_or(delay);
            let until = now_ms() + delay.as_millis() as i64;
            self.shared.paused_until.fetch_max(until, Ordering::Relaxed);
        }
        Outcome::Retry { error: error.to_string(), at: now_ms() + delay.as_millis() as i64 }
    }
}

/// Exponential backoff with "equal jitter": half the delay is fixed, half
/// random, so retries of tasks that failed together spread out.
pub fn backoff(base: Duration, max: Duration, attempts_before: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts_before.min(20)).min(max);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// Sleeps until `at` (ms since epoch), at most a second, waking early on stop.
fn sleep_until(at: i64, stop: &AtomicBool) {
    let deadline = Instant::now() + Duration::from_millis((at - now_ms()).clamp(0, 1000) as u64);
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        thread::sleep(Duration::from_millis(20).min(deadline.saturating_duration_since(Instant::now())));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        let (base, max) = (Duration::from_millis(100), Duration::from_secs(1));
        for attempts in 0..3u32 {
            let full = Duration::from_millis(100 << attempts);
            for _ in 0..50 {
                let d = backoff(base, max, attempts);
                assert!(d >= full / 2 && d <= full, "attempt {attempts}: {d:?}");
            }
        }
        for _ in 0..50 {
            let d = backoff(base, max, 30);
            assert!(d >= max / 2 && d <= max, "{d:?}");
        }
    }
}
