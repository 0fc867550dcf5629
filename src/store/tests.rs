//! The store's behaviour tests, run on each backend at hand: an SQLite
//! file always, and a fresh PostgreSQL database of its own when the server
//! `PRICEQUEUE_TEST_POSTGRES` names (by default the local one) answers.

use std::time::Duration;

use chrono::NaiveDate;

use super::{testing, Completion, Create, Options, Outcome, Store};
use crate::clock;
use crate::interval::Interval;
use crate::price::Price;
use crate::selection::Selection;

mod candles;
mod docs;
mod model;

/// A fresh database on each backend at hand.
fn backends() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite()];
    dbs.extend(TestDb::postgres());
    dbs
}

/// A database of a test's own, removed after it.
pub(super) enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { admin: String, url: String },
}

impl TestDb {
    fn sqlite() -> TestDb {
        TestDb::Sqlite(tempfile::tempdir().unwrap())
    }

    /// A fresh database on the server `PRICEQUEUE_TEST_POSTGRES` names,
    /// or `None` (with a line saying so) when there is none and
    /// `PRICEQUEUE_REQUIRE_POSTGRES` is not set.
    pub(super) fn postgres() -> Option<TestDb> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let admin = std::env::var("PRICEQUEUE_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        if let Err(e) = testing::reachable(&admin) {
            if std::env::var_os("PRICEQUEUE_REQUIRE_POSTGRES").is_some_and(|v| v == "1") {
                panic!("PRICEQUEUE_REQUIRE_POSTGRES=1, but there is no PostgreSQL at {admin}: {e}");
            }
            eprintln!("skipped on PostgreSQL: no server at {admin} (set PRICEQUEUE_TEST_POSTGRES)");
            return None;
        }
        let name = format!("pq_unit_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let url = testing::database_url(&admin, &name);
        let _ = testing::drop_database(&admin, &url);
        let url = testing::create_database(&admin, &name);
        Some(TestDb::Postgres { admin, url })
    }

    /// The database as `--db` names it.
    pub(super) fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => dir.path().join("q.db").to_string_lossy().into_owned(),
            TestDb::Postgres { url, .. } => url.clone(),
        }
    }

    pub(super) fn open(&self) -> Store {
        Store::open(&Options::new(self.url().as_str(), Create::IfMissing)).unwrap()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin, url } = self {
            let _ = testing::drop_database(admin, url);
        }
    }
}

/// The database, with kraken btc queued for 2020-03-01 to 03.
fn three_days(db: &TestDb) -> Store {
    let store = db.open();
    let days: Vec<NaiveDate> = day(1).iter_days().take(3).collect();
    store
        .enqueue_days(
            "cryptodb",
            &["kraken".into()],
            &["btc".into()],
            Interval::D1,
            &days,
            clock::now_ms(),
            Duration::ZERO,
        )
        .unwrap();
    store
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 3, d).unwrap()
}

fn price(close: f64) -> Outcome {
    Outcome::Price(Price { open: 1.0, high: 2.0, low: 0.5, close, volume: 10.0 })
}

fn stored_close(store: &Store, day: NaiveDate) -> Option<f64> {
    let sel = Selection::one("kraken", "btc", day, day);
    let mut close = None;
    store
        .for_each_price(&sel, |row| {
            close = Some(row.price.close);
            Ok(())
        })
        .unwrap();
    close
}

#[test]
fn a_claim_is_exclusive_and_a_lapsed_claim_is_fenced_off() {
    for db in backends() {
        a_claim_is_exclusive_and_a_lapsed_claim_is_fenced_off_on(&three_days(&db));
    }
}

fn a_claim_is_exclusive_and_a_lapsed_claim_is_fenced_off_on(store: &Store) {
    let a = store.claim("a", 10, 1_000, 2_000, &["cryptodb".into()], None).unwrap();
    assert_eq!(a.len(), 3);
    assert!(store.claim("b", 10, 1_000, 2_000, &["cryptodb".into()], None).unwrap().is_empty(), "claimed twice");

    assert_eq!(store.recover_expired(1_500).unwrap(), 0, "the lease still runs");
    assert_eq!(store.recover_expired(2_500).unwrap(), 3);
    let b = store.claim("b", 10, 2_500, 3_500, &["cryptodb".into()], None).unwrap();
    assert_eq!(b.len(), 3);
    assert!(b[0].token > a[0].token);

    // `a` comes back late: its result must not count, before or after b's.
    let late = |close| Completion { task: a[0].clone(), outcome: price(close) };
    assert_eq!(store.complete(&[late(1.0)]).unwrap(), [false]);
    assert_eq!(stored_close(store, a[0].day), None);
    assert_eq!(store.complete(&[Completion { task: b[0].clone(), outcome: price(2.0) }]).unwrap(), [true]);
    assert_eq!(store.complete(&[late(3.0)]).unwrap(), [false]);
    assert_eq!(stored_close(store, a[0].day), Some(2.0));
    // A renewal by the old owner touches nothing of b's.
    assert_eq!(store.renew("a", 9_999).unwrap(), 0);
    assert_eq!(store.renew("b", 9_999).unwrap(), 2);
}

