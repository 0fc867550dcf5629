//! What an answer for a range of days says about each day: the rules that
//! keep a short page, a young pair, a gap, an unclosed candle and a day in
//! another time zone from turning into lost or wrong prices.
//!
//! For each day asked for, in this order:
//! 1. not ended yet (its UTC end is after `now`): `NotClosed`, row or not;
//! 2. rows on the day's UTC boundary: two different ones are `Refused`
//!    (identical copies count once); one whose closed flag says no is
//!    `NotClosed`; else its price, if it passes `check_price`, or `Refused`;
//! 3. no such row but one off the boundary (OKX's `1D` starts at 16:00 UTC)
//!    falls in the day: `Refused`, naming its time. A proper row for the
//!    day wins over an off one: the source answered for the UTC day;
//! 4. no row: `NoData` if the answer covers the day, else `Unanswered`.
//!
//! Coverage. An answer with no rows covers the whole range: the source
//! said "nothing" for exactly these days. A forward answer (anchored at the
//! first day) covers the days up to its last row (rows after the range
//! count: they show the answer went past it); later days are `Unanswered`,
//! since a page may stop early for reasons of its own. Backward answers
//! mirror this from the last day. Rows all before a forward range (or all
//! after a backward one) say nothing of the range but that it is empty:
//! the range is covered.
//!
//! Rows for days not asked for are ignored, except as coverage.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::declare::Paging;
use super::rows::Row;
use super::{check_price, DayAnswer};
use crate::clock::day_end;

/// Each day of `first..=last` with what `rows` (an answer to a request for
/// exactly that range, anchored as `paging` says) tell about it at `now_ms`.
pub fn settle(
    rows: &[Row],
    first: NaiveDate,
    last: NaiveDate,
    paging: Paging,
    now_ms: i64,
) -> Vec<(NaiveDate, DayAnswer)> {
    let mut proper: BTreeMap<NaiveDate, Vec<&Row>> = BTreeMap::new();
    let mut off: BTreeMap<NaiveDate, &Row> = BTreeMap::new();
    for row in rows {
        if row.off.is_some() {
            off.entry(row.day).or_insert(row);
        } else {
            proper.entry(row.day).or_default().push(row);
        }
    }
    let covered = coverage(rows, first, last, paging);
    first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| {
            let answer = if day_end(d) > now_ms {
                DayAnswer::NotClosed
            } else if let Some(found) = proper.get(&d) {
                one_day(d, found)
            } else if let Some(row) = off.get(&d) {
                let at = row.off.as_deref().unwrap_or("?");
                DayAnswer::Refused(format!(
                    "the row at {at} is not the start of a UTC day (a day in another time zone?), so it is not {d}'s price"
                ))
            } else if covered(d) {
                DayAnswer::NoData
            } else {
                DayAnswer::Unanswered
            };
            (d, answer)
        })
        .collect()
}

/// The day of the rows on its boundary.
fn one_day(d: NaiveDate, rows: &[&Row]) -> DayAnswer {
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

fn show(row: &Row) -> String {
    match &row.price {
        Ok(p) => format!("(open {}, high {}, low {}, close {}, volume {})", p.open, p.high, p.low, p.close, p.volume),
        Err(why) => format!("({why})"),
    }
}

/// Which days of the range the answer speaks for.
fn coverage(rows: &[Row], first: NaiveDate, last: NaiveDate, paging: Paging) -> impl Fn(NaiveDate) -> bool {
    let (Some(min), Some(max)) = (rows.iter().map(|r| r.day).min(), rows.iter().map(|r| r.day).max()) else {
        return Box::new(|_| true) as Box<dyn Fn(NaiveDate) -> bool>;
    };
    match paging {
        Paging::Forward if max < first => Box::new(|_| true),
        Paging::Forward => Box::new(move |d| d <= max),
        Paging::Backward if min > last => Box::new(|_| true),
        Paging::Backward => Box::new(move |d| d >= min),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::price::Price;

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

    fn row(d: &str, close: f64) -> Row {
        Row { at_ms: ms(d), day: day(d), off: None, price: Ok(p(close)), closed: true }
    }

    /// Long after the days in these tests.
    fn later() -> i64 {
        ms("2021-01-01")
    }

    fn answers(rows: &[Row], first: &str, last: &str, paging: Paging) -> Vec<String> {
        settle(rows, day(first), day(last), paging, later()).into_iter().map(|(_, a)| short(&a)).collect()
    }

    fn short(a: &DayAnswer) -> String {
        match a {
            DayAnswer::Price(p) => format!("{}", p.close),
            DayAnswer::NoData => "none".into(),
            DayAnswer::Unanswered => "?".into(),
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
    fn a_young_pair_has_no_data_before_its_first_row() {
        let rows = [row("2020-01-03", 12.0), row("2020-01-04", 13.0)];
        assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Forward), ["none", "none", "12", "13"]);
        // Anchored at the last day, a page that starts late may have been cut: ask again.
        assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Backward), ["?", "?", "12", "13"]);
    }

    #[test]
    fn a_page_that_stops_early_leaves_the_rest_unanswered() {
        let rows = [row("2020-01-01", 10.0), row("2020-01-02", 11.0)];
        assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Forward), ["10", "11", "?", "?"]);
        assert_eq!(answers(&rows, "2020-01-01", "2020-01-04", Paging::Backward), ["10", "11", "none", "none"]);
        // A row past the range shows the answer went on: the days between are covered.
        let rows = [row("2020-01-01", 10.0), row("2020-01-05", 14.0)];
        assert_eq!(answers(&rows, "2020-01-01", "2020-01-03", Paging::Forward), ["10", "none", "none"]);
    }

    #[test]
    fn an_empty_answer_is_no_data_for_the_whole_range() {
        assert_eq!(answers(&[], "2020-01-01", "2020-01-02", Paging::Forward), ["none", "none"]);
        assert_eq!(answers(&[], "2020-01-01", "2020-01-02", Paging::Backward), ["none", "none"]);
        // Only a row before the range (Coinbase may send candles before `start`).
        let before = [row("2019-12-31", 9.0)];
        assert_eq!(answers(&before, "2020-01-01", "2020-01-02", Paging::Forward), ["none", "none"]);
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
        let got: Vec<_> = settle(&rows, day("2020-01-01"), day("2020-01-03"), Paging::Forward, now)
            .into_iter()
            .map(|(_, a)| short(&a))
            .collect();
        assert_eq!(got, ["10", "open", "open"]);
        // At the very end of a day, it is over.
        let got = settle(&rows, day("2020-01-01"), day("2020-01-01"), Paging::Forward, ms("2020-01-02"));
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
    fn a_time_off_the_utc_day_is_refused_unless_a_proper_row_is_there() {
        let off = |d: &str| Row {
            at_ms: ms(d) + 16 * 3_600_000,
            day: day(d),
            off: Some(format!("{d}T16:00:00Z")),
            price: Ok(p(5.0)),
            closed: true,
        };
        let rows = [off("2019-12-31"), off("2020-01-01"), row("2020-01-02", 11.0), off("2020-01-02")];
        let got = answers(&rows, "2020-01-01", "2020-01-02", Paging::Forward);
        assert!(got[0].contains("2020-01-01T16:00:00Z is not the start of a UTC day"), "{got:?}");
        assert_eq!(got[1], "11", "the proper row counts");
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
}
