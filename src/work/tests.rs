//! The workers with a fake price source: no HTTP, every answer scripted.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::{run, Observer, Summary, WorkOptions};
use crate::price::Price;
use crate::source::{Answer, DayAnswer, FetchError, PriceSource, Unproven};
use crate::store::{Create, Store};

mod slots;

/// Answers every price at once, but the first `refuse` requests with a
/// 429 asking for no wait at all; records when each request came.
struct Fake {
    refuse: usize,
    calls: Mutex<Vec<(NaiveDate, Instant)>>,
}

impl PriceSource for Fake {
    fn server(&self) -> &str {
        "fake://prices"
    }
    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["x".into()])
    }
    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["btc".into()])
    }
    fn name(&self) -> &str {
        "fake"
    }
    fn fetch(&self, _exchange: &str, _symbol: &str, day: NaiveDate, _last: NaiveDate) -> Result<Answer, FetchError> {
        let n = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((day, Instant::now()));
            calls.len()
        };
        if n <= self.refuse {
            return Err(FetchError::RateLimited { message: "HTTP 429".into(), retry_after: Some(Duration::ZERO) });
        }
        std::thread::sleep(Duration::from_millis(2));
        let price = Price { open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 3.0 };
        Ok(Answer { days: vec![(day, DayAnswer::Price(price))], slow_down: None })
    }
}

/// Counts the commits; sets `stop` after `stop_after` of them, if given.
struct Watch {
    commits: AtomicUsize,
    stop_after: Option<usize>,
    stop: Arc<AtomicBool>,
}

impl Observer for Watch {
    fn progress(&self, _summary: &Summary, _total: u64) {
        let n = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if self.stop_after.is_some_and(|after| n >= after) {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
}

fn queue(days: usize) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::store::Options::new(dir.path().join("q.db"), Create::IfMissing)).unwrap();
    let days: Vec<NaiveDate> = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap().iter_days().take(days).collect();
    store
        .enqueue_days(
            "fake",
            &["x".into()],
            &["btc".into()],
            crate::interval::Interval::D1,
            &days,
            crate::clock::now_ms(),
            Duration::ZERO,
        )
        .unwrap();
    (dir, store)
}

fn go(store: &Store, fake: &Arc<Fake>, watch: &Arc<Watch>) -> Summary {
    let opts = WorkOptions { workers: 4, server_checked: true, ..WorkOptions::default() };
    run(store, vec![fake.clone()], &opts, &watch.stop, watch.clone()).unwrap()
}

fn watch(stop_after: Option<usize>) -> Arc<Watch> {
    Arc::new(Watch { commits: AtomicUsize::new(0), stop_after, stop: Arc::new(AtomicBool::new(false)) })
}

#[test]
fn every_task_is_asked_once_in_queue_order_and_committed_in_groups() {
    let (_dir, store) = queue(60);
    let fake = Arc::new(Fake { refuse: 0, calls: Mutex::new(Vec::new()) });
    let watch = watch(None);
    let summary = go(&store, &fake, &watch);
    assert_eq!((summary.fetched, summary.failed, summary.interrupted), (60, 0, false));
    let calls = fake.calls.lock().unwrap();
    let mut days: Vec<NaiveDate> = calls.iter().map(|(d, _)| *d).collect();
    // Claimed in the order they were queued: four workers may swap
    // neighbours, but the first day asked is among the first claimed.
    assert!(days[0] <= NaiveDate::from_ymd_opt(2020, 3, 8).unwrap(), "{:?}", &days[..8]);
    days.sort();
    days.dedup();
    assert_eq!((calls.len(), days.len()), (60, 60), "each day asked exactly once");
    let commits = watch.commits.load(Ordering::Relaxed);
    assert!(commits < 60, "{commits} commits for 60 results: no group commit");
    let counts = store.counts().unwrap();
    assert_eq!((counts.done, counts.queued, counts.in_progress), (60, 0, 0));
}

#[test]
fn a_retry_after_of_zero_still_pauses_every_worker_for_a_second() {
    let (_dir, store) = queue(12);
    let fake = Arc::new(Fake { refuse: 1, calls: Mutex::new(Vec::new()) });
    let summary = go(&store, &fake, &watch(None));
    assert_eq!((summary.fetched, summary.deferred), (12, 1));
    let calls = fake.calls.lock().unwrap();
    let refused = calls[0].1;
    // Requests already sent when the 429 came may land at once; after
    // that, none for the pause's second.
    let late: Vec<Duration> = calls
        .iter()
        .map(|(_, at)| at.duration_since(refused))
        .filter(|gap| *gap > Duration::from_millis(50) && *gap < Duration::from_millis(990))
        .collect();
    assert!(late.is_empty(), "requests during the pause: {late:?}");
    assert_eq!(store.counts().unwrap().done, 12);
}

