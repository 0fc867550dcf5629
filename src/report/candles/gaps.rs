//! What a day below `1d` lacks: its slots without a candle, in runs of
//! consecutive slots missing for one reason, and what the day as a whole
//! holds ([`Kind`]). Pure: the store's [`CandleDay`] in, runs out.
//!
//! A slot without a candle is missing for its day's reason, except that
//! - in a `done` day it is proven empty (`no data`): a task is done only
//!   once every slot of its day is settled, stored or shown empty by an
//!   answer that covers it (the rule of `source::prove`);
//! - a slot whose candle has not closed yet (today's) is `not yet due`,
//!   said "not yet closed", whatever its day's task is doing;
//! - in a day outside the source's history that kept some candles (the
//!   source's window of its latest candles starts inside it), the slots
//!   from its first candle on were settled like a done day's: `no data`;
//!   those before it are outside the history.

use chrono::NaiveDate;

use crate::interval::Interval;
use crate::life::{Kind, Reason, TaskState};
use crate::store::candles::CandleDay;

/// Consecutive slots of one day missing for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The first and last slot missing (numbers since the epoch).
    pub first: i64,
    pub last: i64,
    pub reason: Reason,
    /// The candle has not closed yet.
    pub not_closed: bool,
    /// For slots proven empty: the stored candles on either side within
    /// the day (slots), which the answer that proved them reached past.
    pub between: Option<(Option<i64>, Option<i64>)>,
}

impl Run {
    /// How many slots the run holds.
    pub fn len(&self) -> u64 {
        (self.last - self.first + 1) as u64
    }
}

/// A day below `1d`: how many candles it has of how many, what it holds
/// as a whole, and its runs of missing slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayGaps {
    pub day: NaiveDate,
    pub stored: u64,
    pub expected: u64,
    pub kind: Kind,
    pub runs: Vec<Run>,
}

impl DayGaps {
    /// Reads `day` at `interval` at `now` (ms since the epoch).
    pub fn of(day: &CandleDay<'_>, interval: Interval, now: i64) -> DayGaps {
        let slots = interval.day_slots(day.day);
        let have: Vec<i64> = day.minutes.iter().map(|m| m / interval.minutes()).collect();
        let mut runs: Vec<Run> = Vec::new();
        let state = day.task.as_ref().map(|t| t.state);
        // Where a day outside the history starts to be served: its first candle.
        let served_from = match state {
            Some(TaskState::OutsideHistory) => have.iter().copied().find(|s| slots.contains(s)),
            _ => None,
        };
        let why = |slot: i64| -> (Reason, bool) {
            let closed = interval.slot_start_ms(slot + 1) <= now;
            match (&day.task, state) {
                (None, _) => (Reason::NotQueued, false),
                // One reason for all of them: the run is said "not yet closed".
                (Some(_), _) if !closed => {
                    (Reason::NotYetDue { at: interval.slot_start_ms(slots.end), note: None }, true)
                }
                (Some(_), Some(TaskState::Done | TaskState::NoData)) => (Reason::NoData, false),
                (Some(_), Some(TaskState::OutsideHistory)) if served_from.is_some_and(|f| slot > f) => {
                    (Reason::NoData, false)
                }
                (Some(t), _) => (t.reason.clone(), false),
            }
        };
        let mut next = have.iter().copied().peekable();
        for slot in slots.clone() {
            if next.next_if_eq(&slot).is_some() {
                continue;
            }
            let (reason, not_closed) = why(slot);
            match runs.last_mut() {
                Some(r) if r.last + 1 == slot && r.reason == reason && r.not_closed == not_closed => r.last = slot,
                _ => runs.push(Run { first: slot, last: slot, reason, not_closed, between: None }),
            }
        }
        // What proved a done day's gaps: the candles either side of each.
        if state == Some(TaskState::Done) || served_from.is_some() {
            for r in runs.iter_mut().filter(|r| !r.not_closed && r.reason == Reason::NoData) {
                let at = have.partition_point(|s| *s < r.first);
                let before = at.checked_sub(1).and_then(|i| have.get(i)).copied().filter(|s| slots.contains(s));
                let after = have.get(have.partition_point(|s| *s <= r.last)).copied().filter(|s| slots.contains(s));
                r.between = Some((before, after));
            }
        }
        let expected = interval.per_day() as u64;
        let stored = have.iter().filter(|s| slots.contains(s)).count() as u64;
        let kind = match (&day.task, stored) {
            _ if runs.is_empty() => Kind::Price,
            (Some(t), _) if t.state == TaskState::Done && stored > 0 && runs.iter().all(|r| !r.not_closed) => {
                Kind::Partial
            }
            (Some(t), 0) if t.state == TaskState::Done => Kind::NoData,
            // The day's own kind, or (only candles, never a task) not queued.
            _ => runs.iter().map(|r| r.reason.kind()).find(|k| !k.is_settled()).unwrap_or(runs[0].reason.kind()),
        };
        DayGaps { day: day.day, stored, expected, kind, runs }
    }

    /// The day's runs as people read them, at most `shown` of them:
    /// "no data 02:13-02:15 (no trades between the candles at 02:12 and
    /// 02:16)", "not yet closed 14:00-23:00", "failed: HTTP 500".
    pub fn describe(&self, interval: Interval, shown: usize) -> String {
        let whole = |r: &Run| r.len() == self.expected;
        let mut parts: Vec<String> = self
            .runs
            .iter()
            .take(shown)
            .map(|r| {
                let words = match (&r.reason, r.not_closed) {
                    (_, true) => "not yet closed".to_string(),
                    (Reason::NoData, _) => "no data".to_string(),
                    // The day's other slots say why it is no whole day.
                    (Reason::OutsideHistory, _) if !whole(r) => "outside the source's history".to_string(),
                    (reason, _) => reason.to_string(),
                };
                if whole(r) {
                    return words;
                }
                let range = match r.first == r.last {
                    true => clock(interval, r.first),
                    false => format!("{}-{}", clock(interval, r.first), clock(interval, r.last)),
                };
                let proof = match r.between {
                    Some((Some(a), Some(b))) => {
                        format!(" (no trades between the candles at {} and {})", clock(interval, a), clock(interval, b))
                    }
                    Some((None, Some(b))) => {
                        format!(" (no trades before the day's first candle, at {})", clock(interval, b))
                    }
                    Some((Some(a), None)) => {
                        format!(" (no trades after the day's last candle, at {})", clock(interval, a))
                    }
                    _ => String::new(),
                };
                format!("{words} {range}{proof}")
            })
            .collect();
        if self.runs.len() > shown {
            parts.push(format!("and {} more (--format json lists each)", self.runs.len() - shown));
        }
        parts.join("; ")
    }
}

/// The open time of `slot`, "02:13", as the day's rows say it.
pub fn clock(interval: Interval, slot: i64) -> String {
    let minute = (slot * interval.minutes()).rem_euclid(1440);
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

/// "1,437": a count with its thousands apart.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests;
