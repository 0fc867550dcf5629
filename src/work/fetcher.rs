//! A fetcher thread: takes claimed tasks off the channel, asks the price
//! source, and turns the answer into an outcome for the coordinator.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use super::{Observer, Shared, WorkOptions};
use crate::source::{FetchError, PriceSource};
use crate::store::{now_ms, Completion, Outcome, Task};

pub(super) struct Fetcher {
    pub source: Arc<dyn PriceSource>,
    pub shared: Arc<Shared>,
    pub opts: WorkOptions,
    pub jobs: Receiver<Task>,
    pub done: Sender<Completion>,
    pub observer: Arc<dyn Observer>,
}

impl Fetcher {
    pub fn run(self) {
        for task in self.jobs.iter() {
            let outcome = if self.shared.stopping.load(Ordering::Relaxed) || !self.wait_for_pause() {
                Outcome::Released
            } else {
                // A panic must not lose the task: the coordinator waits for
                // an outcome of every task it handed out.
                let started = std::time::Instant::now();
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

    /// Honours a server's Retry-After; false if the run stops meanwhile.
    fn wait_for_pause(&self) -> bool {
        let mut waited = false;
        loop {
            let wait = self.shared.paused_until.load(Ordering::Relaxed) - now_ms();
            if wait <= 0 {
                break;
            }
            if self.shared.stopping.load(Ordering::Relaxed) {
                return false;
            }
            waited = true;
            thread::sleep(Duration::from_millis(wait.min(100) as u64));
        }
        if waited {
            // Spread the restart, or every worker asks at the same instant
            // and the server refuses them all again.
            thread::sleep(Duration::from_millis(fastrand::u64(..=250)));
        }
        true
    }

    fn fetch(&self, task: &Task) -> Outcome {
        let result = self.source.price(&task.exchange, &task.symbol, task.day);
        let streak = &self.shared.unreachable_streak;
        match &result {
            Err(FetchError::Unreachable(_)) => streak.fetch_add(1, Ordering::Relaxed),
            _ => streak.swap(0, Ordering::Relaxed),
        };
        match result {
            Ok(Some(price)) => Outcome::Price(price),
            Ok(None) => Outcome::NoData,
            Err(FetchError::Permanent(error)) => Outcome::Failed { error },
            Err(FetchError::RateLimited { message, retry_after: Some(wait) }) => {
                // The server said when: every worker holds off until then,
                // and the attempt does not count against the task.
                let at = now_ms() + wait.as_millis() as i64;
                self.shared.paused_until.fetch_max(at, Ordering::Relaxed);
                Outcome::Defer { error: message, at }
            }
            Err(e @ FetchError::RateLimited { retry_after: None, .. }) => {
                let delay = backoff(self.opts.retry_delay, self.opts.max_retry_delay, task.attempts);
                // The server is overloaded: everyone backs off, not just us.
                self.shared.paused_until.fetch_max(now_ms() + delay.as_millis() as i64, Ordering::Relaxed);
                self.retry_or_fail(task, e.to_string(), Some(delay))
            }
            Err(e) => self.retry_or_fail(task, e.to_string(), None),
        }
    }

    /// Queues the task again after a backoff, or fails it after its last attempt.
    fn retry_or_fail(&self, task: &Task, error: String, delay: Option<Duration>) -> Outcome {
        let attempt = task.attempts + 1;
        if attempt >= self.opts.max_attempts {
            return Outcome::Failed { error: format!("{error} (gave up after {attempt} attempts)") };
        }
        let delay = delay.unwrap_or_else(|| backoff(self.opts.retry_delay, self.opts.max_retry_delay, task.attempts));
        Outcome::Retry { error, at: now_ms() + delay.as_millis() as i64 }
    }
}

/// Exponential backoff with "equal jitter": half the delay is fixed, half
/// random, so retries of tasks that failed together spread out.
pub fn backoff(base: Duration, max: Duration, attempts_before: u32) -> Duration {
    let exp = base.saturating_mul(1u32 << attempts_before.min(20)).min(max);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
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
