//! The proving rule as a property. A model knows the truth (which days of a
//! pair have a price, from its first day on, with gaps), makes the answer
//! a well-behaved source would send for a stretch, and spoils it at random
//! the ways servers do: rows dropped, added, shifted by days or hours, cut
//! at either end, duplicated, in the wrong time unit or order, or the
//! latest rows whatever was asked. The well-behaved answer may hold the
//! days just past the bounds the request names, as a source that counts
//! its bounds in sends them (Coinbase's candles "may precede" `start`). On every built-in source's settings
//! (paging, order, which ends its URL names, whether it keeps only its
//! latest days) and the README's declared ones (both paging directions),
//! each at one of the intervals it serves (a day is a slot of `1d`; below
//! a day "days" are candles and "hours" 24ths of one):
//! - no day gets a price the answer does not give for it;
//! - no day is `no data` unless the answer proves it empty;
//! - an answer is refused exactly when its rows are out of order, or all
//!   outside the window;
//! - spoiled only in ways that invent nothing (cuts, copies, another unit
//!   or order, hours off, the latest rows), no day gets a price or `no
//!   data` that the truth does not have; unspoiled, every price is stored.
//!
//! `cargo test` runs 256 cases, each on every source at one of its intervals;
//! `PROPTEST_CASES=2000 cargo test --lib prove::tests::props` runs more.

use chrono::NaiveDate;
use proptest::collection::vec;
use proptest::prelude::*;

use super::super::super::declare::Declarations;
use super::super::super::format::TimeMarks;
use super::super::super::rows::stamp;
use super::super::*;
use crate::interval::Interval;
use crate::price::Price;

const CASES: u32 = 256;

/// Slots of the truth: the pair's candles up to the one before the current.
const SPAN: i64 = 60;

fn config() -> ProptestConfig {
    // An explicit `cases` would hide PROPTEST_CASES, so it is read here.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Each source's name, declaration and candles URL: the built-ins, and the
/// declarations the README shows (CryptoCompare pages backward and names
/// only its last day, CoinGecko forward with times at the day's end).
fn sources() -> &'static [(String, Declaration, Template)] {
    static SOURCES: std::sync::OnceLock<Vec<(String, Declaration, Template)>> = std::sync::OnceLock::new();
    SOURCES.get_or_init(read_sources)
}

fn read_sources() -> Vec<(String, Declaration, Template)> {
    let readme = include_str!("../../../../README.md");
    let block =
        readme.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("the README's declarations");
    let declared = Declarations::parse(block, "README.md").expect("the README's declarations parse");
    let builtin = Declarations::builtin();
    let mut all = Vec::new();
    for (decls, names) in [(&builtin, builtin.names()), (&declared, declared.names())] {
        for name in names {
            if let Some(d) = decls.get(&name) {
                let candles = Template::parse(&d.candles).expect("a valid template");
                all.push((name, d.clone(), candles));
            }
        }
    }
    let paging: Vec<Paging> = all.iter().map(|(_, d, _)| d.paging).collect();
    assert!(all.len() >= 8 && paging.contains(&Paging::Forward) && paging.contains(&Paging::Backward));
    all
}

/// The truth's first slot at `iv`: 2020-01-01's first candle.
fn start(iv: Interval) -> i64 {
    iv.first_slot(NaiveDate::from_ymd_opt(2020, 1, 1).expect("a day"))
}

fn price(i: i64) -> Price {
    let base = 100.0 + i as f64;
    Price { open: base, high: base + 2.0, low: base - 2.0, close: base + 1.0, volume: 1.0 }
}

/// Which slots have a price: none before the pair's first, then all but
/// gaps; the `i`-th is the `i`-th slot from [`start`] at whatever interval
/// a source is asked at.
#[derive(Debug, Clone)]
struct Truth {
    days: Vec<Option<Price>>,
}

impl Truth {
    /// The price of slot `i` counted from the start.
    fn of(&self, i: i64) -> Option<Price> {
        if i < 0 {
            return None;
        }
        self.days.get(i as usize).copied().flatten()
    }
}

fn truth() -> impl Strategy<Value = Truth> {
    (0..SPAN, vec(0..8u8, SPAN as usize)).prop_map(|(listed, dice)| Truth {
        days: (0..SPAN).map(|i| (i >= listed && dice[i as usize] != 0).then(|| price(i))).collect(),
    })
}

