//! The coordinator: claims tasks, hands them out, commits what comes back,
//! renews leases, and decides when the run is over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::batches::{batch_days, batches};
use super::{recover, sleep_until, too_long, Batch, Lane, Observer, Shared, Summary, WorkOptions};
use crate::clock::{self, now_ms};
use crate::owner;
use crate::store::{Completion, Store};

/// How long a result may wait for others to share its commit.
const GROUP_COMMIT: Duration = Duration::from_millis(5);
/// The most results one commit takes.
const MAX_COMMIT: usize = 1024;

/// How often another process's recorded pause is looked up.
const PAUSE_POLL: Duration = Duration::from_millis(100);

pub(super) struct Coordinator<'a> {
    store: &'a Store,
    opts: &'a WorkOptions,
    owner: &'static str,
    task_tx: Sender<Batch>,
    done_rx: Receiver<Vec<Completion>>,
    shared: &'a Shared,
    summary: &'a mut Summary,
    /// The sources of the run by name, as the claims' filter names them.
    names: Vec<String>,
    /// The error of the last failed attempt, for the message if the server is lost.
    last_error: Option<String>,
    /// Per lane: the latest pause known (ours or another process's), ms since epoch.
    pause_known: Vec<i64>,
    pause_polled: Option<Instant>,
    /// Tasks claimed and not yet committed: with the fetchers, or waiting.
    outstanding: usize,
    /// How many results a turn of the loop gathers, recently (the largest
    /// lately, decaying): what the fetchers finish while one claim and one
    /// commit are made.
    pace: usize,
    /// Results received, waiting for their commit.
    received: Vec<Completion>,
    /// The last batch of a claim that had more tasks behind it, held back
    /// until the next claim brings the rest of its days: cut at a claim's
    /// edge, a batch would cost one more request.
    tail: Option<Batch>,
    /// Why the run must end early, leaving the rest queued.
    halt: Option<String>,
    last_renewal: Instant,
    /// A deadline too far to represent is no deadline.
    deadline: Option<Instant>,
}

impl<'a> Coordinator<'a> {
    pub fn new(
        store: &'a Store,
        opts: &'a WorkOptions,
        task_tx: Sender<Batch>,
        done_rx: Receiver<Vec<Completion>>,
        shared: &'a Shared,
        summary: &'a mut Summary,
    ) -> Self {
        Coordinator {
            store,
            opts,
            owner: owner::this_process(),
            task_tx,
            done_rx,
            shared,
            summary,
            names: shared.lanes.iter().map(|l| l.source.name().to_string()).collect(),
            last_error: None,
            pause_known: vec![0; shared.lanes.len()],
            pause_polled: None,
            outstanding: 0,
            pace: 0,
            received: Vec::new(),
            tail: None,
            halt: None,
            last_renewal: Instant::now(),
            deadline: opts.deadline.and_then(|d| Instant::now().checked_add(d)),
        }
    }

    /// Runs until the queue has nothing due, or the run must stop: each
    /// turn claims, gathers results, commits them, renews the leases, and
    /// checks that the server is still there.
    pub fn run(mut self, stop: &AtomicBool, observer: &dyn Observer, total: u64) -> Result<()> {
        loop {
            let stopping = self.stopping(stop);
            if self.halt.is_none() {
                self.halt = self.sync_pause(observer)?;
            }
            if !stopping {
                self.top_up()?;
            } else if let Some(tail) = self.tail.take() {
                // Handed out to be handed back: the fetchers release it.
                let _ = self.task_tx.send(tail);
            }
            if self.outstanding == 0 {
                if self.idle(stopping, stop)? {
                    return Ok(());
                }
                continue;
            }
            self.refill_slots()?;
            self.gather()?;
            self.commit(observer, total)?;
            self.renew()?;
            self.check_server();
        }
    }

    /// Whether the run is stopping (Ctrl-C, the deadline, or a halt), and
    /// tells the fetchers the first time.
    fn stopping(&mut self, stop: &AtomicBool) -> bool {
        let late = self.deadline.is_some_and(|d| Instant::now() >= d);
        let stopping = stop.load(Ordering::Relaxed) || self.halt.is_some() || late;
        if stopping && !self.shared.stopping.swap(true, Ordering::Relaxed) {
            self.summary.deadline_reached = late;
            self.summary.interrupted = self.halt.is_none() && !late;
        }
        stopping
    }

