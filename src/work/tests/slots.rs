//! Candles below a day with a fake source: the pages a batch's days take,
//! and what each day comes to.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDate;

use crate::interval::Interval;
use crate::price::Price;
use crate::source::{DayAnswer, FetchError, PriceSource, SlotAnswer, Unproven};
use crate::store::{Completion, Outcome, Task};
use crate::work::fetcher::Fetcher;
use crate::work::{batches::batch_days, Lane, Observer, Shared, SlotRequest, WorkOptions};

/// A source of candles at one interval that pages forward (or backward),
/// as `prove` reads it: a candle in every slot but the quiet `gaps` (empty where
/// rows of the answer lie on both sides) and the `unshown` (never proven
/// either way), pages of at most `max_rows` slots (`page` rows when it
/// cuts them shorter), refusing the rows of `refused`; the current candle
/// is sent, not closed. Records each request.
struct Candles {
    interval: Interval,
    max_rows: u32,
    page: usize,
    gaps: BTreeSet<i64>,
    unshown: BTreeSet<i64>,
    refused: BTreeSet<i64>,
    /// Pages newest first, cut at their oldest end (OKX, Bitstamp).
    backward: bool,
    asked: Mutex<Vec<(i64, i64)>>,
}

impl Candles {
    fn new(interval: Interval, max_rows: u32) -> Candles {
        Candles {
            interval,
            max_rows,
            page: max_rows as usize,
            gaps: BTreeSet::new(),
            unshown: BTreeSet::new(),
            refused: BTreeSet::new(),
            backward: false,
            asked: Mutex::new(Vec::new()),
        }
    }

    fn asked(&self) -> Vec<(i64, i64)> {
        self.asked.lock().unwrap().clone()
    }
}

/// The fake's candle of slot `slot`: its open is the slot's number.
fn price(slot: i64) -> Price {
    let p = slot as f64;
    Price { open: p, high: p + 2.0, low: p - 1.0, close: p + 1.0, volume: 3.0 }
}

impl PriceSource for Candles {
    fn name(&self) -> &str {
        "candles"
    }
    fn server(&self) -> &str {
        "fake://candles"
    }
    fn exchange(&self) -> Option<&str> {
        Some("candles")
    }
    fn intervals(&self) -> Vec<Interval> {
        vec![self.interval, Interval::D1]
    }
    fn max_rows(&self, _interval: Interval) -> u32 {
        self.max_rows
    }
    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["candles".into()])
    }
    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["A".into()])
    }
    fn fetch(&self, _: &str, _: &str, _: NaiveDate, _: NaiveDate) -> Result<crate::source::Answer, FetchError> {
        Err(FetchError::Permanent("days are not asked here".into()))
    }
    fn fetch_slots(&self, _: &str, _: &str, iv: Interval, first: i64, last: i64) -> Result<SlotAnswer, FetchError> {
        assert_eq!(iv, self.interval);
        assert!(last - first < i64::from(self.max_rows), "{} slots asked, more than a page", last - first + 1);
        self.asked.lock().unwrap().push((first, last));
        let open = iv.slot_of_ms(crate::clock::now_ms());
        // The rows it sends: a page of them from the first, forward.
        let mut rows: Vec<i64> =
            (first..=last.min(open)).filter(|s| !self.gaps.contains(s) && !self.unshown.contains(s)).collect();
        if self.backward {
            rows.drain(..rows.len().saturating_sub(self.page));
        } else {
            rows.truncate(self.page);
        }
        let (low, high) = (rows.first().copied(), rows.last().copied());
        // The rule of `source::prove` for a source that pages forward.
        let slots = (first..=last)
            .map(|s| {
                let answer = if s >= open {
                    DayAnswer::NotClosed
                } else if self.unshown.contains(&s) {
                    DayAnswer::Unanswered(Unproven::Lacking { why: "no row there".into(), history_ends: false })
                } else if rows.binary_search(&s).is_ok() {
                    match self.refused.contains(&s) {
                        true => DayAnswer::Refused("two different rows".into()),
                        false => DayAnswer::Price(price(s)),
                    }
                } else {
                    match (low, high) {
                        (None, _) | (_, None) => DayAnswer::NoData,
                        (Some(low), _) if s < low && self.backward => DayAnswer::Unanswered(Unproven::Cut),
                        (Some(low), _) if s < low => DayAnswer::Unanswered(Unproven::Lacking {
                            why: format!("its rows start at slot {low}"),
                            history_ends: false,
                        }),
                        (_, Some(high)) if s > high && !self.backward => DayAnswer::Unanswered(Unproven::Cut),
                        (_, Some(high)) if s > high => DayAnswer::Unanswered(Unproven::Lacking {
                            why: format!("its rows stop at slot {high}"),
                            history_ends: false,
                        }),
                        _ => DayAnswer::NoData,
                    }
                };
                (s, answer)
            })
            .collect();
        Ok(SlotAnswer { slots, slow_down: None })
    }
}

