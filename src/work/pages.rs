//! The requests for a batch below a day: its days are one range of slots,
//! asked from the first slot not yet settled, at most `max_rows` slots a
//! request, page after page across day boundaries. A slot an answer did
//! not prove is asked once more (in the next page, which starts at it);
//! each day's outcome goes to the coordinator as soon as every slot of the
//! day is settled, so a run stopped mid-batch loses at most the pages in
//! flight.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::fetcher::Fetcher;
use super::slots::{show_slots, Day, Slot};
use super::{Lane, SlotRequest};
use crate::clock::{self, now_ms};
use crate::source::{FetchError, SlotAnswer};
use crate::store::{Completion, Outcome, RetryPolicy, Task};

/// Requests one batch may make beyond the fewest that cover its slots:
/// slots asked once more, pages a source cut shorter than `max_rows`.
/// Past it, the days left are retried later like any transient failure.
const MAX_EXTRA: usize = 8;

/// How many slots a page of a source capping rows (`cap = "rows"`) names,
/// in pages: enough that its `max_rows` candles fill it past the quiet
/// minutes and maintenance hours between them (a page only fills fewer
/// where more than this many pages' slots in a row have none), few enough
/// that an answer says what it says of each slot in a few thousand.
const ROWS_REACH: i64 = 4;

impl Fetcher {
    /// Fetches a batch of days (of one pair, at one interval below a day):
    /// hands each day's outcome on as soon as it is settled, and the ids of
    /// the tasks handed on to `sent` (a panic then loses none of the rest).
    pub(super) fn fetch_candles(&self, lane: &Lane, mut tasks: Vec<Task>, sent: &mut Vec<i64>) {
        tasks.sort_by_key(|t| t.day);
        let interval = tasks[0].interval;
        let (exchange, symbol) = (tasks[0].exchange.clone(), tasks[0].symbol.clone());
        let name = lane.source.name();
        // Slots from the one still open now on are not asked: they are today's, to be asked once closed.
        let open = interval.slot_of_ms(now_ms());
        let mut days: Vec<Day> = tasks.into_iter().map(|t| Day::new(t, open)).collect();
        let rows = i64::from(lane.source.max_rows(interval).max(1));
        let wanted: usize = days.iter().map(|d| d.slots.iter().filter(|s| **s == Slot::Ask).count()).sum();
        let budget = wanted.div_ceil(rows as usize) + MAX_EXTRA;
        let mut requests = 0;
        if !self.hand_on(self.settled(lane, &mut days), sent) {
            return;
        }
        while let Some((first, end)) = unsettled(&days) {
            let by_rows = lane.source.caps_rows(interval);
            let (from, last, proving) = page(&days, first, end, rows, open, by_rows);
            if requests >= budget {
                let why = format!(
                    "{name} answered {requests} requests without reaching {}; asked again later",
                    show_slots(interval, first, first)
                );
                let left = self.all_retry(unsent(&mut days), why);
                self.hand_on(left, sent);
                return;
            }
            if self.shared.stopping.load(Ordering::Relaxed) || !self.wait_for_turn(lane) {
                let left = unsent(&mut days).into_iter().map(|task| Completion { task, outcome: Outcome::Released });
                self.hand_on(left.collect(), sent);
                return;
            }
            let started = Instant::now();
            let result = lane.source.fetch_slots(&exchange, &symbol, interval, from, last);
            lane.requests.fetch_add(1, Ordering::Relaxed);
            requests += 1;
            let streak = &lane.unreachable_streak;
            match &result {
                Err(FetchError::Unreachable(_) | FetchError::UnknownHost(_)) => streak.fetch_add(1, Ordering::Relaxed),
                _ => streak.swap(0, Ordering::Relaxed),
            };
            let mut asked = SlotRequest { source: name, symbol: &symbol, interval, first: from, last, candles: 0 };
            let done = match result {
                Err(e) => self.failed_request(lane, &mut days, e),
                Ok(answer) => {
                    let (moved, candles) = self.take_answer(lane, &mut days, answer, proving);
                    asked.candles = candles;
                    if moved == 0 {
                        // Nothing settled and nothing to ask once more:
                        // asking the same again would get the same.
                        let range = show_slots(interval, from, last);
                        let why = format!("{name} sent no {interval} candle for {range}; asked again later");
                        self.all_retry(unsent(&mut days), why)
                    } else {
                        self.settled(lane, &mut days)
                    }
                }
            };
            self.observer.candles(&asked, &done, started.elapsed());
            if !self.hand_on(done, sent) {
                return;
            }
        }
    }

    /// Sends outcomes to the coordinator, noting their tasks in `sent`;
    /// false if the coordinator is gone.
    fn hand_on(&self, done: Vec<Completion>, sent: &mut Vec<i64>) -> bool {
        if done.is_empty() {
            return true;
        }
        sent.extend(done.iter().map(|c| c.task.id));
        self.done.send(done).is_ok()
    }