/// One way a server spoils an answer (kept in the source's order unless
/// `Swap` breaks it).
#[derive(Debug, Clone)]
enum Spoil {
    /// The row at this place (modulo the rows) left out.
    Drop(usize),
    /// A row for the slot at this offset from the truth's start, with this close.
    Add(i64, f64),
    /// Every row this many slots later (or earlier).
    ShiftDays(i64),
    /// Every row this many 24ths of a slot (hours at `1d`) later (or
    /// earlier): off the slot's boundary.
    ShiftHours(i64),
    /// The oldest rows left out, all but one at most.
    CutStart(usize),
    /// The newest rows left out, all but one at most.
    CutEnd(usize),
    /// A row sent twice.
    Twice(usize),
    /// Times a thousand times larger (true) or smaller.
    Unit(bool),
    /// Two neighbouring rows swapped.
    Swap(usize),
    /// The range ignored: the latest rows of the truth instead.
    Latest(usize),
}

impl Spoil {
    /// Whether the answer keeps only rows the truth has, on their days.
    fn invents_nothing(&self) -> bool {
        !matches!(self, Spoil::Drop(_) | Spoil::Add(..) | Spoil::ShiftDays(_))
    }
}

fn spoil() -> impl Strategy<Value = Spoil> {
    prop_oneof![
        (0..100usize).prop_map(Spoil::Drop),
        (-5..SPAN + 5, 1.0..500.0f64).prop_map(|(d, c)| Spoil::Add(d, c)),
        prop_oneof![-3..0i64, 1..4i64].prop_map(Spoil::ShiftDays),
        prop_oneof![-23..0i64, 1..24i64].prop_map(Spoil::ShiftHours),
        (1..40usize).prop_map(Spoil::CutStart),
        (1..40usize).prop_map(Spoil::CutEnd),
        (0..100usize).prop_map(Spoil::Twice),
        any::<bool>().prop_map(Spoil::Unit),
        (0..100usize).prop_map(Spoil::Swap),
        (1..80usize).prop_map(Spoil::Latest),
    ]
}

/// A row's time and price, as a server writes it.
type Raw = (i64, Price);

/// The answer a well-behaved source sends for `asked`: the truth's rows in
/// the slots its request names (to the truth's end where it names no end),
/// and with `beside` those of the slots just past the ends it names, as a
/// source that counts its bounds in sends them.
fn honest(truth: &Truth, asked: &Asked, marks: TimeMarks, beside: bool) -> Vec<Raw> {
    let (iv, s0) = (asked.interval, start(asked.interval));
    let play = i64::from(beside);
    let lo = if asked.bounded_start { asked.first - play } else { s0 };
    let hi = if asked.bounded_end { asked.last + play } else { s0 + SPAN - 1 };
    let mut rows: Vec<Raw> = (0..SPAN)
        .map(|i| s0 + i)
        .filter(|d| lo <= *d && *d <= hi)
        .filter_map(|d| truth.of(d - s0).map(|p| (time(iv, d, marks), p)))
        .collect();
    order(&mut rows, asked.order);
    rows
}

/// The time a row for slot `d` carries.
fn time(iv: Interval, d: i64, marks: TimeMarks) -> i64 {
    iv.slot_start_ms(d) + if marks == TimeMarks::End { iv.ms() } else { 0 }
}

fn order(rows: &mut [Raw], order: Order) {
    rows.sort_by_key(|r| r.0);
    if order == Order::NewestFirst {
        rows.reverse();
    }
}

