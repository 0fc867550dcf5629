use chrono::NaiveDate;

use super::*;
use crate::selection::Pair;
use crate::store::candles::DayTask;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn task(state: TaskState, reason: Reason) -> Option<DayTask> {
    Some(DayTask { state, reason })
}

/// The minutes of a day at 1m, but those in `holes` (minutes of the day).
fn minutes_but(day: NaiveDate, holes: &[std::ops::RangeInclusive<i64>]) -> Vec<i64> {
    let first = Interval::M1.first_slot(day);
    (0..1440).filter(|m| !holes.iter().any(|h| h.contains(m))).map(|m| first + m).collect()
}

/// Long after every day of the tests: all their candles have closed.
const LATER: i64 = 4_000_000_000_000;

#[test]
fn a_done_days_gaps_are_proven_empty_between_the_candles_either_side() {
    let day = d("2020-03-12");
    let pair = Pair::new("binance", "BTCUSDT");
    let minutes = minutes_but(day, &[133..=135]);
    let cd = CandleDay { pair: &pair, day, task: task(TaskState::Done, Reason::PriceDeleted), minutes: &minutes };
    let gaps = DayGaps::of(&cd, Interval::M1, LATER);
    assert_eq!((gaps.stored, gaps.expected, gaps.kind), (1437, 1440, Kind::Partial));
    assert_eq!(gaps.runs.len(), 1);
    assert_eq!((gaps.runs[0].len(), &gaps.runs[0].reason), (3, &Reason::NoData));
    assert_eq!(
        gaps.describe(Interval::M1, 4),
        "no data 02:13-02:15 (no trades between the candles at 02:12 and 02:16)"
    );
    assert_eq!(thousands(gaps.stored), "1,437");
}

#[test]
fn gaps_at_a_days_edges_name_the_one_candle_beside_them() {
    let day = d("2020-03-12");
    let pair = Pair::new("binance", "BTCUSDT");
    let minutes = minutes_but(day, &[0..=5, 1439..=1439]);
    let cd = CandleDay { pair: &pair, day, task: task(TaskState::Done, Reason::PriceDeleted), minutes: &minutes };
    let text = DayGaps::of(&cd, Interval::M1, LATER).describe(Interval::M1, 4);
    assert_eq!(
        text,
        "no data 00:00-00:05 (no trades before the day's first candle, at 00:06); \
         no data 23:59 (no trades after the day's last candle, at 23:58)"
    );
}

#[test]
fn a_complete_day_has_no_run_and_a_day_never_queued_lacks_every_candle() {
    let day = d("2020-03-12");
    let pair = Pair::new("binance", "BTCUSDT");
    let all = minutes_but(day, &[]);
    let cd = CandleDay { pair: &pair, day, task: task(TaskState::Done, Reason::PriceDeleted), minutes: &all };
    let gaps = DayGaps::of(&cd, Interval::M1, LATER);
    assert_eq!((gaps.kind, gaps.runs.len(), gaps.stored), (Kind::Price, 0, 1440));
    let none = CandleDay { pair: &pair, day, task: None, minutes: &[] };
    let gaps = DayGaps::of(&none, Interval::H1, LATER);
    assert_eq!((gaps.kind, gaps.expected, gaps.runs.len()), (Kind::NotQueued, 24, 1));
    assert_eq!(gaps.describe(Interval::H1, 4), "not queued", "a whole day needs no hours");
}

#[test]
fn todays_candles_not_yet_closed_are_said_so_whatever_the_task_does() {
    let day = d("2020-03-12");
    let pair = Pair::new("binance", "BTCUSDT");
    let first = Interval::H1.first_slot(day) * 60;
    // Ten hours closed and stored; it is now 10:30.
    let minutes: Vec<i64> = (0..10).map(|h| first + h * 60).collect();
    let now = (first + 10 * 60 + 30) * 60_000;
    let waiting = task(TaskState::NotYetDue, Reason::NotYetDue { at: now + 1_800_000, note: None });
    let cd = CandleDay { pair: &pair, day, task: waiting, minutes: &minutes };
    let gaps = DayGaps::of(&cd, Interval::H1, now);
    assert_eq!((gaps.stored, gaps.kind), (10, Kind::NotYetDue));
    assert_eq!(gaps.runs.len(), 1);
    assert!(gaps.runs[0].not_closed && !gaps.runs[0].reason.is_settled());
    assert_eq!(gaps.describe(Interval::H1, 4), "not yet closed 10:00-23:00");
}

#[test]
fn a_failed_day_says_its_error_and_many_gaps_are_cut_short() {
    let day = d("2020-03-12");
    let pair = Pair::new("binance", "BTCUSDT");
    let failed = task(TaskState::Failed, Reason::Failed { error: "HTTP 500".into() });
    let cd = CandleDay { pair: &pair, day, task: failed, minutes: &[] };
    let gaps = DayGaps::of(&cd, Interval::M5, LATER);
    assert_eq!((gaps.kind, gaps.describe(Interval::M5, 4)), (Kind::Failed, "failed: HTTP 500".to_string()));
    // Every other minute missing: 720 runs, four named.
    let odd: Vec<i64> = minutes_but(day, &[]).into_iter().step_by(2).collect();
    let cd = CandleDay { pair: &pair, day, task: task(TaskState::Done, Reason::PriceDeleted), minutes: &odd };
    let gaps = DayGaps::of(&cd, Interval::M1, LATER);
    assert_eq!(gaps.runs.len(), 720);
    assert!(gaps.describe(Interval::M1, 4).ends_with("; and 716 more (--format json lists each)"));
}

#[test]
fn open_times_read_as_the_clock_of_their_day() {
    assert_eq!(clock(Interval::M1, Interval::M1.first_slot(d("2020-03-12")) + 133), "02:13");
    assert_eq!(clock(Interval::H4, Interval::H4.first_slot(d("2020-03-12")) + 5), "20:00");
    assert_eq!(thousands(1440), "1,440");
    assert_eq!(thousands(525_600), "525,600");
    assert_eq!(thousands(12), "12");
}

#[test]
fn a_day_reaching_back_past_the_sources_history_is_outside_it_up_to_its_first_candle() {
    let day = d("2020-03-12");
    let pair = Pair::new("kraken", "XBTUSD");
    // The source's window starts at 13:21: before it, outside; a quiet run after it, proven.
    let minutes = minutes_but(day, &[0..=800, 1064..=1069]);
    let cd = CandleDay {
        pair: &pair,
        day,
        task: task(TaskState::OutsideHistory, Reason::OutsideHistory),
        minutes: &minutes,
    };
    let gaps = DayGaps::of(&cd, Interval::M1, LATER);
    assert_eq!(gaps.kind, Kind::OutsideHistory);
    assert_eq!(
        gaps.describe(Interval::M1, 4),
        "outside the source's history 00:00-13:20; no data 17:44-17:49 (no trades between the candles at 17:43 and \
         17:50)"
    );
}
