//! Candles below a day, on each backend: stored with their task's state in
//! one transaction, replaced whole when a day settles again, deleted by a
//! day with no data, written only for the claim that is current; and
//! tasks counted and claimed by interval.

use std::time::Duration;

use chrono::NaiveDate;

use super::{backends, day, TestDb};
use crate::interval::Interval;
use crate::price::{Candle, Price};
use crate::selection::Selection;
use crate::store::{testing, Completion, Outcome, Store, Task};

const SOURCES: &[&str] = &["binance"];

fn sources() -> Vec<String> {
    SOURCES.iter().map(|s| s.to_string()).collect()
}

/// The store, with binance BTCUSDT queued at `interval` for 2020-03-01 and 02.
fn two_days(db: &TestDb, interval: Interval) -> Store {
    let store = db.open();
    let days = [day(1), day(2)];
    let (e, s) = (["binance".to_string()], ["BTCUSDT".to_string()]);
    store.enqueue_days("binance", &e, &s, interval, &days, crate::clock::now_ms(), Duration::ZERO).unwrap();
    store
}

/// The candles of `day` at `interval` whose slot numbers within the day
/// `keep` keeps, each priced by its minute.
fn candles(day: NaiveDate, interval: Interval, keep: impl Fn(i64) -> bool) -> Vec<Candle> {
    let first = Interval::M1.first_slot(day);
    (0..interval.per_day())
        .filter(|k| keep(*k))
        .map(|k| {
            let minute = first + k * interval.minutes();
            let x = minute as f64 / 1000.0;
            Candle { minute, price: Price { open: x, high: x + 0.5, low: x - 0.5, close: x + 0.25, volume: k as f64 } }
        })
        .collect()
}

/// The candles stored at `interval`, read back through the `candles` view:
/// (open time as text, open, volume).
fn stored(db: &TestDb, interval: &str, day: &str) -> Vec<(String, f64, f64)> {
    let sql = if testing::is_postgres(&db.url()) {
        "SELECT to_char(open_time AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), open, volume FROM candles
         WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND interval = ?1
           AND open_time >= ?2::date AND open_time < ?2::date + 1 ORDER BY open_time"
    } else {
        "SELECT open_time, open, volume FROM candles
         WHERE exchange = 'binance' AND symbol = 'BTCUSDT' AND interval = ?1 AND substr(open_time, 1, 10) = ?2
         ORDER BY open_time"
    };
    testing::rows(db.url(), sql, &[&interval, &day])
}

fn state(db: &TestDb, task: &Task) -> String {
    testing::one(db.url(), "SELECT state FROM tasks WHERE id = ?1", &[&task.id])
}

fn claim_all(store: &Store) -> Vec<Task> {
    store.claim("w", 100, crate::clock::now_ms(), i64::MAX, &sources(), None).unwrap()
}