    /// What a failed request makes of every day not handed on yet: one
    /// outcome for all of them, asked again together.
    fn failed_request(&self, lane: &Lane, days: &mut [Day], e: FetchError) -> Vec<Completion> {
        let tasks = unsent(days);
        let outcome = self.outcome_of_error(lane, &tasks[0], e);
        tasks
            .into_iter()
            .map(|task| {
                let outcome = match &outcome {
                    Outcome::Retry { error, at } => self.again(&task, error.clone(), *at),
                    outcome => outcome.clone(),
                };
                Completion { task, outcome }
            })
            .collect()
    }

    /// Takes an answer's slots into the days they fall in; returns how
    /// many slots moved on, and how many candles came.
    fn take_answer(&self, lane: &Lane, days: &mut [Day], answer: SlotAnswer, proving: bool) -> (usize, usize) {
        lane.pause_streak.store(0, Ordering::Relaxed);
        if let Some(wait) = answer.slow_down {
            // Near the source's limit: everyone on it holds off, nobody fails.
            lane.paused_until.fetch_max(clock::after(now_ms(), wait), Ordering::Relaxed);
        }
        let (mut moved, mut candles) = (0, 0);
        let mut at = 0;
        for (slot, said) in answer.slots {
            while at < days.len() && days[at].first + days[at].slots.len() as i64 <= slot {
                at += 1;
            }
            let Some(day) = days.get_mut(at).filter(|d| !d.sent && slot >= d.first) else {
                continue;
            };
            let price = matches!(said, crate::source::DayAnswer::Price(_));
            if day.take(slot, said, proving) {
                moved += 1;
                candles += usize::from(price);
            }
        }
        (moved, candles)
    }

    /// The outcomes of the days now settled and not handed on yet, which
    /// are then marked handed on.
    fn settled(&self, lane: &Lane, days: &mut [Day]) -> Vec<Completion> {
        let now = now_ms();
        let mut retry_at = None;
        let mut done = Vec::new();
        for day in days.iter_mut().filter(|d| !d.sent && d.settled()) {
            day.sent = true;
            let outcome = self.outcome(lane, day, now, &mut retry_at);
            done.push(Completion { task: day.task.clone(), outcome });
        }
        done
    }

    /// What a settled day comes to. Days not shown by a second asking are
    /// retried at one time (`retry_at`), so that they are asked together.
    fn outcome(&self, lane: &Lane, day: &mut Day, now: i64, retry_at: &mut Option<i64>) -> Outcome {
        let (name, interval) = (lane.source.name(), day.task.interval);
        if let Some(why) = day.refused.take() {
            let (a, b) = day.span_of(|s| s == Slot::Refused).unwrap_or((day.first, day.first));
            return Outcome::Failed {
                error: format!("{name}'s {interval} candles of {}: {why}", show_slots(interval, a, b)),
            };
        }
        let open = day.span_of(|s| s == Slot::Open).map(|(open, _)| open);
        if let Some(open) = open {
            // Quiet candles just before the one still open have no row
            // after them yet: nothing proves them either way until the
            // next closes, so they wait with it.
            let mut s = open;
            while s > day.first && day.slots[(s - 1 - day.first) as usize] == Slot::Unshown {
                s -= 1;
                day.slots[(s - day.first) as usize] = Slot::Open;
            }
        }
        if let Some((a, b)) = day.span_of(|s| s == Slot::Unshown) {
            let why = day.lacking.take().unwrap_or_default();
            let error = format!(
                "{name} was asked twice for the {interval} candles of {} and its answers did not show them \
                 ({why}): nothing proves they have no candle; asked again later",
                show_slots(interval, a, b)
            );
            let at = *retry_at.get_or_insert_with(|| {
                let delay = super::backoff(self.opts.retry_delay, self.opts.max_retry_delay, day.task.attempts);
                clock::after(now, delay)
            });
            return self.again(&day.task, error, at);
        }
        if day.slots.contains(&Slot::Outside) {
            // A day the source cannot serve whole is outside its history,
            // even where its window starts inside the day; the candles it
            // still has of it are kept.
            let mut candles = std::mem::take(&mut day.candles);
            candles.sort_by_key(|c| c.minute);
            return match candles.is_empty() {
                true => Outcome::OutsideHistory,
                false => Outcome::PartlyOutside(candles),
            };
        }
        let mut candles = std::mem::take(&mut day.candles);
        candles.sort_by_key(|c| c.minute);
        if let Some(open) = open {
            return self.so_far(&day.task, open, candles, now);
        }
        if candles.is_empty() {
            return self.no_price(&day.task);
        }
        Outcome::Candles(candles)
    }