fn apply(rows: &mut Vec<Raw>, s: &Spoil, truth: &Truth, asked: &Asked, marks: TimeMarks) {
    let n = rows.len();
    let (iv, s0) = (asked.interval, start(asked.interval));
    match *s {
        Spoil::Drop(i) if n > 0 => {
            rows.remove(i % n);
        }
        Spoil::Add(d, close) => {
            let p = Price { open: close, high: close + 1.0, low: close - 1.0, close, volume: 2.0 };
            rows.push((time(iv, s0 + d, marks), p));
            order(rows, asked.order);
        }
        Spoil::ShiftDays(k) => rows.iter_mut().for_each(|r| r.0 += k * iv.ms()),
        Spoil::ShiftHours(h) => rows.iter_mut().for_each(|r| r.0 += h * (iv.ms() / 24)),
        Spoil::CutStart(k) | Spoil::CutEnd(k) => {
            let mut times: Vec<i64> = rows.iter().map(|r| r.0).collect();
            times.sort_unstable();
            // A cut leaves a row: an answer with none says there is nothing,
            // and is believed (the one proof a stretch with no row can have).
            let k = k.min(n.saturating_sub(1));
            let keep = if matches!(s, Spoil::CutStart(_)) { &times[k..] } else { &times[..n - k] };
            let (lo, hi) = (keep.first().copied().unwrap_or(i64::MAX), keep.last().copied().unwrap_or(i64::MIN));
            rows.retain(|r| lo <= r.0 && r.0 <= hi);
        }
        Spoil::Twice(i) if n > 0 => {
            let r = rows[i % n];
            rows.insert(i % n, r);
        }
        Spoil::Unit(larger) => {
            let scaled: Vec<Option<i64>> =
                rows.iter().map(|r| if larger { r.0.checked_mul(1000) } else { Some(r.0 / 1000) }).collect();
            // Times past the year 262143 are refused before `prove` (`rows::read`).
            if scaled.iter().all(|t| t.is_some_and(|t| stamp(t, marks, iv).is_some())) {
                rows.iter_mut().zip(scaled).for_each(|(r, t)| r.0 = t.unwrap_or(r.0));
            }
        }
        Spoil::Swap(i) if n > 1 => rows.swap(i % (n - 1), i % (n - 1) + 1),
        Spoil::Latest(k) => {
            let all: Vec<Raw> = (0..SPAN).filter_map(|i| truth.of(i).map(|p| (time(iv, s0 + i, marks), p))).collect();
            *rows = all[all.len().saturating_sub(k)..].to_vec();
            order(rows, asked.order);
        }
        _ => {}
    }
}

/// The rows as `rows::read` gives them.
fn read(raw: &[Raw], marks: TimeMarks, iv: Interval) -> Vec<AnswerRow> {
    raw.iter()
        .map(|&(at_ms, p)| {
            let (slot, off) = stamp(at_ms, marks, iv).expect("a time in range");
            AnswerRow { at_ms, slot, off, price: Ok(p), closed: true }
        })
        .collect()
}

/// The rule's window, as the issue states it: the slots the request names,
/// a slot's play at each named end, an unnamed end open to the current slot.
fn inside(r: &AnswerRow, asked: &Asked, today: i64) -> bool {
    let after_start = !asked.bounded_start || r.slot >= asked.first - 1;
    let latest = asked.last.max(today);
    let before_end = r.slot <= latest && (!asked.bounded_end || r.slot <= asked.last + 1);
    after_start && before_end
}

/// Whether the answer proves `d` empty: no row at all, or none for `d`
/// and rows on boundaries inside the window on both sides of it.
fn proves_empty(rows: &[AnswerRow], d: i64, asked: &Asked, today: i64) -> bool {
    if rows.is_empty() {
        return true;
    }
    let proper: Vec<&AnswerRow> = rows.iter().filter(|r| r.off.is_none() && inside(r, asked, today)).collect();
    rows.iter().all(|r| r.slot != d) && proper.iter().any(|r| r.slot < d) && proper.iter().any(|r| r.slot > d)
}

