//! The rule below a day: the same cases as a day's, with candles for days.

use super::*;

const M1: Interval = Interval::M1;
const H1: Interval = Interval::H1;

/// 2020-01-01T00:00Z plus `minutes`, in ms.
fn t(minutes: i64) -> i64 {
    ms("2020-01-01") + minutes * 60_000
}

/// A row at `at_ms` as `rows::read` gives it at `iv`.
fn candle(iv: Interval, at_ms: i64, close: f64) -> AnswerRow {
    // `p` puts the low 1 below the close: closes here are above 1.
    let close = close + 10.0;
    let (slot, off) = crate::source::rows::stamp(at_ms, crate::source::format::TimeMarks::Start, iv).unwrap();
    AnswerRow { at_ms, slot, off, price: Ok(p(close)), closed: true }
}

/// A request for the candles at `iv` from `from` (minutes after
/// 2020-01-01T00:00Z), `count` of them, that names both ends.
fn candles(iv: Interval, from: i64, count: i64, paging: Paging) -> Asked {
    let first = iv.slot_of_ms(t(from));
    Asked { interval: iv, first, last: first + count - 1, ..asked("2020-01-01", "2020-01-01", paging) }
}

fn at_now(rows: &[AnswerRow], asked: &Asked, now: i64) -> Vec<String> {
    match prove(rows, asked, now) {
        Ok(slots) => slots.into_iter().map(|(_, a)| short(&a)).collect(),
        Err(e) => vec![format!("invalid: {e:?}")],
    }
}

#[test]
fn a_gap_inside_a_page_of_minutes_is_no_data() {
    let rows = [candle(M1, t(0), 1.0), candle(M1, t(1), 2.0), candle(M1, t(4), 5.0)];
    let got = on(&rows, &candles(M1, 0, 5, Paging::Forward));
    assert_eq!(got, ["11", "12", "none", "none", "15"]);
    // Each slot once, in order, numbered as `Interval::slot_of_ms` numbers them.
    let slots: Vec<i64> =
        prove(&rows, &candles(M1, 0, 5, Paging::Forward), later()).unwrap().into_iter().map(|(s, _)| s).collect();
    let first = M1.slot_of_ms(t(0));
    assert_eq!(slots, (first..first + 5).collect::<Vec<_>>());
    // An empty answer for exactly the candles asked proves them all empty.
    assert_eq!(on(&[], &candles(M1, 10, 3, Paging::Forward)), ["none", "none", "none"]);
}

#[test]
fn a_page_cut_at_its_cap_is_cut_where_the_source_cuts_and_lacking_elsewhere() {
    // Forward (Binance): 1000 rows from the first of 1500 minutes asked.
    let page: Vec<AnswerRow> = (0..1000).map(|i| candle(M1, t(i), 7.0)).collect();
    let got = on(&page, &candles(M1, 0, 1500, Paging::Forward));
    assert!(got[..1000].iter().all(|a| a == "17") && got[1000..].iter().all(|a| a == "cut"), "{:?}", &got[995..1005]);
    // Backward (OKX, Bitstamp): the newest rows, the oldest cut.
    let page: Vec<AnswerRow> = (2..5).map(|i| candle(H1, t(i * 60), 7.0)).collect();
    assert_eq!(on(&page, &candles(H1, 0, 5, Paging::Backward)), ["cut", "cut", "17", "17", "17"]);
    // Cut at the end the source does not cut: proves nothing, named to the minute.
    let lacking = "lacking: its rows stop at 2020-01-01T02:00Z";
    assert_eq!(on(&page[..1], &candles(H1, 120, 2, Paging::Backward)), ["17", lacking]);
}

#[test]
fn rows_off_the_candle_s_boundary_are_refused_and_prove_nothing() {
    // 01:30 in an hourly answer: not the 01:00 candle's open.
    let rows = [candle(H1, t(0), 1.0), candle(H1, t(90), 2.0), candle(H1, t(120), 3.0)];
    let got = on(&rows, &candles(H1, 0, 3, Paging::Forward));
    assert_eq!(got[0], "11");
    assert_eq!(
        got[1],
        "refused: the row at 2020-01-01T01:30:00Z is not the start of a 1h candle, so it is not the price of the candle at 2020-01-01T01:00Z"
    );
    assert_eq!(got[2], "13");
    // Every row 30 s early: no candle proved, the last one lacking.
    let late: Vec<AnswerRow> = (0..3).map(|i| candle(M1, t(i) - 30_000, 1.0)).collect();
    let got = on(&late, &candles(M1, 0, 3, Paging::Forward));
    assert!(got[..2].iter().all(|a| a.starts_with("refused")), "{got:?}");
    assert_eq!(got[2], "lacking: none of its rows in the candles asked is at the start of a candle");
}

#[test]
fn the_candle_not_closed_yet_is_not_closed_row_or_not() {
    let rows = [candle(H1, t(0), 1.0), candle(H1, t(60), 2.0), candle(H1, t(120), 3.0)];
    // 02:59:59.999: the 02:00 candle closes at 03:00.
    let got = at_now(&rows, &candles(H1, 0, 4, Paging::Forward), t(180) - 1);
    assert_eq!(got, ["11", "12", "open", "open"]);
    // At 03:00 it has closed; the 03:00 one has not.
    let got = at_now(&rows, &candles(H1, 0, 4, Paging::Forward), t(180));
    assert_eq!(got, ["11", "12", "13", "open"]);
    // A closed flag that says no (OKX `confirm`).
    let mut open = candle(M1, t(1), 2.0);
    open.closed = false;
    assert_eq!(on(&[candle(M1, t(0), 1.0), open], &candles(M1, 0, 2, Paging::Backward)), ["11", "open"]);
}

#[test]
fn a_latest_only_source_s_window_of_minutes_starts_where_its_rows_do() {
    // Kraken at 1m: `since` names no end, and its answer holds its latest
    // rows, from the oldest it still has (12:00) to now.
    let now = t(12 * 60 + 719) + 30_000;
    let kraken = Asked { bounded_end: false, latest_only: true, ..candles(M1, 11 * 60 + 58, 4, Paging::Forward) };
    let rows: Vec<AnswerRow> = (720..1440).map(|i| candle(M1, t(i), 1.0)).collect();
    let got = at_now(&rows, &kraken, now);
    let old = "old?: its rows start at 2020-01-01T12:00Z";
    assert_eq!(got, [old, old, "11", "11"]);
}

#[test]
fn rows_of_another_day_or_unit_are_outside_the_window() {
    // Minutes of the next day for minutes asked: the server ignored the range.
    let rows = [candle(M1, t(1440), 1.0), candle(M1, t(1441), 2.0)];
    let got = prove(&rows, &candles(M1, 0, 2, Paging::Forward), later());
    let Err(Invalid::Outside { rows: 2, first, last, unit: None }) = got else { panic!("{got:?}") };
    assert_eq!((first.as_str(), last.as_str()), ("2020-01-02T00:00Z", "2020-01-02T00:01Z"));
    // Seconds read as milliseconds.
    let seconds = [candle(M1, t(0) / 1000, 1.0), candle(M1, t(1) / 1000, 1.0)];
    let got = prove(&seconds, &candles(M1, 0, 2, Paging::Forward), later());
    assert!(matches!(got, Err(Invalid::Outside { unit: Some(Unit::TooSmall), .. })), "{got:?}");
}
