//! A fetcher thread: takes batches of claimed tasks off the channel, asks
//! their source for each batch in one request (and again for what an answer
//! left unproven, `stretch.rs`), and turns the answers into an outcome per
//! task for the coordinator.

use std::collections::VecDeque;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::slots;
use super::stretch::{self, Stretch};
use super::{Batch, Lane, Observer, Shared, WorkOptions};
use crate::clock::{self, now_ms};
use crate::source::{Answer, DayAnswer, FetchError, Unproven};
use crate::store::{Completion, Outcome, RetryPolicy, Task};

/// The shortest pause after a `Retry-After`, whatever the server said: a
/// server answering `Retry-After: 0` (or a date in the past) to every
/// request must not be asked again at once, over and over.
const MIN_PAUSE: Duration = Duration::from_secs(1);

/// The shortest pause after a limit that gives no time, whatever `--retry-delay`.
const MIN_BACKOFF: Duration = Duration::from_millis(10);

/// A "no price yet" for a recent day is asked again after this, doubling.
const RECHECK: Duration = Duration::from_secs(3600);

/// Requests one batch may make on from where a page stopped, at the end its
/// source cuts pages at, while each answer still moves on: pages a source
/// cut shorter than asked. Past it, the days left are retried later like
/// any transient failure.
const MAX_FOLLOW_UPS: usize = 8;

pub(super) struct Fetcher {
    pub shared: Arc<Shared>,
    pub opts: WorkOptions,
    pub batches: Receiver<Batch>,
    pub done: Sender<Vec<Completion>>,
    pub observer: Arc<dyn Observer>,
}

impl Fetcher {
    pub fn run(self) {
        for batch in self.batches.iter() {
            let lane = Arc::clone(&self.shared.lanes[batch.lane]);
            let mut results = Vec::with_capacity(batch.tasks.len());
            let mut due = Vec::with_capacity(batch.tasks.len());
            for task in batch.tasks {
                let at = slots::due_at(task.day, task.interval, self.opts.grace);
                if now_ms() < at {
                    // Queued before its day came due (by an older pricequeue,
                    // or `retry`): no request until it has.
                    results.push(Completion { task, outcome: Outcome::NotYet { note: None, at, asked: false } });
                } else {
                    due.push(task);
                }
            }
            if !due.is_empty() {
                // A panic must not lose the tasks: the coordinator waits for
                // an outcome of every task it handed out. Below a day, days
                // are handed on as they settle (`sent`), the rest here.
                let mut sent = Vec::new();
                let fetched = panic::catch_unwind(AssertUnwindSafe(|| {
                    if due[0].interval.is_day() {
                        self.fetch_batch(&lane, due.clone())
                    } else {
                        self.fetch_candles(&lane, due.clone(), &mut sent);
                        Vec::new()
                    }
                }));
                match fetched {
                    Ok(done) => results.extend(done),
                    Err(_) => results.extend(due.into_iter().filter(|t| !sent.contains(&t.id)).map(|task| {
                        let outcome = self.retry_or_fail(&task, "internal error: the fetcher panicked".into(), None);
                        Completion { task, outcome }
                    })),
                }
            }
            if !results.is_empty() && self.done.send(results).is_err() {
                return;
            }
        }
    }

    /// Fetches a batch of tasks (consecutive days of one pair): one request
    /// for all of them, then one for each stretch an answer left unproven
    /// (`stretch.rs`): on from where a capped page stopped, or once more.
    fn fetch_batch(&self, lane: &Lane, mut open: Vec<Task>) -> Vec<Completion> {
        open.sort_by_key(|t| t.day);
        let mut done = Vec::with_capacity(open.len());
        let mut todo = VecDeque::from([Stretch::first(open)]);
        let mut follow_ups = 0;
        while let Some(stretch) = todo.pop_front() {
            if self.shared.stopping.load(Ordering::Relaxed) || !self.wait_for_turn(lane) {
                let left = std::iter::once(stretch).chain(todo.drain(..)).flat_map(|s| s.tasks);
                done.extend(left.map(|task| Completion { task, outcome: Outcome::Released }));
                break;
            }
            let tasks = &stretch.tasks;
            let (first, last) = (tasks[0].day, tasks[tasks.len() - 1].day);
            let (exchange, symbol) = (tasks[0].exchange.clone(), tasks[0].symbol.clone());
            let started = Instant::now();
            let result = lane.source.fetch(&exchange, &symbol, first, last);
            lane.requests.fetch_add(1, Ordering::Relaxed);
            let before = done.len();
            let left = stretch::split(self.apply_answer(lane, result, stretch.tasks, &mut done), stretch.again);
            let name = lane.source.name();
            done.extend(left.outside.into_iter().map(|task| Completion { task, outcome: Outcome::OutsideHistory }));
            for (tasks, why) in left.unproven {
                let why = stretch::unshown(name, &tasks, &why);
                done.extend(self.all_retry(tasks, why));
            }
            for next in left.ask {
                follow_ups += usize::from(next.follows);
                if next.follows && follow_ups > MAX_FOLLOW_UPS {
                    let why = format!(
                        "{name} answered {follow_ups} requests without reaching {}; asked again later",
                        next.tasks[0].day
                    );
                    done.extend(self.all_retry(next.tasks, why));
                } else {
                    todo.push_back(next);
                }
            }
            self.observer.request(name, &done[before..], started.elapsed());
        }
        done
    }

