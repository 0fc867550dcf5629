//! A fetcher thread: takes claimed tasks off the channel, asks the price
//! source, and turns the answer into an outcome for the coordinator.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::{Observer, Shared, WorkOptions};
use crate::clock::{self, now_ms};
use crate::source::{FetchError, PriceSource};
use crate::store::{Completion, Outcome, Task};

/// The shortest pause after a `Retry-After`, whatever the server said: a
/// server answering `Retry-After: 0` (or a date in the past) to every
/// request must not be asked again at once, over and over.
const MIN_PAUSE: Duration = Duration::from_secs(1);

/// A "no price yet" for a recent day is asked again after this, doubling.
const RECHECK: Duration = Duration::from_secs(3600);

pub(super) struct Fetcher {
    pub source: Arc<dyn PriceSource>,
    pub shared: Arc<Shared>,
    pub opts: WorkOptions,
    pub tasks: Receiver<Task>,
    pub done: Sender<Completion>,
    pub observer: Arc<dyn Observer>,
}

impl Fetcher {
    pub fn run(self) {
        for task in self.tasks.iter() {
            let due = clock::due_at(task.day, self.opts.grace);
            let outcome = if self.shared.stopping.load(Ordering::Relaxed) {
                Outcome::Released
            } else if now_ms() < due {
                // Queued before its day came due (by an older pricequeue, or
                // `retry`): no request until it has.
                Outcome::NotYet { note: None, at: due, asked: false }
            } else if !self.wait_for_turn() {
                Outcome::Released
            } else {
                // A panic must not lose the task: the coordinator waits for
                // an outcome of every task it handed out.
                let started = Instant::now();
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| self.fetch(&task)))
                    .unwrap_or_else(|_| self.retry_or_fail(&task, "internal error: the fetcher panicked".into(), None));
                self.observer.request(&task, &outcome, started.elapsed());
                outcome
            };
            if self.done.send(Completion { task, outcome }).is_err() {
                return;
            }
        }
    }

    /// Waits out any pause the server asked for, then for a request slot
    /// when `--rate` is given; false if the run stops meanwhile.
    fn wait_for_turn(&self) -> bool {
        loop {
            if !self.wait_for_pause() {
                return false;
            }
            if self.opts.rate.is_some() && !self.take_slot() {
                return false;
            }
            // A pause may have begun while we waited for the slot.
            if self.shared.paused_until.load(Ordering::Relaxed) <= now_ms() {
                return true;
            }
        }
    }

    /// Honours a server's Retry-After; false if the run stops meanwhile.
    fn wait_for_pause(&self) -> bool {
        let mut waited = false;
        loop {
            let wait = self.shared.paused_until.load(Ordering::Relaxed).saturating_sub(now_ms());
            if wait <= 0 {
                if !waited {
                    return true;
                }
                // Spread the restart, or every worker asks at the same
                // instant and the server refuses them all again; then look
                // again, since the first to ask may have been refused.
                waited = false;
                thread::sleep(Duration::from_millis(fastrand::u64(..=250)));
                continue;
            }
            if self.shared.stopping.load(Ordering::Relaxed) {
                return false;
            }
            waited = true;
            thread::sleep(Duration::from_millis(wait.min(100) as u64));
        }
    }

    /// Takes the next request slot of this run and sleeps until it; false
    /// if the run stops meanwhile. A slot gone by more than a quarter of an
    /// interval is dropped, not used late: using it would bunch requests.
    /// So any second holds the slots of at most a second and a quarter
    /// interval: the rate, plus one.
    fn take_slot(&self) -> bool {
        let interval = self.opts.rate.map_or(0, clock::ms);
        let slot = {
            let mut slots = self.shared.slots.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let now = now_ms();
                while slots.front().is_some_and(|s| *s < now - interval / 4) {
                    slots.pop_front();
                }
                if let Some(slot) = slots.pop_front() {
                    break slot;
                }
                if self.shared.stopping.load(Ordering::Relaxed) {
                    return false;
                }
                slots = self
                    .shared
                    .slot_added
                    .wait_timeout(slots, Duration::from_millis(50))
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        };
        super::sleep_until(slot, &self.shared.stopping)
    }

    fn fetch(&self, task: &Task) -> Outcome {
        let result = self.source.fetch(&task.exchange, &task.symbol, task.day, task.day).map(|a| {
            match a.days.into_iter().next().map(|(_, d)| d) {
                Some(crate::source::DayAnswer::Price(p)) => Some(p),
                _ => None,
            }
        });
        let streak = &self.shared.unreachable_streak;
        match &result {
            Err(FetchError::Unreachable(_)) => streak.fetch_add(1, Ordering::Relaxed),
            _ => streak.swap(0, Ordering::Relaxed),
        };
        if result.is_ok() {
            self.shared.pause_streak.store(0, Ordering::Relaxed);
        }
        match result {
            Ok(Some(price)) => Outcome::Price(price),
            Ok(None) => self.no_price(task),
            Err(FetchError::Permanent(error)) => Outcome::Failed { error },
            Err(FetchError::RateLimited { message, retry_after: Some(wait) }) => {
                // The server said when: every worker holds off until then,
                // and the attempt does not count against the task. However
                // short it asks for, the pause is at least a second, doubling
                // while it keeps refusing: the total then reaches --max-pause.
                let at = self.pause(wait);
                Outcome::Defer { error: message, at }
            }
            Err(e @ FetchError::RateLimited { retry_after: None, .. }) => {
                let delay = super::backoff(self.opts.retry_delay, self.opts.max_retry_delay, task.attempts);
                // The server is overloaded: everyone backs off, not just us.
                // The attempt counts, so the task's own backoff bounds this.
                self.shared.paused_until.fetch_max(clock::after(now_ms(), delay), Ordering::Relaxed);
                self.retry_or_fail(task, e.to_string(), Some(delay))
            }
            Err(e) => self.retry_or_fail(task, e.to_string(), None),
        }
    }

    /// Pauses every worker for `asked`, or longer while the server keeps
    /// asking; returns when the pause ends (ms since the epoch).
    fn pause(&self, asked: Duration) -> i64 {
        let now = now_ms();
        let shared = &self.shared;
        // Answers to requests sent before the pause began do not make it longer.
        let streak = if shared.paused_until.load(Ordering::Relaxed) > now {
            shared.pause_streak.load(Ordering::Relaxed).max(1)
        } else {
            shared.pause_streak.fetch_add(1, Ordering::Relaxed) + 1
        };
        let floor = MIN_PAUSE.saturating_mul(1 << (streak - 1).min(6)).min(self.opts.max_retry_delay.max(MIN_PAUSE));
        let at = clock::after(now, asked.max(floor));
        shared.paused_until.fetch_max(at, Ordering::Relaxed);
        at
    }

    /// A `null`: no data, unless the day ended so recently that the server
    /// may not have published its price yet; then it is asked again later.
    fn no_price(&self, task: &Task) -> Outcome {
        let now = now_ms();
        let ended = clock::day_end(task.day);
        let final_at = clock::after(ended, self.opts.settle);
        if now >= final_at {
            return Outcome::NoData;
        }
        let again = clock::after(now, RECHECK.saturating_mul(1 << task.attempts.min(10))).min(final_at);
        Outcome::NotYet {
            note: Some(format!("the server had no price yet at {}", clock::show(now))),
            at: again,
            asked: true,
        }
    }

    /// Queues the task again after a backoff, or fails it after its last attempt.
    fn retry_or_fail(&self, task: &Task, error: String, delay: Option<Duration>) -> Outcome {
        let attempt = task.attempts + 1;
        if attempt >= self.opts.max_attempts {
            return Outcome::Failed { error: format!("{error} (gave up after {attempt} attempts)") };
        }
        let delay =
            delay.unwrap_or_else(|| super::backoff(self.opts.retry_delay, self.opts.max_retry_delay, task.attempts));
        Outcome::Retry { error, at: clock::after(now_ms(), delay) }
    }
}
