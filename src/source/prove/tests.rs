//! The rule of `prove.rs`, case by case; `tests/props.rs` states it as a
//! property.

use chrono::NaiveDate;

use super::*;
use crate::price::Price;

const D1: Interval = Interval::D1;

const DAY: i64 = 86_400_000;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn ms(d: &str) -> i64 {
    day(d).and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis()
}

fn p(close: f64) -> Price {
    Price { open: close, high: close + 1.0, low: close - 1.0, close, volume: 1.0 }
}

fn row(d: &str, close: f64) -> AnswerRow {
    AnswerRow { at_ms: ms(d), slot: D1.first_slot(day(d)), off: None, price: Ok(p(close)), closed: true }
}

/// A row at `hours` after the start of `d`, off the day's boundary.
fn off(d: &str, hours: i64) -> AnswerRow {
    let at_ms = ms(d) + hours * 3_600_000;
    let (slot, off) = super::super::rows::stamp(at_ms, super::super::format::TimeMarks::Start, D1).unwrap();
    AnswerRow { at_ms, slot, off, price: Ok(p(5.0)), closed: true }
}

/// Long after the days in these tests.
fn later() -> i64 {
    ms("2021-01-01")
}

/// A request for `first..=last` that names both ends, oldest first.
fn asked(first: &str, last: &str, paging: Paging) -> Asked {
    Asked {
        interval: D1,
        first: D1.first_slot(day(first)),
        last: D1.first_slot(day(last)),
        bounded_start: true,
        bounded_end: true,
        paging,
        order: Order::OldestFirst,
        latest_only: false,
    }
}

fn answers(rows: &[AnswerRow], first: &str, last: &str, paging: Paging) -> Vec<String> {
    on(rows, &asked(first, last, paging))
}

fn on(rows: &[AnswerRow], asked: &Asked) -> Vec<String> {
    match prove(rows, asked, later()) {
        Ok(days) => days.into_iter().map(|(_, a)| short(&a)).collect(),
        Err(e) => vec![format!("invalid: {e:?}")],
    }
}

fn short(a: &DayAnswer) -> String {
    match a {
        DayAnswer::Price(p) => format!("{}", p.close),
        DayAnswer::NoData => "none".into(),
        DayAnswer::Unanswered(Unproven::Cut) => "cut".into(),
        DayAnswer::Unanswered(Unproven::Lacking { why, history_ends: false }) => format!("lacking: {why}"),
        DayAnswer::Unanswered(Unproven::Lacking { why, history_ends: true }) => format!("old?: {why}"),
        DayAnswer::NotClosed => "open".into(),
        DayAnswer::OutsideHistory => "old".into(),
        DayAnswer::Refused(w) => format!("refused: {w}"),
    }
}

#[test]
fn a_full_answer_gives_every_day() {
    let rows = [row("2020-01-01", 10.0), row("2020-01-02", 11.0), row("2020-01-03", 12.0)];
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-03", Paging::Forward), ["10", "11", "12"]);
}

#[test]
fn a_gap_between_rows_is_no_data() {
    let rows = [row("2020-01-01", 10.0), row("2020-01-03", 12.0)];
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-03", Paging::Forward), ["10", "none", "12"]);
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-03", Paging::Backward), ["10", "none", "12"]);
}

#[test]
fn days_before_the_first_row_are_proven_only_by_an_empty_answer_for_them() {
    // A young pair and a page cut at its start look the same: neither is proof.
    let rows = [row("2020-01-03", 12.0), row("2020-01-04", 13.0)];
    let lacking = "lacking: its rows start at 2020-01-03";
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Forward), [lacking, lacking, "12", "13"]);
    // Anchored at the last day, a page that starts late was cut where the source cuts: ask on.
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Backward), ["cut", "cut", "12", "13"]);
    // Asked again for exactly those days, with nothing in the answer: proof.
    assert_eq!(answers(&[], "2020-01-01", "2020-01-02", Paging::Forward), ["none", "none"]);
}

#[test]
fn days_after_the_last_row_are_cut_where_the_source_cuts_and_lacking_elsewhere() {
    let rows = [row("2020-01-01", 10.0), row("2020-01-02", 11.0)];
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Forward), ["10", "11", "cut", "cut"]);
    let lacking = "lacking: its rows stop at 2020-01-02";
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Backward), ["10", "11", lacking, lacking]);
}