#[test]
fn a_retry_waits_until_it_is_due() {
    for db in backends() {
        a_retry_waits_until_it_is_due_on(&three_days(&db));
    }
}

fn a_retry_waits_until_it_is_due_on(store: &Store) {
    let t = store.claim("a", 1, 1_000, 2_000, &["cryptodb".into()], None).unwrap().remove(0);
    let retry = Outcome::Retry { error: "HTTP 500".into(), at: 5_000 };
    assert_eq!(store.complete(&[Completion { task: t.clone(), outcome: retry }]).unwrap(), [true]);
    let others = store.claim("a", 10, 4_000, 6_000, &["cryptodb".into()], None).unwrap();
    assert!(others.iter().all(|o| o.id != t.id), "claimed before it was due");
    store
        .complete(&others.into_iter().map(|task| Completion { task, outcome: Outcome::Released }).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(store.next_wakeup(None, None).unwrap(), Some(0), "the released tasks are due now");
    let again = store.claim("a", 10, 5_000, 6_000, &["cryptodb".into()], None).unwrap();
    let t2 = again.iter().find(|o| o.id == t.id).expect("due at 5000");
    assert_eq!(t2.attempts, 1, "the failed attempt counts");
    assert!(again.iter().filter(|o| o.id != t.id).all(|o| o.attempts == 0), "a release is not an attempt");
}

#[test]
fn dead_owners_tasks_are_released_and_failures_retried() {
    for db in backends() {
        dead_owners_tasks_are_released_and_failures_retried_on(&three_days(&db));
    }
}

fn dead_owners_tasks_are_released_and_failures_retried_on(store: &Store) {
    let mine = store.claim("dead:1:x", 2, 0, i64::MAX, &["cryptodb".into()], None).unwrap();
    assert_eq!(store.owners().unwrap(), vec![("dead:1:x".to_string(), 2)]);
    assert_eq!(store.release_owner("dead:1:x").unwrap(), 2);
    assert!(store.owners().unwrap().is_empty());
    let t = store.claim("b", 1, 0, 10, &["cryptodb".into()], None).unwrap().remove(0);
    assert_eq!(t.id, mine[0].id);
    store.complete(&[Completion { task: t, outcome: Outcome::Failed { error: "HTTP 404".into() } }]).unwrap();
    assert_eq!(store.counts().unwrap().failed, 1);
    assert_eq!(store.retry_failed(None, false).unwrap(), 1);
    assert_eq!(store.counts().unwrap().failed, 0);
    let t = store.claim("b", 1, 0, 10, &["cryptodb".into()], None).unwrap().remove(0);
    assert_eq!(t.attempts, 0, "a retried task gets its attempts back");
}

#[test]
fn failures_are_listed_newest_first_for_a_selection_or_all() {
    for db in backends() {
        failures_are_listed_newest_first_for_a_selection_or_all_on(&three_days(&db));
    }
}

fn failures_are_listed_newest_first_for_a_selection_or_all_on(store: &Store) {
    for t in store.claim("a", 3, 0, i64::MAX, &["cryptodb".into()], None).unwrap() {
        let error = format!("HTTP 500 on {}", t.day);
        store.complete(&[Completion { task: t, outcome: Outcome::Failed { error } }]).unwrap();
        std::thread::sleep(Duration::from_millis(5)); // finished_at, to the millisecond
    }
    let days = |f: Vec<super::FailedTask>| f.into_iter().map(|f| f.day).collect::<Vec<_>>();
    assert_eq!(days(store.failures(None, 10).unwrap()), [day(3), day(2), day(1)]);
    assert_eq!(days(store.failures(None, 1).unwrap()), [day(3)]);
    let sel = |e: &str, from: u32, to: u32| Selection::one(e, "btc", day(from), day(to));
    assert_eq!(days(store.failures(Some(&sel("kraken", 1, 2)), 10).unwrap()), [day(2), day(1)]);
    assert!(store.failures(Some(&sel("bitstamp", 1, 3)), 10).unwrap().is_empty());
}

#[test]
fn removed_tasks_leave_nothing_behind_and_their_worker_writes_nothing() {
    for db in backends() {
        removed_tasks_leave_nothing_behind_and_their_worker_writes_nothing_on(&three_days(&db));
    }
}

fn removed_tasks_leave_nothing_behind_and_their_worker_writes_nothing_on(store: &Store) {
    let sel = |from: u32, to: u32, source: Option<&str>| {
        let s = Selection::one("kraken", "btc", day(from), day(to));
        let sources: Vec<String> = source.into_iter().map(String::from).collect();
        store.to_remove(&s, &sources).map(|n| (s, n)).unwrap()
    };
    let mut held = store.claim("a", 3, 0, i64::MAX, &["cryptodb".into()], None).unwrap();
    let first = held.remove(0);
    store.complete(&[Completion { task: first, outcome: price(1.0) }]).unwrap();
    assert_eq!(sel(1, 3, None).1, (3, 1));
    assert_eq!(sel(1, 3, Some("binance")).1, (0, 0), "another source's tasks are not these");

    // Day 1 goes with its price; days 2 and 3 are held by a worker.
    let (one, _) = sel(1, 1, None);
    assert_eq!(store.remove(&one, &[], true).unwrap(), (1, 1));
    assert_eq!(stored_close(store, day(1)), None);
    let (rest, _) = sel(2, 3, Some("cryptodb"));
    assert_eq!(store.remove(&rest, &["cryptodb".into()], false).unwrap(), (2, 0));
    let late: Vec<Completion> = held.into_iter().map(|task| Completion { task, outcome: price(2.0) }).collect();
    assert_eq!(store.complete(&late).unwrap(), [false, false], "a removed task's completion is fenced off");
    assert_eq!(stored_close(store, day(2)), None, "no stray price");
    assert_eq!(store.counts().unwrap().total(), 0, "task_counts follows the removal");
    assert_eq!(sel(1, 3, None).1, (0, 0));
}

#[test]
fn the_pairs_are_those_with_tasks_or_prices_each_with_its_sources() {
    for db in backends() {
        the_pairs_are_those_with_tasks_or_prices_each_with_its_sources_on(&db);
    }
}

fn the_pairs_are_those_with_tasks_or_prices_each_with_its_sources_on(db: &TestDb) {
    use crate::selection::Pair;
    let store = three_days(db);
    let now = clock::now_ms();
    let days = |from: u32, n: usize| -> Vec<NaiveDate> { day(from).iter_days().take(n).collect() };
    // kraken btc: its first days from cryptodb, its last from another source.
    store
        .enqueue_days("other", &["kraken".into()], &["btc".into()], Interval::D1, &days(4, 2), now, Duration::ZERO)
        .unwrap();
    store
        .enqueue_days(
            "binance",
            &["binance".into()],
            &["BTCUSDT".into()],
            Interval::D1,
            &days(1, 1),
            now,
            Duration::ZERO,
        )
        .unwrap();
    // Prices of pairs with no task: several symbols of two exchanges, so
    // the prices' skip scan crosses from one exchange to the next.
    let mut rows = Vec::new();
    for (e, s) in [("a", "x"), ("a", "y"), ("b", "x"), ("binance", "BTCUSDT")] {
        for d in ["2020-03-01", "2020-03-02"] {
            rows.push(format!("('{e}', '{s}', '{d}', 1, 1, 1, 1, 1, '2020-03-03T00:00:00.000Z')"));
        }
    }
    testing::execute_batch(
        db.url(),
        &format!(
            "INSERT INTO prices (exchange, symbol, day, open, high, low, close, volume, fetched_at) VALUES {};",
            rows.join(", ")
        ),
    );
    // A pair whose only task was removed: its counts may stay, it does not.
    store
        .enqueue_days("okx", &["okx".into()], &["GONE".into()], Interval::D1, &days(1, 1), now, Duration::ZERO)
        .unwrap();
    store.remove(&Selection::one("okx", "GONE", day(1), day(1)), &[], true).unwrap();
    let got: Vec<(Pair, Vec<String>)> = store.pairs().unwrap();
    let sources = |s: &[&str]| s.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (Pair::new("a", "x"), vec![]),
            (Pair::new("a", "y"), vec![]),
            (Pair::new("b", "x"), vec![]),
            (Pair::new("binance", "BTCUSDT"), sources(&["binance"])),
            (Pair::new("kraken", "btc"), sources(&["cryptodb", "other"])),
        ],
        "never kraken BTCUSDT nor binance btc: the pairs there are, not every exchange with every symbol"
    );
    let pairs: Vec<Pair> = got.into_iter().map(|(p, _)| p).collect();
    assert_eq!(store.day_bounds(&pairs[3..]).unwrap(), Some((day(1), day(5))));
    assert_eq!(store.day_bounds(&[Pair::new("kraken", "BTCUSDT")]).unwrap(), None);
}