#[test]
fn a_stop_commits_what_was_answered_and_hands_back_the_rest() {
    let (_dir, store) = queue(200);
    let fake = Arc::new(Fake { refuse: 0, calls: Mutex::new(Vec::new()) });
    let summary = go(&store, &fake, &watch(Some(2)));
    assert!(summary.interrupted);
    let counts = store.counts().unwrap();
    assert_eq!(counts.in_progress, 0, "nothing left held");
    assert_eq!(counts.done, summary.fetched);
    assert_eq!(counts.done as usize, fake.calls.lock().unwrap().len(), "every answer was stored");
    assert!(counts.queued > 0, "the rest waits for the next run");
}

/// A source that serves up to `max_days` days per request, but whose pages
/// stop after `page` rows (a cap lower than documented); it has no row for
/// `gap`, and nothing before `listed`, and cannot serve days before `reach`.
struct Range {
    max_days: u32,
    page: usize,
    gap: NaiveDate,
    listed: NaiveDate,
    reach: NaiveDate,
    asked: Mutex<Vec<(String, NaiveDate, NaiveDate)>>,
}

impl PriceSource for Range {
    fn name(&self) -> &str {
        "range"
    }
    fn server(&self) -> &str {
        "fake://range"
    }
    fn exchange(&self) -> Option<&str> {
        Some("range")
    }
    fn max_days(&self) -> u32 {
        self.max_days
    }
    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["range".into()])
    }
    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["A".into(), "B".into()])
    }
    fn fetch(&self, _exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> Result<Answer, FetchError> {
        assert!((last - first).num_days() < i64::from(self.max_days), "a run longer than the source serves");
        self.asked.lock().unwrap().push((symbol.to_string(), first, last));
        let price = Price { open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 3.0 };
        let mut rows = 0;
        let days = first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| {
                let answer = if d < self.reach {
                    DayAnswer::OutsideHistory
                } else if d < self.listed || d == self.gap {
                    DayAnswer::NoData
                } else if rows < self.page {
                    rows += 1;
                    DayAnswer::Price(price)
                } else {
                    DayAnswer::Unanswered(crate::source::Unproven::Cut)
                };
                (d, answer)
            })
            .collect();
        Ok(Answer { days, slow_down: None })
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

#[test]
fn a_run_of_days_is_one_request_and_a_short_page_is_asked_again_from_where_it_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::store::Options::new(dir.path().join("q.db"), Create::IfMissing)).unwrap();
    let days: Vec<NaiveDate> = day("2020-01-01").iter_days().take(250).collect();
    let now = crate::clock::now_ms();
    store
        .enqueue_days(
            "range",
            &["range".into()],
            &["A".into(), "B".into()],
            crate::interval::Interval::D1,
            &days,
            now,
            Duration::ZERO,
        )
        .unwrap();
    // Another source's tasks in the same queue stay where they are.
    store
        .enqueue_days(
            "elsewhere",
            &["x".into()],
            &["btc".into()],
            crate::interval::Interval::D1,
            &days[..5],
            now,
            Duration::ZERO,
        )
        .unwrap();
    let range = Arc::new(Range {
        max_days: 100,
        page: 60,
        gap: day("2020-03-01"),
        listed: day("2020-01-10"),
        reach: day("2020-01-03"),
        asked: Mutex::new(Vec::new()),
    });
    let opts = WorkOptions { workers: 2, server_checked: true, ..WorkOptions::default() };
    let watch = watch(None);
    let summary = run(&store, vec![range.clone()], &opts, &watch.stop, watch.clone()).unwrap();

    // Per pair: days 1-2 outside the history, 3-9 before the listing, one gap.
    assert_eq!((summary.outside_history, summary.no_data, summary.failed), (4, 16, 0));
    assert_eq!(summary.fetched, 2 * (250 - 9 - 1));
    let asked = range.asked.lock().unwrap();
    for symbol in ["A", "B"] {
        let mine: Vec<(NaiveDate, NaiveDate)> =
            asked.iter().filter(|(s, ..)| s == symbol).map(|(_, a, b)| (*a, *b)).collect();
        // Runs of at most 100 days; within each, a page of 60 rows, then
        // the rest asked again from the day after the last row.
        assert!(mine.len() >= 3 && mine.len() <= 7, "{symbol}: {mine:?}");
        let mut covered: Vec<NaiveDate> = Vec::new();
        for (a, b) in &mine {
            assert!((*b - *a).num_days() < 100, "{a} to {b}");
            covered.extend(a.iter_days().take_while(|d| d <= b));
        }
        covered.sort();
        covered.dedup();
        assert_eq!(covered, days, "{symbol}: every day asked");
    }
    let counts = store.counts().unwrap();
    assert_eq!((counts.done, counts.no_data, counts.outside_history), (480, 16, 4));
    assert_eq!(counts.queued, 5, "the other source's tasks wait for a host that has it");
}