#[test]
fn an_empty_answer_is_no_data_for_the_whole_range() {
    assert_eq!(answers(&[], "2020-01-01", "2020-01-02", Paging::Forward), ["none", "none"]);
    assert_eq!(answers(&[], "2020-01-01", "2020-01-02", Paging::Backward), ["none", "none"]);
    // Rows on the days just past the ends named are inside the window
    // (Coinbase may send a candle before `start`), and prove what is between.
    let next_to = [row("2019-12-31", 9.0), row("2020-01-03", 13.0)];
    assert_eq!(answers(&next_to, "2020-01-01", "2020-01-02", Paging::Forward), ["none", "none"]);
    // Either alone is no empty answer: a page cut to its last row looks so.
    let lacking = "lacking: its rows start at 2020-01-03";
    assert_eq!(answers(&next_to[1..], "2020-01-01", "2020-01-02", Paging::Forward), [lacking, lacking]);
}

#[test]
fn rows_outside_the_window_prove_nothing_and_alone_are_invalid() {
    // A server that ignores the range and sends its latest candles.
    let latest = [row("2020-06-01", 1.0), row("2020-06-02", 2.0)];
    let got = prove(&latest, &asked("2020-01-01", "2020-01-31", Paging::Forward), later());
    let Err(Invalid::Outside { rows: 2, first, last, unit: None }) = got else { panic!("{got:?}") };
    assert_eq!((first.as_str(), last.as_str()), ("2020-06-01", "2020-06-02"));
    // Rows past the window do not prove a gap at the stretch's end.
    let rows = [row("2020-01-01", 10.0), row("2020-01-05", 14.0)];
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-03", Paging::Forward), ["10", "cut", "cut"]);
    // The window's day of play holds no off row's proof either.
    let got = answers(&[off("2020-01-02", -8)], "2020-01-02", "2020-01-02", Paging::Forward);
    assert_eq!(got, ["lacking: none of its rows in the days asked is at the start of a day"]);
    let got = answers(&[off("2020-01-01", -8)], "2020-01-02", "2020-01-02", Paging::Forward);
    assert!(got[0].starts_with("invalid: Outside"), "{got:?}");
}

#[test]
fn an_end_the_request_does_not_name_is_open_up_to_today() {
    // Kraken: `since` only; its rows run to today.
    let open = Asked { bounded_end: false, latest_only: true, ..asked("2020-01-01", "2020-01-03", Paging::Forward) };
    let rows = [row("2020-01-01", 10.0), row("2020-01-05", 14.0)];
    assert_eq!(on(&rows, &open), ["10", "none", "none"], "the row past the stretch is in the window");
    // Rows from the future are outside any window.
    let future = [row("2021-06-01", 1.0)];
    assert!(on(&future, &open)[0].starts_with("invalid: Outside"));
}

#[test]
fn a_source_of_only_its_latest_candles_may_end_its_history_inside_the_stretch() {
    let kraken = Asked { bounded_end: false, latest_only: true, ..asked("2020-01-01", "2020-01-04", Paging::Forward) };
    let rows = [row("2020-01-03", 12.0), row("2020-01-04", 13.0), row("2020-01-05", 14.0)];
    let got = on(&rows, &kraken);
    assert_eq!(got[..2], ["old?: its rows start at 2020-01-03", "old?: its rows start at 2020-01-03"]);
    // Cut at the newest end too, it is not the source's whole answer.
    let rows = [row("2020-01-02", 11.0), row("2020-01-03", 12.0)];
    let bounded = Asked { bounded_end: true, ..kraken };
    assert_eq!(on(&rows, &bounded)[0], "lacking: its rows start at 2020-01-02");
}

#[test]
fn rows_a_factor_of_1000_away_say_the_unit_looks_wrong() {
    let seconds = |d: &str| {
        let at_ms = ms(d) / 1000;
        let (slot, off) = super::super::rows::stamp(at_ms, super::super::format::TimeMarks::Start, D1).unwrap();
        AnswerRow { at_ms, slot, off, price: Ok(p(1.0)), closed: true }
    };
    let got = prove(
        &[seconds("2020-01-01"), seconds("2020-01-02")],
        &asked("2020-01-01", "2020-01-02", Paging::Forward),
        later(),
    );
    assert!(matches!(got, Err(Invalid::Outside { unit: Some(Unit::TooSmall), .. })), "{got:?}");
    let thousandfold = |d: &str| {
        let at_ms = ms(d) * 1000;
        AnswerRow {
            at_ms,
            slot: super::super::rows::stamp(at_ms, super::super::format::TimeMarks::Start, D1).unwrap().0,
            off: None,
            price: Ok(p(1.0)),
            closed: true,
        }
    };
    let got = prove(&[thousandfold("2020-01-01")], &asked("2020-01-01", "2020-01-02", Paging::Backward), later());
    assert!(matches!(got, Err(Invalid::Outside { unit: Some(Unit::TooLarge), .. })), "{got:?}");
    assert!(Unit::TooLarge.advice().contains("time unit looks wrong"));
}