    /// What one answer makes of a stretch's tasks: their outcomes go to
    /// `done`; the tasks it did not prove come back, each with its place in
    /// the stretch and why, to be asked again.
    fn apply_answer(
        &self,
        lane: &Lane,
        result: Result<Answer, FetchError>,
        open: Vec<Task>,
        done: &mut Vec<Completion>,
    ) -> Vec<(usize, Task, Unproven)> {
        let streak = &lane.unreachable_streak;
        match &result {
            Err(FetchError::Unreachable(_) | FetchError::UnknownHost(_)) => streak.fetch_add(1, Ordering::Relaxed),
            _ => streak.swap(0, Ordering::Relaxed),
        };
        let answer = match result {
            Ok(answer) => answer,
            Err(e) => {
                let outcome = self.outcome_of_error(lane, &open[0], e);
                done.extend(open.into_iter().map(|task| {
                    // One answer, one outcome: the batch is asked again
                    // together, at one time (one backoff, not a jitter of
                    // its own for each task, which would split the batch into
                    // many requests); each task's own attempts decide
                    // whether this was its last.
                    let outcome = match &outcome {
                        Outcome::Retry { error, at } => self.again(&task, error.clone(), *at),
                        outcome => outcome.clone(),
                    };
                    Completion { task, outcome }
                }));
                return Vec::new();
            }
        };
        lane.pause_streak.store(0, Ordering::Relaxed);
        if let Some(wait) = answer.slow_down {
            // Near the source's limit: everyone on it holds off, nobody fails.
            lane.paused_until.fetch_max(clock::after(now_ms(), wait), Ordering::Relaxed);
        }
        let before = done.len();
        let mut days = answer.days.into_iter().peekable();
        let mut left = Vec::new();
        for (at, task) in open.into_iter().enumerate() {
            while days.peek().is_some_and(|(d, _)| *d < task.day) {
                days.next();
            }
            let day = match days.peek() {
                Some((d, _)) if *d == task.day => days.next().map(|(_, a)| a),
                _ => None,
            };
            let outcome = match day.unwrap_or(DayAnswer::Unanswered(Unproven::Cut)) {
                DayAnswer::Price(price) => Outcome::Price(price),
                DayAnswer::NoData => self.no_price(&task),
                DayAnswer::NotClosed => self.not_closed(&task),
                DayAnswer::OutsideHistory => Outcome::OutsideHistory,
                DayAnswer::Refused(error) => Outcome::Failed { error },
                DayAnswer::Unanswered(why) => {
                    left.push((at, task, why));
                    continue;
                }
            };
            done.push(Completion { task, outcome });
        }
        // An answer that proved nothing and only says "ask on" is not
        // moving on: asking the same again would get the same.
        if done.len() == before && !left.is_empty() && left.iter().all(|(.., why)| *why == Unproven::Cut) {
            let (a, b) = (left[0].1.day, left[left.len() - 1].1.day);
            let why = format!("{} sent no answer for {a} to {b}; asked again later", lane.source.name());
            done.extend(self.all_retry(left.into_iter().map(|(_, task, _)| task).collect(), why));
            return Vec::new();
        }
        left
    }

    /// Every task of `tasks` queued again after a backoff (or failed after its last attempt).
    pub(super) fn all_retry(&self, tasks: Vec<Task>, why: String) -> Vec<Completion> {
        // One time for the batch, so that it is asked again whole.
        let attempts = tasks.first().map_or(0, |t| t.attempts);
        let delay = super::backoff(self.opts.retry_delay, self.opts.max_retry_delay, attempts);
        let at = clock::after(now_ms(), delay);
        tasks
            .into_iter()
            .map(|task| {
                let outcome = self.again(&task, why.clone(), at);
                Completion { task, outcome }
            })
            .collect()
    }

