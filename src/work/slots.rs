//! Candles below a day: what is known of each slot of a batch's days, and
//! what a day comes to once every slot of it is settled. The requests that
//! learn it are `pages.rs`.
//!
//! A batch of consecutive days of one pair is, at an interval below a day,
//! one range of slots (the candles' numbers since the epoch): the pages
//! run across day boundaries, so a request may settle several days, or a
//! day take several requests, and the requests stay at the fewest that
//! cover the range.

use chrono::NaiveDate;

use crate::interval::Interval;
use crate::price::Candle;
use crate::source::{DayAnswer, Unproven};
use crate::store::Task;

/// When a task of `day` at `interval` comes due: once its first candle has
/// closed and `grace` passed (at `1d` the day itself, [`crate::clock::due_at`]).
pub(super) fn due_at(day: NaiveDate, interval: Interval, grace: std::time::Duration) -> i64 {
    let first_close = interval.slot_start_ms(interval.first_slot(day) + 1);
    crate::clock::after(first_close, grace)
}

/// What is known of one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    /// To ask: not asked yet.
    Ask,
    /// To ask: past where a page stopped (at its cap, or at its last row
    /// when the slots after it are quiet). The next page starts at the
    /// candle before it, so that rows on both sides can prove it empty.
    Cut,
    /// An answer did not prove it either way: asked once more, in a page
    /// that can.
    Again,
    /// Its candle came, kept in the day's `candles`.
    Candle,
    /// Proven empty.
    Empty,
    /// Older than the source keeps.
    Outside,
    /// Not closed yet.
    Open,
    /// Its row broke a rule.
    Refused,
    /// A second asking did not prove it either.
    Unshown,
}

impl Slot {
    /// Whether the slot is still to ask.
    pub fn unsettled(self) -> bool {
        matches!(self, Slot::Ask | Slot::Cut | Slot::Again)
    }
}

/// One day of a batch below a day: its task, and each of its slots.
pub(super) struct Day {
    pub task: Task,
    /// Its first slot.
    pub first: i64,
    pub slots: Vec<Slot>,
    /// The candles that came, in the order they came.
    pub candles: Vec<Candle>,
    /// The first reason a row of the day was refused.
    pub refused: Option<String>,
    /// What the answers lacked, for slots not shown.
    pub lacking: Option<String>,
    /// Its outcome was handed on.
    pub sent: bool,
}

impl Day {
    /// The day of `task`, its slots from `open` on not closed yet.
    pub fn new(task: Task, open: i64) -> Day {
        let interval = task.interval;
        let first = interval.first_slot(task.day);
        let slots =
            (first..first + interval.per_day()).map(|s| if s < open { Slot::Ask } else { Slot::Open }).collect();
        Day { task, first, slots, candles: Vec::new(), refused: None, lacking: None, sent: false }
    }

    /// Whether every slot is settled: no answer is awaited for any.
    pub fn settled(&self) -> bool {
        !self.slots.iter().any(|s| s.unsettled())
    }

    /// The first and last of its slots in `state`, if any.
    pub fn span_of(&self, state: impl Fn(Slot) -> bool) -> Option<(i64, i64)> {
        let a = self.slots.iter().position(|s| state(*s))?;
        let b = self.slots.iter().rposition(|s| state(*s))?;
        Some((self.first + a as i64, self.first + b as i64))
    }

    /// Takes what an answer says of slot `slot` of the day; true if the
    /// slot moved on (settled, or to be asked once more). `proving`: the
    /// request could prove the slot (rows known on both sides of it in its
    /// page, or none known in it), so a slot it does not show a second time
    /// is given up on.
    pub fn take(&mut self, slot: i64, answer: DayAnswer, proving: bool) -> bool {
        let at = (slot - self.first) as usize;
        let Some(state) = self.slots.get(at).copied().filter(|s| s.unsettled()) else {
            return false;
        };
        let next = match answer {
            DayAnswer::Price(price) => {
                let minute = self.task.interval.slot_start_ms(slot).div_euclid(60_000);
                self.candles.push(Candle { minute, price });
                Slot::Candle
            }
            DayAnswer::NoData => Slot::Empty,
            DayAnswer::NotClosed => Slot::Open,
            DayAnswer::OutsideHistory => Slot::Outside,
            DayAnswer::Refused(why) => {
                self.refused.get_or_insert(why);
                Slot::Refused
            }
            DayAnswer::Unanswered(Unproven::Cut) => {
                // Not settled, but known to have no row in a page: that
                // decides the page it is asked in next (once: a slot cut
                // again moves nothing on).
                if state != Slot::Ask {
                    return false;
                }
                Slot::Cut
            }
            DayAnswer::Unanswered(Unproven::Lacking { why, history_ends }) => {
                if state != Slot::Again {
                    Slot::Again
                } else if !proving {
                    // Asked again in a page that could not prove it.
                    return false;
                } else if history_ends {
                    Slot::Outside
                } else {
                    self.lacking.get_or_insert(why);
                    Slot::Unshown
                }
            }
        };
        self.slots[at] = next;
        true
    }
}

/// Slots `a..=b` at `interval` as people read them: `2024-03-12 02:13 to
/// 02:15`, or with both days when they differ.
pub(super) fn show_slots(interval: Interval, a: i64, b: i64) -> String {
    let time = |s: i64| chrono::DateTime::from_timestamp_millis(interval.slot_start_ms(s));
    let (Some(x), Some(y)) = (time(a), time(b)) else {
        return format!("slots {a} to {b}");
    };
    if a == b {
        x.format("%Y-%m-%d %H:%M").to_string()
    } else if x.date_naive() == y.date_naive() {
        format!("{} to {}", x.format("%Y-%m-%d %H:%M"), y.format("%H:%M"))
    } else {
        format!("{} to {}", x.format("%Y-%m-%d %H:%M"), y.format("%Y-%m-%d %H:%M"))
    }
}