#[test]
fn a_day_s_candles_are_stored_and_a_refreshed_day_keeps_only_its_new_ones() {
    for db in backends() {
        let store = two_days(&db, Interval::M1);
        let tasks = claim_all(&store);
        assert_eq!(
            tasks.iter().map(|t| (t.day, t.interval)).collect::<Vec<_>>(),
            [(day(1), Interval::M1), (day(2), Interval::M1)]
        );
        let full = candles(day(1), Interval::M1, |_| true);
        let gappy = candles(day(2), Interval::M1, |k| k % 7 != 3);
        let done = [
            Completion { task: tasks[0].clone(), outcome: Outcome::Candles(full.clone()) },
            Completion { task: tasks[1].clone(), outcome: Outcome::Candles(gappy.clone()) },
        ];
        assert_eq!(store.complete(&done).unwrap(), [true, true]);
        let one = stored(&db, "1m", "2020-03-01");
        assert_eq!(one.len(), 1440);
        assert_eq!(one[0], ("2020-03-01T00:00:00Z".to_string(), full[0].price.open, 0.0));
        assert_eq!(one[1439], ("2020-03-01T23:59:00Z".to_string(), full[1439].price.open, 1439.0));
        assert_eq!(stored(&db, "1m", "2020-03-02").len(), gappy.len());
        assert_eq!((state(&db, &tasks[0]), state(&db, &tasks[1])), ("done".into(), "done".into()));
        assert_eq!(testing::count(db.url(), "SELECT count(*) FROM series"), 1);
        assert_eq!(testing::count(db.url(), "SELECT count(*) FROM prices"), 0, "no daily price is made");

        // Fetched afresh, day 1 now has its first hour only: the other
        // hours' candles go; day 2 keeps its own.
        let sel = Selection::one("binance", "BTCUSDT", day(1), day(1)).at(Interval::M1);
        assert_eq!(store.refresh(&sel).unwrap(), 1);
        let again = claim_all(&store);
        assert_eq!(again.len(), 1);
        let hour = candles(day(1), Interval::M1, |k| k < 60);
        assert_eq!(
            store.complete(&[Completion { task: again[0].clone(), outcome: Outcome::Candles(hour) }]).unwrap(),
            [true]
        );
        let one = stored(&db, "1m", "2020-03-01");
        assert_eq!((one.len(), one[59].0.as_str()), (60, "2020-03-01T00:59:00Z"));
        assert_eq!(stored(&db, "1m", "2020-03-02").len(), gappy.len());

        // Removed with its candles: day 2's only, and only at 1m.
        let two = Selection::one("binance", "BTCUSDT", day(2), day(2)).at(Interval::M1);
        assert_eq!(store.to_remove(&two, &[]).unwrap(), (1, gappy.len() as u64));
        assert_eq!(store.to_remove(&two, &["kraken".into()]).unwrap(), (0, 0), "another source's are not these");
        assert_eq!(store.to_remove(&two.clone().at(Interval::D1), &[]).unwrap(), (0, 0));
        assert_eq!(store.remove(&two, &["binance".into()], true).unwrap(), (1, gappy.len() as u64));
        assert!(stored(&db, "1m", "2020-03-02").is_empty());
        assert_eq!(stored(&db, "1m", "2020-03-01").len(), 60);
    }
}

#[test]
fn a_day_found_empty_loses_its_candles_and_today_s_candles_add_up() {
    for db in backends() {
        let store = two_days(&db, Interval::H1);
        let tasks = claim_all(&store);
        let morning = candles(day(2), Interval::H1, |k| k < 6);
        let noon = candles(day(2), Interval::H1, |k| (5..12).contains(&k));
        let done = [
            Completion { task: tasks[0].clone(), outcome: Outcome::Candles(candles(day(1), Interval::H1, |_| true)) },
            Completion { task: tasks[1].clone(), outcome: Outcome::CandlesSoFar { candles: morning, at: 1_000 } },
        ];
        assert_eq!(store.complete(&done).unwrap(), [true, true]);
        assert_eq!(stored(&db, "1h", "2020-03-01").len(), 24);
        assert_eq!(state(&db, &tasks[1]), "not_yet_due");
        assert_eq!(store.promote_due(2_000).unwrap(), 1);
        let later = claim_all(&store);
        assert_eq!(later.len(), 1);
        let so_far = Outcome::CandlesSoFar { candles: noon, at: 3_000 };
        assert_eq!(store.complete(&[Completion { task: later[0].clone(), outcome: so_far }]).unwrap(), [true]);
        assert_eq!(stored(&db, "1h", "2020-03-02").len(), 12, "the morning's stay, 05:00 once");

        // Day 1 fetched again is found empty: its candles go, day 2's stay.
        let sel = Selection::one("binance", "BTCUSDT", day(1), day(1)).at(Interval::H1);
        assert_eq!(store.refresh(&sel).unwrap(), 1);
        let again = claim_all(&store);
        assert_eq!(store.complete(&[Completion { task: again[0].clone(), outcome: Outcome::NoData }]).unwrap(), [true]);
        assert!(stored(&db, "1h", "2020-03-01").is_empty());
        assert_eq!(state(&db, &again[0]), "no_data");
        assert_eq!(stored(&db, "1h", "2020-03-02").len(), 12);
    }
}