#[test]
fn rows_out_of_the_declared_order_are_invalid() {
    let rows = [row("2020-01-02", 11.0), row("2020-01-01", 10.0)];
    assert_eq!(prove(&rows, &asked("2020-01-01", "2020-01-02", Paging::Forward), later()), Err(Invalid::Order));
    let newest = Asked { order: Order::NewestFirst, ..asked("2020-01-01", "2020-01-02", Paging::Forward) };
    assert_eq!(on(&rows, &newest), ["10", "11"]);
}

#[test]
fn rows_for_days_not_asked_for_are_ignored() {
    let rows = [row("2019-12-31", 9.0), row("2020-01-01", 10.0), row("2020-01-02", 11.0), row("2020-01-03", 12.0)];
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-02", Paging::Forward), ["10", "11"]);
}

#[test]
fn a_day_not_ended_is_not_closed_row_or_not() {
    let rows = [row("2020-01-01", 10.0), row("2020-01-02", 11.0)];
    let now = ms("2020-01-02") + DAY / 2;
    let got: Vec<_> = prove(&rows, &asked("2020-01-01", "2020-01-03", Paging::Forward), now)
        .unwrap()
        .into_iter()
        .map(|(_, a)| short(&a))
        .collect();
    assert_eq!(got, ["10", "open", "open"]);
    // At the very end of a day, it is over.
    let got = prove(&rows, &asked("2020-01-01", "2020-01-01", Paging::Forward), ms("2020-01-02")).unwrap();
    assert_eq!(short(&got[0].1), "10");
}

#[test]
fn a_closed_flag_that_says_no_is_not_closed() {
    let mut open = row("2020-01-02", 11.0);
    open.closed = false;
    let rows = [row("2020-01-01", 10.0), open];
    assert_eq!(answers(&rows, "2020-01-01", "2020-01-02", Paging::Forward), ["10", "open"]);
}

#[test]
fn a_time_off_the_utc_day_is_refused_unless_a_proper_row_is_there_and_proves_nothing() {
    let rows = [off("2020-01-01", 16), row("2020-01-02", 11.0), off("2020-01-02", 16)];
    let got = answers(&rows, "2020-01-01", "2020-01-02", Paging::Forward);
    assert!(got[0].contains("2020-01-01T16:00:00Z is not the start of a UTC day"), "{got:?}");
    assert_eq!(got[1], "11", "the proper row counts");
    // Binance with open times 8 hours early: every day but the last has a
    // row off its boundary; the last has none, and nothing proves it empty.
    let early = [off("2020-01-01", -8), off("2020-01-02", -8), off("2020-01-03", -8)];
    let got = answers(&early, "2020-01-01", "2020-01-03", Paging::Forward);
    assert!(got[0].starts_with("refused") && got[1].starts_with("refused"), "{got:?}");
    assert_eq!(got[2], "lacking: none of its rows in the days asked is at the start of a day");
}

#[test]
fn two_different_rows_for_a_day_are_refused_and_copies_are_fine() {
    let rows = [row("2020-01-01", 10.0), row("2020-01-01", 10.0), row("2020-01-02", 11.0), row("2020-01-02", 12.0)];
    let got = answers(&rows, "2020-01-01", "2020-01-02", Paging::Forward);
    assert_eq!(got[0], "10");
    assert!(got[1].starts_with("refused: two different rows for 2020-01-02"), "{got:?}");
}

#[test]
fn a_row_that_breaks_the_price_rule_is_refused() {
    let mut bad = row("2020-01-01", 10.0);
    bad.price = Ok(Price { open: 1.0, high: 2.0, low: 3.0, close: 2.5, volume: 0.0 });
    let mut text = row("2020-01-02", 10.0);
    text.price = Err("close is \"x\", not a number".into());
    let got = answers(&[bad, text], "2020-01-01", "2020-01-02", Paging::Forward);
    assert!(got[0].contains("high 2 is below low 3"), "{got:?}");
    assert!(got[1].contains("not a number"), "{got:?}");
}

mod props;
mod slots;