    /// Keeps every fetcher busy with batches waiting behind it: one each, or
    /// twice what they finish in a turn of the loop if that is more (a
    /// database whose claims and commits take longer, or faster fetches,
    /// need a deeper queue), but no more, so other processes on the same
    /// queue get work. Counted in tasks: a batch of a source that serves many
    /// days per request counts its days. Tops up once a quarter of that
    /// has been used: claims take many tasks at once, and fetchers never run dry
    /// while a commit gathers.
    fn top_up(&mut self) -> Result<()> {
        let workers = self.opts.workers.max(1);
        let per_run = self.per_batch();
        let target = workers * per_run + (workers * per_run).max(2 * self.pace).min(MAX_COMMIT * per_run);
        if self.outstanding > target - (target / 4).max(1) {
            return Ok(());
        }
        let now = now_ms();
        let lease_until = now.saturating_add(clock::ms(self.opts.lease));
        let limit = target - self.outstanding;
        let claimed = self.store.claim(self.owner, limit, now, lease_until, &self.names, self.opts.within.as_ref())?;
        self.outstanding += claimed.len();
        let more = claimed.len() == limit;
        let mut tasks = self.tail.take().map(|j| j.tasks).unwrap_or_default();
        tasks.extend(claimed);
        let mut batches = batches(tasks, &self.shared.lanes);
        if more {
            let short = batches.last().is_some_and(|j| {
                let span = (j.tasks[j.tasks.len() - 1].day - j.tasks[0].day).num_days() + 1;
                span < batch_days(self.shared.lanes[j.lane].source.as_ref(), j.tasks[0].interval)
            });
            if short {
                self.tail = batches.pop();
            }
        }
        for batch in batches {
            // Cannot fail: the fetchers hold the receiver until we drop task_tx.
            let _ = self.task_tx.send(batch);
        }
        Ok(())
    }

    /// The most days a batch of this run may span: at the selection's
    /// interval (`fetch`), or at any interval its sources serve (`work`).
    fn per_batch(&self) -> usize {
        let within = self.opts.within.as_ref().map(|sel| sel.interval);
        let lanes = self.shared.lanes.iter();
        let days = lanes.flat_map(|l| {
            let intervals = within.map_or_else(|| l.source.intervals(), |i| vec![i]);
            intervals.into_iter().map(|i| batch_days(l.source.as_ref(), i))
        });
        days.max().unwrap_or(1).max(1) as usize
    }

    /// Nothing is out: ends the run (true) when stopping or when nothing is
    /// due any more; otherwise takes back what dead runs left, and sleeps
    /// until the next task comes due (at most a second).
    fn idle(&mut self, stopping: bool, stop: &AtomicBool) -> Result<bool> {
        if let Some(why) = self.halt.take() {
            bail!(why);
        }
        if stopping {
            // A deadline that came as the last task finished left nothing behind.
            if self.summary.deadline_reached && !self.store.has_pending(Some(&self.names), self.opts.within.as_ref())? {
                self.summary.deadline_reached = false;
            }
            return Ok(true);
        }
        self.summary.recovered += recover(self.store)?;
        match self.store.next_wakeup(Some(&self.names), self.opts.within.as_ref())? {
            None => Ok(true),
            Some(at) => {
                // At most a second: other processes may queue work meanwhile.
                sleep_until(at.min(now_ms().saturating_add(1000)), stop);
                Ok(false)
            }
        }
    }

    /// Group commit: waits for one result, then gathers what arrives in
    /// the next few milliseconds (fetchers have queued tasks to go on with
    /// meanwhile), so that one transaction commits the lot.
    fn gather(&mut self) -> Result<()> {
        match self.done_rx.recv_timeout(Duration::from_millis(100)) {
            Ok(c) => self.received.extend(c),
            Err(RecvTimeoutError::Timeout) => return Ok(()),
            Err(RecvTimeoutError::Disconnected) => bail!("every fetcher thread stopped unexpectedly"),
        }
        let deadline = Instant::now() + GROUP_COMMIT;
        // A batch's results come together, and commit together.
        while self.received.len() < self.outstanding.min(MAX_COMMIT) {
            match self.done_rx.recv_deadline(deadline) {
                Ok(c) => self.received.extend(c),
                Err(_) => break,
            }
        }
        Ok(())
    }

    /// Writes the gathered results in one transaction, and counts them.
    fn commit(&mut self, observer: &dyn Observer, total: u64) -> Result<()> {
        if self.received.is_empty() {
            return Ok(());
        }
        let applied = self.store.complete(&self.received)?;
        self.outstanding -= self.received.len();
        self.pace = self.received.len().max(self.pace * 7 / 8);
        let received = std::mem::take(&mut self.received);
        for (c, applied) in received.into_iter().zip(applied) {
            if applied {
                self.summary.by_source(&c.task, &c.outcome);
                if let Some(error) = self.summary.tally(c.outcome) {
                    self.last_error = Some(error);
                }
            } else {
                self.summary.discarded += 1;
            }
        }
        observer.progress(self.summary, total);
        Ok(())
    }