    /// What a failed request makes of the tasks it asked for: the same
    /// outcome for each (a permanent error, a pause asked for), or
    /// `Retry`: another attempt for all of them at `at`, which each task's
    /// own attempts turn into a retry, a cool-down or a failure (`again`).
    pub(super) fn outcome_of_error(&self, lane: &Lane, first: &Task, e: FetchError) -> Outcome {
        let backoff = || super::backoff(self.opts.retry_delay, self.opts.max_retry_delay, first.attempts);
        match e {
            FetchError::Permanent(error) => Outcome::Failed { error },
            FetchError::RateLimited { message, retry_after } => {
                // A limit (a status or a body, a time or none) is the
                // server's pace, not the task's failure: every worker on the
                // source holds off, for what it asked (a second at least) or
                // --retry-delay, doubling while it refuses; no attempt counts.
                // --max-pause (or --deadline) ends a run that only waits.
                let at = match retry_after {
                    Some(wait) => self.pause(lane, wait, MIN_PAUSE),
                    None => self.pause(lane, Duration::ZERO, self.opts.retry_delay.max(MIN_BACKOFF)),
                };
                Outcome::Defer { error: message, at }
            }
            FetchError::Banned { message, retry_after } => {
                // An IP ban: nobody asks this source again until it ends,
                // whatever else the run does (at least a minute when it
                // does not say how long).
                let at = self.pause(lane, retry_after.unwrap_or(Duration::from_secs(60)), MIN_PAUSE);
                lane.banned.store(true, Ordering::Relaxed);
                Outcome::Defer { error: message, at }
            }
            e => Outcome::Retry { error: e.to_string(), at: clock::after(now_ms(), backoff()) },
        }
    }

    /// Queues the task again at `at`; after its last attempt, it cools down
    /// until a later run, or fails for good after its last round.
    pub(super) fn again(&self, task: &Task, error: String, at: i64) -> Outcome {
        self.opts.retry_policy().transient(task.attempts, task.rounds, error, at, now_ms())
    }

    /// Pauses every worker of the lane for `asked`, at least `base`, and
    /// twice as long for each pause in a row the source asks for; returns
    /// when the pause ends (ms since the epoch).
    fn pause(&self, lane: &Lane, asked: Duration, base: Duration) -> i64 {
        let now = now_ms();
        // Answers to requests sent before the pause began do not make it longer.
        let streak = if lane.paused_until.load(Ordering::Relaxed) > now {
            lane.pause_streak.load(Ordering::Relaxed).max(1)
        } else {
            lane.pause_streak.fetch_add(1, Ordering::Relaxed) + 1
        };
        // Our own floor asks for no more than --max-pause: the pauses' sum ends the run.
        let cap = self.opts.max_retry_delay.min(self.opts.max_pause).max(base);
        let floor = base.saturating_mul(1 << (streak - 1).min(20)).min(cap);
        let at = clock::after(now, asked.max(floor));
        lane.paused_until.fetch_max(at, Ordering::Relaxed);
        at
    }

    /// No price for the day: no data, unless the day ended so recently
    /// that the source may not have published its price yet; then it is
    /// asked again later.
    pub(super) fn no_price(&self, task: &Task) -> Outcome {
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

    /// The day's candle is not closed yet: asked again once the day has ended and the grace passed (or in
    /// an hour); still not closed `--settle` after it, the task fails as transient: it never waits for ever.
    fn not_closed(&self, task: &Task) -> Outcome {
        let now = now_ms();
        let final_at = clock::after(clock::day_end(task.day), self.opts.settle);
        if now >= final_at {
            let settle = humantime::format_duration(self.opts.settle);
            let error = format!(
                "{} still sends {}'s candle as not closed, more than --settle {settle} after the day ended: \
                 its answer for the day is not final",
                task.source, task.day
            );
            return RetryPolicy::round_over(error, task.rounds, now);
        }
        let at = clock::due_at(task.day, self.opts.grace).max(clock::after(now, RECHECK)).min(final_at);
        Outcome::NotYet {
            note: Some(format!("the day's candle was not closed yet at {}", clock::show(now))),
            at,
            asked: true,
        }
    }

    /// Queues the task again after a backoff, or fails it after its last
    /// attempt: for good, since a panic is a bug no cool-down mends.
    fn retry_or_fail(&self, task: &Task, error: String, delay: Option<Duration>) -> Outcome {
        self.opts.retry_policy().for_good(task.attempts, error, || {
            let delay = delay
                .unwrap_or_else(|| super::backoff(self.opts.retry_delay, self.opts.max_retry_delay, task.attempts));
            clock::after(now_ms(), delay)
        })
    }
}
