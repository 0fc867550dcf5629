//! What an answer says about each day it was asked for: the one rule for
//! absence, for every source spoken from a declaration (the six built in
//! and any other). A day is `no data` only when an answer that covers it
//! shows nothing for it.
//!
//! A request asks for a stretch, `first..=last`, and its *window* is what
//! it names: from `first` up to `last`, with a day's play at each end it
//! names (sources differ on whether a bound counts itself in: Coinbase's
//! candles "may precede" `start`), an end it does not name left open
//! (Kraken's `since` has no end: its window runs to today), and never past
//! today. The answer's rows inside the window are its rows; a row outside
//! it was not asked for and proves nothing. (A row on a day of play proves
//! what lies between it and the days asked; an answer of nothing else is
//! no empty answer: a page cut to its last row looks the same.)
//!
//! 1. The rows come in the source's declared order, and some fall inside
//!    the window, unless there are none at all; an answer whose rows all
//!    fall outside it is invalid (the server ignored the range, or the time
//!    unit is wrong, which the error says when the rows are a factor of
//!    1000 away).
//! 2. Each day of the stretch, in order:
//!    1. not ended yet (its UTC end is after `now`): `NotClosed`, row or not;
//!    2. rows on its boundary: two different ones are `Refused` (identical
//!       copies count once); one whose closed flag says no is `NotClosed`;
//!       else its price, if it passes `check_price`, or `Refused`;
//!    3. no such row but one off the boundary falls in the day (OKX's `1D`
//!       starts at 16:00 UTC): `Refused`, naming its time;
//!    4. no row: `NoData` when the answer proves it: rows on boundaries
//!       inside the window on both sides of it, or no row at all (the
//!       source said "nothing" for all it was asked);
//!    5. else `Unanswered`. After the last row, at the end where the source
//!       cuts its pages (a forward source's newest, a backward one's
//!       oldest), when rows fall inside the stretch, the page stopped at a
//!       cap: `Cut`, asked on from there. Anything else is `Lacking`, with
//!       what the answer lacked: asked once more, then failed (or, for a
//!       source that keeps only its latest candles whose rows start later
//!       but reach the end of the stretch, outside its history).
//!
//! Nothing here is about calendars: a day is one slot of `1d`, and the
//! rule reads the same for the slots (candles) of shorter intervals, with
//! "day" read as "candle": a row off a candle's boundary (`02:13:30` at
//! `1m`) is refused, a gap between rows is `NoData`, a page cut at the
//! source's cap is `Cut`, a candle that has not closed is `NotClosed`.

use std::collections::BTreeMap;

use super::declare::{Declaration, Order, Paging};
use super::rows::{show_slot, AnswerRow};
use super::template::Template;
use super::{check_price, DayAnswer, Unproven};
use crate::interval::Interval;

/// A request, as the rule needs it: the stretch it asks for and its window.
#[derive(Debug, Clone, PartialEq)]
pub struct Asked {
    /// The candles' interval: at `1d` a slot is a UTC day.
    pub interval: Interval,
    /// The first and last slot asked for.
    pub first: i64,
    pub last: i64,
    /// The request names its first slot: rows before it are outside the window.
    pub bounded_start: bool,
    /// The request names its last slot: rows after it are outside the window.
    pub bounded_end: bool,
    /// The end the source cuts its pages at: a forward source's newest.
    pub paging: Paging,
    pub order: Order,
    /// The source keeps only its latest candles (`history_days`, `history_rows`).
    pub latest_only: bool,
}

impl Asked {
    /// The request for the slots `first..=last` at `interval` to the source
    /// `decl` declares, whose candles URL is `candles`.
    pub fn new(decl: &Declaration, candles: &Template, interval: Interval, first: i64, last: i64) -> Asked {
        let (bounded_start, bounded_end) = candles.bounds();
        Asked {
            interval,
            first,
            last,
            bounded_start,
            bounded_end,
            paging: decl.paging,
            order: decl.order,
            latest_only: decl.history(interval).is_some(),
        }
    }