/// One request as the observer heard it: the slots asked, the candles
/// that came, and the days it settled.
type Request = (i64, i64, usize, Vec<NaiveDate>);

/// Each request as the observer heard it.
#[derive(Default)]
struct Heard {
    requests: Mutex<Vec<Request>>,
}

impl Observer for Heard {
    fn candles(&self, asked: &SlotRequest, done: &[Completion], _took: Duration) {
        let days = done.iter().map(|c| c.task.day).collect();
        self.requests.lock().unwrap().push((asked.first, asked.last, asked.candles, days));
    }
}

fn task(id: i64, day: NaiveDate, interval: Interval) -> Task {
    Task {
        id,
        exchange: "candles".into(),
        symbol: "A".into(),
        day,
        interval,
        source: "candles".into(),
        attempts: 0,
        rounds: 0,
        token: 1,
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Fetches `days` days from `first` at the source's interval, as one
/// batch; returns the outcomes by day (in the order they were handed on),
/// the messages they came in, and what the observer heard.
fn fetch(source: Candles, first: NaiveDate, days: usize) -> (Arc<Candles>, Vec<Completion>, usize, Arc<Heard>) {
    let source = Arc::new(source);
    let tasks: Vec<Task> =
        first.iter_days().take(days).enumerate().map(|(i, d)| task(i as i64 + 1, d, source.interval)).collect();
    let lane = Arc::new(Lane::new(source.clone(), None));
    let shared = Arc::new(Shared { stopping: AtomicBool::new(false), lanes: vec![lane.clone()] });
    let (_batch_tx, batches) = crossbeam_channel::unbounded();
    let (done, results) = crossbeam_channel::unbounded();
    let heard = Arc::new(Heard::default());
    let opts = WorkOptions { retry_delay: Duration::from_millis(10), ..WorkOptions::default() };
    let fetcher = Fetcher { shared, opts, batches, done, observer: heard.clone() };
    let mut sent = Vec::new();
    fetcher.fetch_candles(&lane, tasks, &mut sent);
    drop(fetcher);
    let messages: Vec<Vec<Completion>> = results.iter().collect();
    let n = messages.len();
    let all: Vec<Completion> = messages.into_iter().flatten().collect();
    let mut ids: Vec<i64> = all.iter().map(|c| c.task.id).collect();
    ids.sort();
    assert_eq!(ids, (1..=days as i64).collect::<Vec<_>>(), "every day handed on once");
    assert_eq!(sent.len(), days);
    (source, all, n, heard)
}

/// The candles of `outcome`, checked to be the fake's for every slot of
/// `day` at `interval` but `missing`.
fn check_candles(outcome: &Outcome, day: NaiveDate, interval: Interval, missing: &[i64]) {
    let Outcome::Candles(candles) = outcome else { panic!("{day}: {outcome:?}") };
    let want: Vec<i64> = interval.day_slots(day).filter(|s| !missing.contains(s)).collect();
    let got: Vec<i64> = candles.iter().map(|c| c.minute * 60_000 / interval.ms()).collect();
    assert_eq!(got, want, "{day}");
    for c in candles {
        assert_eq!(c.minute % interval.minutes(), 0);
        assert_eq!(c.price, price(c.minute * 60_000 / interval.ms()));
    }
}

#[test]
fn one_request_covers_many_days_at_1h() {
    let (source, done, _, heard) = fetch(Candles::new(Interval::H1, 1000), day("2024-01-01"), 41);
    let first = Interval::H1.first_slot(day("2024-01-01"));
    // 41 days of 24 candles: one request, which has room for the 16 after them.
    assert_eq!(source.asked(), [(first, first + 999)]);
    for c in &done {
        check_candles(&c.outcome, c.task.day, Interval::H1, &[]);
    }
    let heard = heard.requests.lock().unwrap();
    assert_eq!((heard.len(), heard[0].2, heard[0].3.len()), (1, 984, 41));
}

#[test]
fn pages_run_across_day_boundaries_and_each_day_is_handed_on_once_settled_at_1m() {
    let (source, done, messages, heard) = fetch(Candles::new(Interval::M1, 1000), day("2024-01-01"), 3);
    let first = Interval::M1.first_slot(day("2024-01-01"));
    // 4,320 candles: five requests, the fewest, each on from the last; the
    // last with room for 250 minutes after the batch.
    let want: Vec<(i64, i64)> =
        (0..5).map(|i| (first + i * 1000, (first + i * 1000 + 999).min(first + 4569))).collect();
    assert_eq!(source.asked(), want);
    for c in &done {
        check_candles(&c.outcome, c.task.day, Interval::M1, &[]);
    }
    // The first day is settled by the second page, the second by the
    // third: each goes to be stored then, not with the batch's end.
    let heard = heard.requests.lock().unwrap();
    let settled: Vec<Vec<NaiveDate>> = heard.iter().map(|r| r.3.clone()).collect();
    assert_eq!(settled, [vec![], vec![day("2024-01-01")], vec![day("2024-01-02")], vec![], vec![day("2024-01-03")]]);
    assert_eq!(messages, 3);
    let candles: Vec<usize> = heard.iter().map(|r| r.2).collect();
    assert_eq!(candles, [1000, 1000, 1000, 1000, 320]);
}

#[test]
fn a_gap_proven_is_a_missing_candle_and_a_day_of_gaps_is_no_data() {
    let mut source = Candles::new(Interval::H1, 1000);
    let d2 = Interval::H1.first_slot(day("2020-03-02"));
    source.gaps.extend([d2 + 2, d2 + 3]);
    source.gaps.extend(Interval::H1.day_slots(day("2020-03-03")));
    let (source, done, _, _) = fetch(source, day("2020-03-01"), 4);
    assert_eq!(source.asked().len(), 1);
    let by_day = |d: &str| &done.iter().find(|c| c.task.day == day(d)).unwrap().outcome;
    check_candles(by_day("2020-03-01"), day("2020-03-01"), Interval::H1, &[]);
    check_candles(by_day("2020-03-02"), day("2020-03-02"), Interval::H1, &[d2 + 2, d2 + 3]);
    assert_eq!(by_day("2020-03-03"), &Outcome::NoData);
    check_candles(by_day("2020-03-04"), day("2020-03-04"), Interval::H1, &[]);
}

#[test]
fn quiet_minutes_where_a_page_stops_are_proven_by_the_next_from_the_candle_before() {
    let mut source = Candles::new(Interval::M1, 1000);
    let first = Interval::M1.first_slot(day("2020-03-01"));
    // Across the first page's end, at the batch's start, and at its end.
    let quiet = [first + 997, first + 998, first + 999, first + 1000, first + 4318, first + 4319];
    source.gaps.extend(quiet);
    source.gaps.insert(first);
    let (source, done, _, _) = fetch(source, day("2020-03-01"), 3);
    let starts: Vec<i64> = source.asked().iter().map(|(a, _)| a - first).collect();
    // The minute the batch starts with has no row before it in the batch:
    // asked once more alone, in a page with no row, which proves it empty.
    // The page after the first starts at its last candle (996), and carries
    // on; the last page reaches 250 minutes past the batch. One request
    // more than the fewest, for the first minute.
    assert_eq!(starts, [0, 0, 996, 1996, 2996, 3996], "{:?}", source.asked());
    assert_eq!(source.asked()[1], (first, first));
    assert_eq!(source.asked()[5].1 - first, 4319 + 250);
    let mut missing = quiet.to_vec();
    missing.push(first);
    for c in &done {
        check_candles(&c.outcome, c.task.day, Interval::M1, &missing);
    }
}

#[test]
fn a_quiet_run_longer_than_a_page_of_a_source_paging_backward_is_proven_by_pages_inside_it() {
    // OKX: 100 candles a page, newest first; hours with no trade.
    let mut source = Candles::new(Interval::M1, 100);
    source.backward = true;
    let first = Interval::M1.first_slot(day("2024-03-12"));
    let quiet: Vec<i64> = (first + 180..first + 390).chain([first + 97, first + 98, first + 500]).collect();
    source.gaps.extend(quiet.iter().copied());
    let (source, done, _, _) = fetch(source, day("2024-03-12"), 1);
    check_candles(&done[0].outcome, day("2024-03-12"), Interval::M1, &quiet);
    let asked = source.asked();
    // 15 pages cover the day; the quiet runs where pages start or stop
    // cost a few more, each no longer than a page.
    assert!(asked.len() <= 15 + 5, "{} requests: {asked:?}", asked.len());
    assert!(asked.iter().all(|(a, b)| b - a < 100));
}

#[test]
fn slots_not_shown_are_asked_once_more_then_their_day_is_retried_naming_them() {
    let mut source = Candles::new(Interval::M1, 1000);
    let d2 = Interval::M1.first_slot(day("2020-03-02"));
    // 02:13 to 02:15 of the second day: no proof either way.
    source.unshown.extend([d2 + 133, d2 + 134, d2 + 135]);
    let (source, done, _, _) = fetch(source, day("2020-03-01"), 3);
    // Once more in a page of their own, from the candle before them to
    // the one after: one request more than the fewest.
    let first = Interval::M1.first_slot(day("2020-03-01"));
    let asked: Vec<(i64, i64)> = source.asked().iter().map(|(a, b)| (a - first, b - first)).collect();
    assert_eq!(asked, [(0, 999), (1000, 1999), (1440 + 132, 1440 + 136), (2000, 2999), (3000, 3999), (4000, 4569)]);
    for c in &done {
        match c.task.day.to_string().as_str() {
            "2020-03-02" => {
                let Outcome::Retry { error, .. } = &c.outcome else { panic!("{:?}", c.outcome) };
                assert!(error.contains("asked twice for the 1m candles of 2020-03-02 02:13 to 02:15"), "{error}");
                assert!(error.contains("no row there") && error.contains("nothing proves"), "{error}");
            }
            _ => check_candles(&c.outcome, c.task.day, Interval::M1, &[]),
        }
    }
}

#[test]
fn a_page_cut_short_is_followed_from_where_it_stopped() {
    let mut source = Candles::new(Interval::M1, 1000);
    source.page = 700;
    let (source, done, _, _) = fetch(source, day("2020-03-01"), 2);
    let asked = source.asked();
    let first = Interval::M1.first_slot(day("2020-03-01"));
    // 2,880 candles at 700 a page: five requests, each from the last
    // candle the page before sent (a quiet minute after it would need it).
    let starts: Vec<i64> = asked.iter().map(|(a, _)| a - first).collect();
    assert_eq!(starts, [0, 699, 1398, 2097, 2796]);
    for c in &done {
        check_candles(&c.outcome, c.task.day, Interval::M1, &[]);
    }
}

#[test]
fn a_refused_row_fails_its_day_naming_the_candle() {
    let mut source = Candles::new(Interval::H1, 1000);
    let d1 = Interval::H1.first_slot(day("2020-03-01"));
    source.refused.insert(d1 + 5);
    let (_, done, _, _) = fetch(source, day("2020-03-01"), 2);
    let Outcome::Failed { error } = &done[0].outcome else { panic!("{:?}", done[0].outcome) };
    assert_eq!(error, "candles's 1h candles of 2020-03-01 05:00: two different rows");
    check_candles(&done[1].outcome, done[1].task.day, Interval::H1, &[]);
}

#[test]
fn today_stores_its_closed_candles_and_waits_for_the_next_to_close() {
    let now = crate::clock::now_ms();
    let today = chrono::DateTime::from_timestamp_millis(now).unwrap().date_naive();
    let (source, done, _, _) = fetch(Candles::new(Interval::H1, 1000), today, 1);
    let iv = Interval::H1;
    let (first, open) = (iv.first_slot(today), iv.slot_of_ms(now));
    // The hours closed, and the one under way (its row, not closed yet,
    // proves quiet hours before it); none after it.
    let asked = source.asked();
    assert!(asked.iter().all(|(_, b)| *b <= open), "{asked:?}");
    let Outcome::CandlesSoFar { candles, at } = &done[0].outcome else { panic!("{:?}", done[0].outcome) };
    let got: Vec<i64> = candles.iter().map(|c| c.minute * 60_000 / iv.ms()).collect();
    // A test started just before an hour turns may see the next one closed.
    let later = iv.slot_of_ms(crate::clock::now_ms());
    assert!(got == (first..open).collect::<Vec<_>>() || got == (first..later).collect::<Vec<_>>(), "{got:?}");
    let grace = crate::clock::ms(WorkOptions::default().grace);
    let next = iv.slot_start_ms(first + got.len() as i64 + 1);
    assert_eq!(*at, next + grace, "asked again once the hour under way has closed, and the grace passed");
}

#[test]
fn a_batch_spans_the_days_that_fill_whole_requests() {
    let days = |iv: Interval, rows: u32| batch_days(&Candles::new(iv, rows), iv);
    // Binance and Bitstamp (1000): 25 days of 1m are 36 pages, 125 of 1h three.
    assert_eq!((days(Interval::M1, 1000), days(Interval::H1, 1000)), (25, 125));
    // Coinbase (300): five days of 1m, 24 pages; OKX (100): five days too.
    assert_eq!((days(Interval::M1, 300), days(Interval::M1, 100)), (5, 5));
    // Kraken (720): half a day a page.
    assert_eq!(days(Interval::M1, 720), 1);
    // Bitfinex (10,000) at 1h would take 1,250 days: bounded, in whole pages.
    assert_eq!(days(Interval::H1, 10_000), 366, "a year and a day: 8,784 candles, one page");
    assert_eq!(days(Interval::D1, 1000), 1, "at 1d, max_days (the fake's default)");
}