/// The property on every source, each at the interval `pick` chooses among
/// those it serves.
fn check_at(
    truth: &Truth,
    first: i64,
    len: i64,
    beside: bool,
    spoils: &[Spoil],
    pick: usize,
) -> Result<(), TestCaseError> {
    for (name, decl, candles) in sources() {
        let served = decl.intervals();
        let iv = served[pick % served.len()].0;
        let s0 = start(iv);
        let today = s0 + SPAN;
        // Inside the current slot, which has not closed.
        let now = iv.slot_start_ms(today) + iv.ms() / 24;
        let len = len.min(i64::from(decl.max_rows(iv)));
        let (a, b) = (s0 + first, s0 + (first + len - 1).min(SPAN - 1));
        let asked = Asked::new(decl, candles, iv, a, b);
        let marks = decl.rows.time_marks;
        let mut raw = honest(truth, &asked, marks, beside);
        for s in spoils {
            apply(&mut raw, s, truth, &asked, marks);
        }
        let rows = read(&raw, marks, iv);
        let got = prove(&rows, &asked, now);
        let ctx = || format!("{name} at {iv}, {a} to {b}, beside {beside}, {spoils:?}:\nrows {raw:?}\ngot {got:?}");
        let ordered = rows.windows(2).all(|w| match asked.order {
            Order::OldestFirst => w[0].at_ms <= w[1].at_ms,
            Order::NewestFirst => w[0].at_ms >= w[1].at_ms,
        });
        let days = match &got {
            Err(Invalid::Order) => {
                prop_assert!(!ordered, "refused as out of order: {}", ctx());
                continue;
            }
            Err(Invalid::Outside { .. }) => {
                prop_assert!(ordered && !rows.is_empty(), "{}", ctx());
                prop_assert!(rows.iter().all(|r| !inside(r, &asked, today)), "refused with a row inside: {}", ctx());
                continue;
            }
            Ok(days) => days,
        };
        prop_assert!(ordered, "took rows out of order: {}", ctx());
        prop_assert!(
            rows.is_empty() || rows.iter().any(|r| inside(r, &asked, today)),
            "took rows all outside: {}",
            ctx()
        );
        let asked_days: Vec<i64> = (a..=b).collect();
        prop_assert_eq!(days.iter().map(|(d, _)| *d).collect::<Vec<_>>(), asked_days, "{}", ctx());
        // Shifts by hours that add up to whole days move prices to other days.
        let hours: i64 = spoils.iter().map(|s| if let Spoil::ShiftHours(h) = s { *h } else { 0 }).sum();
        let faithful = spoils.iter().all(Spoil::invents_nothing) && (hours == 0 || hours % 24 != 0);
        for (d, answer) in days {
            let boundary: Vec<&AnswerRow> = rows.iter().filter(|r| r.slot == *d && r.off.is_none()).collect();
            match answer {
                DayAnswer::Price(p) => {
                    prop_assert!(!boundary.is_empty(), "a price with no row for {d}: {}", ctx());
                    prop_assert!(
                        boundary.iter().all(|r| r.price == Ok(*p)),
                        "a price for {d} the answer does not give: {}",
                        ctx()
                    );
                    if faithful {
                        prop_assert_eq!(truth.of(*d - s0), Some(*p), "{}", ctx());
                    }
                }
                DayAnswer::NoData => {
                    prop_assert!(proves_empty(&rows, *d, &asked, today), "no data for {d} without proof: {}", ctx());
                    if faithful {
                        prop_assert_eq!(truth.of(*d - s0), None, "no data for {}, which has a price: {}", d, ctx());
                    }
                }
                DayAnswer::Unanswered(_) | DayAnswer::Refused(_) | DayAnswer::OutsideHistory => {
                    if spoils.is_empty() {
                        prop_assert!(
                            truth.of(*d - s0).is_none(),
                            "an honest answer's price for {d} not taken: {}",
                            ctx()
                        );
                    }
                }
                DayAnswer::NotClosed => prop_assert!(false, "{d} ended long ago: {}", ctx()),
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_price_and_no_no_data_that_the_answer_does_not_show(
        truth in truth(),
        first in 0..SPAN,
        len in 1..40i64,
        beside in any::<bool>(),
        spoils in vec(spoil(), 0..3),
        pick in 0..13usize,
    ) {
        check_at(&truth, first, len, beside, &spoils, pick)?;
    }
}

#[test]
fn the_issue_s_answers_make_no_false_no_data() {
    // The issue's cases, as spoils of an honest answer: the latest rows
    // whatever was asked, a page cut at either end, times in seconds.
    let all: Truth = Truth { days: (0..SPAN).map(|i| Some(price(i))).collect() };
    for spoils in [
        vec![Spoil::Latest(10)],
        vec![Spoil::CutStart(10)],
        vec![Spoil::CutEnd(10)],
        vec![Spoil::Unit(false)],
        vec![Spoil::Unit(true)],
        vec![Spoil::ShiftHours(-8)],
    ] {
        for pick in 0..13 {
            check_at(&all, 5, 30, false, &spoils, pick).unwrap();
            check_at(&all, 5, 30, true, &spoils, pick).unwrap();
        }
    }
}