    /// The window's first and last slot, when the current slot is `now`.
    fn window(&self, now: i64) -> (i64, i64) {
        let lo = if self.bounded_start { self.first - 1 } else { i64::MIN };
        let latest = self.last.max(now);
        let hi = if self.bounded_end { (self.last + 1).min(latest) } else { latest };
        (lo, hi)
    }

    /// What the messages call a slot: a day at `1d`, a candle below.
    fn unit(&self) -> &'static str {
        if self.interval.is_day() {
            "day"
        } else {
            "candle"
        }
    }

    fn show(&self, slot: i64) -> String {
        show_slot(self.interval, slot)
    }
}

/// Why an answer is no answer to its request.
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    /// Its rows are not in the source's declared order.
    Order,
    /// Every row is outside the window: `rows` of them, from `first` to
    /// `last` (their times as the answer gives them).
    Outside { rows: usize, first: String, last: String, unit: Option<Unit> },
}

/// Rows a factor of 1000 from where they belong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// 1000 times later, they fall in the days asked: seconds read as milliseconds.
    TooSmall,
    /// 1000 times earlier, they do: milliseconds read as seconds.
    TooLarge,
}

impl Unit {
    /// What the error adds.
    pub fn advice(self) -> &'static str {
        match self {
            Unit::TooSmall => "read 1000 times later, the times fall in the days asked: the time unit looks wrong (seconds read as milliseconds)",
            Unit::TooLarge => "read 1000 times earlier, the times fall in the days asked: the time unit looks wrong (milliseconds read as seconds)",
        }
    }
}

/// Each slot of the stretch `asked` (each day at `1d`), with what `rows`
/// (its answer, as the source gave them) tell about it at `now_ms`.
pub fn prove(rows: &[AnswerRow], asked: &Asked, now_ms: i64) -> Result<Vec<(i64, DayAnswer)>, Invalid> {
    let ordered = rows.windows(2).all(|w| match asked.order {
        Order::OldestFirst => w[0].at_ms <= w[1].at_ms,
        Order::NewestFirst => w[0].at_ms >= w[1].at_ms,
    });
    if !ordered {
        return Err(Invalid::Order);
    }
    let iv = asked.interval;
    let (lo, hi) = asked.window(iv.slot_of_ms(now_ms));
    let inside: Vec<&AnswerRow> = rows.iter().filter(|r| (lo..=hi).contains(&r.slot)).collect();
    if inside.is_empty() && !rows.is_empty() {
        return Err(outside(rows, asked));
    }
    let mut proper: BTreeMap<i64, Vec<&AnswerRow>> = BTreeMap::new();
    let mut off: BTreeMap<i64, &AnswerRow> = BTreeMap::new();
    for row in &inside {
        if row.off.is_some() {
            off.entry(row.slot).or_insert(row);
        } else {
            proper.entry(row.slot).or_default().push(row);
        }
    }
    let reach = (proper.keys().next().copied(), proper.keys().next_back().copied());
    let hint = match unit(rows, stretch(asked)) {
        Some(u) => format!("; {}", u.advice()),
        None => String::new(),
    };
    let slots = (asked.first..=asked.last).map(|d| {
        let answer = if iv.slot_start_ms(d + 1) > now_ms {
            DayAnswer::NotClosed
        } else if let Some(found) = proper.get(&d) {
            one_slot(&asked.show(d), found)
        } else if let Some(row) = off.get(&d) {
            let at = row.off.as_deref().unwrap_or("?");
            DayAnswer::Refused(match iv.is_day() {
                true => format!(
                    "the row at {at} is not the start of a UTC day (a day in another time zone?), so it is not {}'s price",
                    asked.show(d)
                ),
                false => format!(
                    "the row at {at} is not the start of a {iv} candle, so it is not the price of the candle at {}",
                    asked.show(d)
                ),
            })
        } else if rows.is_empty() {
            DayAnswer::NoData
        } else {
            match reach {
                (Some(low), Some(high)) if low < d && d < high => DayAnswer::NoData,
                _ => DayAnswer::Unanswered(unproven(d, asked, reach, &hint)),
            }
        };
        (d, answer)
    });
    Ok(slots.collect())
}