    /// Extends this run's leases a few times per lease, while it works.
    fn renew(&mut self) -> Result<()> {
        if self.last_renewal.elapsed() >= self.opts.lease / 4 {
            self.store.renew(self.owner, now_ms().saturating_add(clock::ms(self.opts.lease)))?;
            self.last_renewal = Instant::now();
        }
        Ok(())
    }

    /// So many connection failures in a row, and the server is gone:
    /// better one error now than every task failed after its retries.
    fn check_server(&mut self) {
        let lost_after = (self.opts.workers.max(1) as u32 * 2).max(20);
        for lane in &self.shared.lanes {
            let streak = lane.unreachable_streak.load(Ordering::Relaxed);
            if self.halt.is_none() && streak >= lost_after {
                self.halt = Some(format!(
                    "lost the price server at {}: {streak} requests in a row could not connect (last: {}). \
                     Run the same command again when it is back",
                    lane.source.server(),
                    self.last_error.as_deref().unwrap_or("no error recorded")
                ));
            }
        }
    }

    /// Merges each lane's pause with the one other processes recorded,
    /// records ours, and says when one starts. Returns why the run must
    /// stop if a source wants longer than `--max-pause`.
    fn sync_pause(&mut self, observer: &dyn Observer) -> Result<Option<String>> {
        let poll = self.pause_polled.is_none_or(|t| t.elapsed() >= PAUSE_POLL);
        if poll {
            self.pause_polled = Some(Instant::now());
        }
        for (i, lane) in self.shared.lanes.iter().enumerate() {
            if let Some(why) = self.sync_lane(i, lane, poll, observer)? {
                return Ok(Some(why));
            }
        }
        Ok(None)
    }

    fn sync_lane(&mut self, i: usize, lane: &Lane, poll: bool, observer: &dyn Observer) -> Result<Option<String>> {
        let ours = lane.paused_until.load(Ordering::Relaxed);
        let known = self.pause_known[i];
        if ours > known {
            // A pause our fetchers were just given: other processes must know at once.
            self.store.set_pause(&lane.key, ours)?;
        }
        let mut until = ours;
        if poll {
            until = until.max(self.store.pause(&lane.key)?.unwrap_or(0));
            lane.paused_until.fetch_max(until, Ordering::Relaxed);
        }
        if until <= known {
            return Ok(None);
        }
        let now = now_ms();
        let from = known.max(now);
        let max = self.opts.max_pause;
        let ahead = until.saturating_sub(now);
        let server = lane.source.server();
        if known <= now && until > now && ahead <= clock::ms(max) {
            let banned = lane.banned.swap(false, Ordering::Relaxed);
            let what = if banned { "banned this address (HTTP 418)" } else { "asked to slow down" };
            let name = lane.source.called();
            // Counted where it is said, so the summary's count is the lines'.
            self.summary.slowdowns += 1;
            observer.note(&format!(
                "{name} {what}: every worker on it waits {:.1} s, until {}",
                ahead as f64 / 1000.0,
                clock::show_secs(until)
            ));
        }
        self.summary.paused =
            self.summary.paused.saturating_add(Duration::from_millis(until.saturating_sub(from).max(0) as u64));
        self.pause_known[i] = until;
        if ahead > clock::ms(max) {
            return Ok(Some(too_long(server, until, max)));
        }
        if self.summary.paused > max {
            return Ok(Some(format!(
                "the price server at {server} kept asking to slow down: {} of pauses in this run, more than \
                 --max-pause; the tasks stay queued: run the same command again later",
                humantime::format_duration(Duration::from_secs(self.summary.paused.as_secs()))
            )));
        }
        Ok(None)
    }

    /// For each lane with a pace, keeps this run holding request slots for
    /// about the next half second (at least one): taken from the sequence
    /// every process on the database shares, so that together they keep
    /// to the pace.
    fn refill_slots(&mut self) -> Result<()> {
        for lane in &self.shared.lanes {
            let Some(interval) = lane.rate else { continue };
            let step = clock::ms(interval).max(1);
            let now = now_ms();
            let block = (500 / step).clamp(1, self.opts.workers.max(1) as i64) as u32;
            {
                let slots = lane.slots.lock().unwrap_or_else(|e| e.into_inner());
                if slots.back().is_some_and(|last| *last > now + 500) || slots.len() >= block as usize {
                    continue;
                }
            }
            // The lock is not held across the database write: fetchers go on
            // taking the slots they have. Only this thread adds slots.
            let first = self.store.reserve_slots(&lane.key, block, step, now)?;
            let mut slots = lane.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.extend((0..i64::from(block)).map(|i| first.saturating_add(i * step)));
            drop(slots);
            lane.slot_added.notify_all();
        }
        Ok(())
    }
}