#[test]
fn a_lapsed_claim_writes_no_candle() {
    for db in backends() {
        let store = two_days(&db, Interval::M5);
        let a = store.claim("a", 1, 1_000, 2_000, &sources(), None).unwrap();
        assert_eq!(store.recover_expired(2_500).unwrap(), 1);
        let b = store.claim("b", 1, 2_500, 3_500, &sources(), None).unwrap();
        assert_eq!(a[0].id, b[0].id);
        let late =
            Completion { task: a[0].clone(), outcome: Outcome::Candles(candles(day(1), Interval::M5, |_| true)) };
        assert_eq!(store.complete(&[late]).unwrap(), [false]);
        assert!(stored(&db, "5m", "2020-03-01").is_empty(), "fenced off: nothing of it is stored");
        let current =
            Completion { task: b[0].clone(), outcome: Outcome::Candles(candles(day(1), Interval::M5, |k| k < 3)) };
        assert_eq!(store.complete(&[current]).unwrap(), [true]);
        assert_eq!(stored(&db, "5m", "2020-03-01").len(), 3);
    }
}

#[test]
fn a_candle_outside_its_task_s_day_is_refused_and_nothing_of_the_batch_is_stored() {
    for db in backends() {
        let store = two_days(&db, Interval::H1);
        let tasks = claim_all(&store);
        let stray = candles(day(2), Interval::H1, |k| k == 0);
        let done = [
            Completion { task: tasks[0].clone(), outcome: Outcome::Candles(candles(day(1), Interval::H1, |_| true)) },
            Completion { task: tasks[0].clone(), outcome: Outcome::Candles(stray) },
        ];
        let e = store.complete(&done).unwrap_err().to_string();
        assert!(e.contains("is no 1h candle of binance BTCUSDT 2020-03-01"), "{e}");
        assert!(stored(&db, "1h", "2020-03-01").is_empty());
        assert_eq!(state(&db, &tasks[0]), "in_progress");
    }
}

#[test]
fn tasks_are_counted_and_claimed_by_interval() {
    for db in backends() {
        let store = two_days(&db, Interval::D1);
        let (e, s) = (["binance".to_string()], ["BTCUSDT".to_string()]);
        let now = crate::clock::now_ms();
        let added = store.enqueue_days("binance", &e, &s, Interval::H4, &[day(1), day(2), day(3)], now, Duration::ZERO);
        assert_eq!(added.unwrap().added, 3, "the same days at another interval are other tasks");
        let again = store.enqueue_days("binance", &e, &s, Interval::H4, &[day(1), day(2)], now, Duration::ZERO);
        assert_eq!(again.unwrap().existing, 2);
        assert_eq!(store.counts().unwrap().queued, 5, "the whole queue counts every interval");
        let sel = Selection::one("binance", "BTCUSDT", day(1), day(3));
        assert_eq!(store.counts_in(&sel).unwrap().queued, 2);
        assert_eq!(store.counts_in(&sel.clone().at(Interval::H4)).unwrap().queued, 3);
        assert_eq!(store.counts_in(&sel.clone().at(Interval::M1)).unwrap().total(), 0);
        let by_pair = store.counts_by_pair().unwrap();
        assert_eq!(by_pair.len(), 1);
        assert_eq!(by_pair[0].2.queued, 5);

        // One interval a claim; within a selection, its interval only.
        let within = sel.clone().at(Interval::H4);
        let scoped = store.claim("w", 10, now, i64::MAX, &sources(), Some(&within)).unwrap();
        assert_eq!(scoped.iter().map(|t| t.interval).collect::<Vec<_>>(), [Interval::H4; 3]);
        let rest = claim_all(&store);
        assert_eq!(rest.iter().map(|t| t.interval).collect::<Vec<_>>(), [Interval::D1; 2]);
        assert_eq!(store.counts_in(&within).unwrap().in_progress, 3);
        let failed: Vec<Completion> = scoped
            .into_iter()
            .map(|task| Completion { task, outcome: Outcome::Failed { error: "HTTP 404".into() } })
            .collect();
        store.complete(&failed).unwrap();
        assert_eq!(store.failures(Some(&sel), 10).unwrap().len(), 0, "the 1d selection has no failure");
        assert_eq!(store.failures(Some(&within), 10).unwrap().len(), 3);
        assert_eq!(store.retry_failed(Some(&sel), false).unwrap(), 0);
        assert_eq!(store.retry_failed(Some(&within), false).unwrap(), 3);
        assert_eq!(store.to_remove(&within, &[]).unwrap(), (3, 0));
        assert_eq!(store.remove(&within, &[], true).unwrap(), (3, 0));
        assert_eq!(store.counts().unwrap().total(), 2);
        store.recount().unwrap();
        assert_eq!(store.counts().unwrap().in_progress, 2);
    }
}