/// A slot the answer does not prove: `reach` is its first and last row on a
/// boundary inside the window.
fn unproven(d: i64, asked: &Asked, reach: (Option<i64>, Option<i64>), hint: &str) -> Unproven {
    let (Some(low), Some(high)) = reach else {
        let unit = asked.unit();
        let why = format!("none of its rows in the {unit}s asked is at the start of a {unit}{hint}");
        return Unproven::Lacking { why, history_ends: false };
    };
    if d < low {
        if asked.paging == Paging::Backward && low <= asked.last {
            return Unproven::Cut;
        }
        // A source of only its latest candles answers from the oldest it
        // still has: when its rows reach the end of the stretch, nothing
        // older is there to be had.
        let history_ends = asked.latest_only && high >= asked.last;
        return Unproven::Lacking { why: format!("its rows start at {}{hint}", asked.show(low)), history_ends };
    }
    if asked.paging == Paging::Forward && high >= asked.first {
        return Unproven::Cut;
    }
    Unproven::Lacking { why: format!("its rows stop at {}{hint}", asked.show(high)), history_ends: false }
}

/// The slot `d` (as messages name it) of the rows on its boundary.
fn one_slot(d: &str, rows: &[&AnswerRow]) -> DayAnswer {
    let row = rows[0];
    if let Some(other) = rows.iter().find(|r| r.price != row.price || r.closed != row.closed) {
        return DayAnswer::Refused(format!("two different rows for {d}: {} and {}", show(row), show(other)));
    }
    if !row.closed {
        return DayAnswer::NotClosed;
    }
    match &row.price {
        Ok(p) => match check_price(p) {
            Ok(()) => DayAnswer::Price(*p),
            Err(why) => DayAnswer::Refused(format!("the row for {d} is not a valid price: {why}")),
        },
        Err(why) => DayAnswer::Refused(format!("the row for {d} is not a price: {why}")),
    }
}

fn show(row: &AnswerRow) -> String {
    match &row.price {
        Ok(p) => format!("(open {}, high {}, low {}, close {}, volume {})", p.open, p.high, p.low, p.close, p.volume),
        Err(why) => format!("({why})"),
    }
}

/// An answer whose rows are all outside the window `lo..=hi`.
fn outside(rows: &[AnswerRow], asked: &Asked) -> Invalid {
    let when = |r: &AnswerRow| r.off.clone().unwrap_or_else(|| asked.show(r.slot));
    let first = rows.iter().min_by_key(|r| r.at_ms).map(when).unwrap_or_default();
    let last = rows.iter().max_by_key(|r| r.at_ms).map(when).unwrap_or_default();
    Invalid::Outside { rows: rows.len(), first, last, unit: unit(rows, stretch(asked)) }
}

/// The slots asked, with their slots of play, in milliseconds: where rows a
/// factor of 1000 off would belong (a window open at an end reaches too
/// far to say).
fn stretch(asked: &Asked) -> (i64, i64) {
    let iv = asked.interval;
    (iv.slot_start_ms(asked.first - 1), iv.slot_start_ms(asked.last + 2))
}

/// Whether the rows, none of which is in `lo_ms..hi_ms`, would be there at
/// a thousand times their time, or a thousandth: the time unit is wrong.
fn unit(rows: &[AnswerRow], (lo_ms, hi_ms): (i64, i64)) -> Option<Unit> {
    let within = |t: Option<i64>| t.is_some_and(|t| lo_ms <= t && t < hi_ms);
    if rows.is_empty() || rows.iter().any(|r| within(Some(r.at_ms))) {
        return None;
    }
    if rows.iter().any(|r| within(r.at_ms.checked_mul(1000))) {
        return Some(Unit::TooSmall);
    }
    rows.iter().any(|r| within(Some(r.at_ms / 1000))).then_some(Unit::TooLarge)
}

#[cfg(test)]
mod tests;