/// A source whose answers never prove the days before `listed`: rows start
/// there, and it pages forward (a young pair, or pages cut at their start).
/// With `history_ends`, it keeps only its latest candles.
struct Unsure {
    listed: NaiveDate,
    history_ends: bool,
    asked: Mutex<Vec<(NaiveDate, NaiveDate)>>,
}

impl PriceSource for Unsure {
    fn name(&self) -> &str {
        "unsure"
    }
    fn server(&self) -> &str {
        "fake://unsure"
    }
    fn exchange(&self) -> Option<&str> {
        Some("unsure")
    }
    fn max_days(&self) -> u32 {
        100
    }
    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["unsure".into()])
    }
    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        Ok(vec!["A".into()])
    }
    fn fetch(&self, _exchange: &str, _symbol: &str, first: NaiveDate, last: NaiveDate) -> Result<Answer, FetchError> {
        self.asked.lock().unwrap().push((first, last));
        let price = Price { open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 3.0 };
        let why = format!("its rows start at {}", self.listed);
        let days = first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| {
                let answer = if d >= self.listed {
                    DayAnswer::Price(price)
                } else {
                    DayAnswer::Unanswered(Unproven::Lacking { why: why.clone(), history_ends: self.history_ends })
                };
                (d, answer)
            })
            .collect();
        Ok(Answer { days, slow_down: None })
    }
}

/// Fetches 30 days from `Unsure`, listed on the 11th, in two attempts.
fn unsure(history_ends: bool) -> (Summary, crate::store::StateCounts, Vec<(NaiveDate, NaiveDate)>) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&crate::store::Options::new(dir.path().join("q.db"), Create::IfMissing)).unwrap();
    let days: Vec<NaiveDate> = day("2020-01-01").iter_days().take(30).collect();
    let now = crate::clock::now_ms();
    store
        .enqueue_days(
            "unsure",
            &["unsure".into()],
            &["A".into()],
            crate::interval::Interval::D1,
            &days,
            now,
            Duration::ZERO,
        )
        .unwrap();
    let source = Arc::new(Unsure { listed: day("2020-01-11"), history_ends, asked: Mutex::new(Vec::new()) });
    let opts = WorkOptions {
        workers: 1,
        max_attempts: 2,
        retry_delay: Duration::from_millis(10),
        server_checked: true,
        ..WorkOptions::default()
    };
    let watch = watch(None);
    let summary = run(&store, vec![source.clone()], &opts, &watch.stop, watch.clone()).unwrap();
    let asked = source.asked.lock().unwrap().clone();
    (summary, store.counts().unwrap(), asked)
}

#[test]
fn days_an_answer_does_not_prove_are_asked_once_more_then_fail_and_are_never_no_data() {
    let (summary, counts, asked) = unsure(false);
    assert_eq!((summary.fetched, summary.no_data, summary.cooling), (20, 0, 10));
    assert_eq!((counts.done, counts.no_data, counts.cooling, counts.failed), (20, 0, 10, 0));
    let head = (day("2020-01-01"), day("2020-01-10"));
    // The run, then exactly the days it did not prove; the next attempt
    // asks those twice more, and then they cool down.
    assert_eq!(asked, [(day("2020-01-01"), day("2020-01-30")), head, head, head]);
}

#[test]
fn days_before_the_history_a_source_keeps_are_outside_it_after_a_second_asking() {
    let (summary, counts, asked) = unsure(true);
    assert_eq!((summary.fetched, summary.no_data, summary.outside_history, summary.cooling), (20, 0, 10, 0));
    assert_eq!(counts.outside_history, 10);
    assert_eq!(asked, [(day("2020-01-01"), day("2020-01-30")), (day("2020-01-01"), day("2020-01-10"))]);
}

#[test]
fn backoff_doubles_with_jitter_and_caps() {
    let (base, max) = (Duration::from_millis(100), Duration::from_secs(1));
    for attempts in 0..3u32 {
        let full = Duration::from_millis(100 << attempts);
        for _ in 0..50 {
            let d = super::backoff(base, max, attempts);
            assert!(d >= full / 2 && d <= full, "attempt {attempts}: {d:?}");
        }
    }
    for _ in 0..50 {
        let d = super::backoff(base, max, 30);
        assert!(d >= max / 2 && d <= max, "{d:?}");
    }
}