    /// A day whose slots from `open` on are not closed yet: its closed
    /// candles now, the rest once the next candle has closed and the grace
    /// passed. A source that still says a candle is open `--settle` after
    /// it closed is not final: the task fails as transient, never waiting for ever.
    fn so_far(&self, task: &Task, open: i64, candles: Vec<crate::price::Candle>, now: i64) -> Outcome {
        let interval = task.interval;
        let closes = interval.slot_start_ms(open + 1);
        if now >= clock::after(closes, self.opts.settle) {
            let error = format!(
                "{} still sends its {interval} candle of {} as not closed, more than --settle {} after it closed: \
                 its answer is not final",
                task.source,
                show_slots(interval, open, open),
                humantime::format_duration(self.opts.settle)
            );
            return RetryPolicy::round_over(error, task.rounds, now);
        }
        let mut at = clock::after(closes, self.opts.grace);
        if closes <= now {
            // Closed by our clock but not by the source's: one interval more.
            at = at.max(clock::after(now, Duration::from_millis(interval.ms() as u64)));
        }
        Outcome::CandlesSoFar { candles, at }
    }
}

/// The slots a page asks, `from..=last` (at most `rows` of them), for the
/// slots `first..=end` still to ask, and whether it can prove the slots
/// asked before in it. A slot is proven empty by rows on both sides of it
/// in one page, or by a page with no row at all; a quiet minute where a
/// page starts or stops has neither, so a slot asked before (`Cut`,
/// `Again`) is asked in a page made for it, from what the answers so far
/// showed of the quiet run it lies in:
/// - the candles on both sides known, within a page: a page of the run and
///   those two candles (proving);
/// - only the candle before known, the run short: a page from that candle
///   on (the pages carry on from there; not proving, as the run may end
///   past it);
/// - else a page inside the run, where no answer showed a row (proving).
///
/// A page of slots not asked yet reaches past `end` when it has room (a
/// margin, up to the candle still open now, `open`): rows after the last
/// slots prove the quiet ones, and the open candle's row (a source sends
/// it, not closed yet) those before it.
///
/// A source that caps the rows of an answer, not the slots of a request
/// (`by_rows`), is asked from where the last page stopped for
/// [`ROWS_REACH`] times `rows` slots: its answer holds `rows` candles
/// however many quiet minutes lie between them, and starting at the last
/// candle seen (one row asked twice) proves the quiet minutes where a page
/// stops too.
fn page(days: &[Day], first: i64, end: i64, rows: i64, open: i64, by_rows: bool) -> (i64, i64, bool) {
    let margin = (rows / 4).max(1);
    let reach = if by_rows { ROWS_REACH * rows } else { rows };
    let ahead = |from: i64| (from + reach - 1).min(end + margin).min(open);
    let candle = |s: i64| state_at(days, s) == Some(Slot::Candle);
    match state_at(days, first) {
        Some(Slot::Ask) => return (first, ahead(first), false),
        Some(Slot::Cut) if by_rows && candle(first - 1) => return (first - 1, ahead(first - 1), false),
        _ => {}
    }
    let quiet = |s: i64| matches!(state_at(days, s), Some(Slot::Cut | Slot::Again | Slot::Empty | Slot::Unshown));
    let (mut q1, mut q2) = (first, first);
    while q1 > first - rows && quiet(q1 - 1) {
        q1 -= 1;
    }
    while q2 < first + rows && quiet(q2 + 1) {
        q2 += 1;
    }
    let (before, after) = (candle(q1 - 1), candle(q2 + 1));
    if before && after && q2 + 2 - q1 < rows {
        (q1 - 1, q2 + 1, true)
    } else if before && !after && q2 + 2 - q1 < rows {
        (q1 - 1, ahead(q1 - 1), false)
    } else {
        (first, q2.min(first + rows - 1), true)
    }
}

/// What is known of slot `slot`, if it is one of the batch's.
fn state_at(days: &[Day], slot: i64) -> Option<Slot> {
    let at = days.partition_point(|d| d.first + d.slots.len() as i64 <= slot);
    let day = days.get(at).filter(|d| slot >= d.first)?;
    day.slots.get((slot - day.first) as usize).copied()
}

/// The first slot still to ask, and the last, of the days not handed on.
fn unsettled(days: &[Day]) -> Option<(i64, i64)> {
    let mut open = days.iter().filter(|d| !d.sent).filter_map(|d| d.span_of(Slot::unsettled));
    let (first, mut last) = open.next()?;
    for (_, b) in open {
        last = b;
    }
    Some((first, last))
}

/// The tasks of the days not handed on yet, which are then marked handed on.
fn unsent(days: &mut [Day]) -> Vec<Task> {
    days.iter_mut()
        .filter(|d| !d.sent)
        .map(|d| {
            d.sent = true;
            d.task.clone()
        })
        .collect()
}
