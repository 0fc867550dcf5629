//! Section 11, candles below a day, storage alone: tasks at `1m` claimed
//! and completed through the store's own functions as the workers do
//! (each claim's days completed in one transaction, each day an
//! `Outcome::Candles` of its 1,440 candles), no HTTP, in candles/s; then
//! what a candle costs on disk. One process, one writer: a run's
//! coordinator commits alone.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricequeue::interval::Interval;
use pricequeue::price::{Candle, Price};
use pricequeue::store::{Completion, Create, Location, Options, Outcome, Store, Task};

use crate::command::day;
use crate::db::{Backend, Db};

/// Pairs queued; each gets `DAYS` days, so the run writes
/// PAIRS x DAYS x 1,440 candles (1,152,000).
const PAIRS: usize = 4;
const DAYS: usize = 200;

pub fn run(dir: &Path) {
    let total = PAIRS * DAYS * 1440;
    println!(
        "\n## 11. Candles below a day, storage alone: {PAIRS} pairs x {DAYS} days at 1m ({total} candles), claimed \
         and completed as the workers do, one process, no HTTP"
    );
    println!(
        "\n| days per claim and commit | SQLite candles/s | PostgreSQL candles/s | SQLite bytes/candle | PostgreSQL \
         bytes/candle |"
    );
    println!("|---|---|---|---|---|");
    for (round, per_commit) in [1, 4, 16].into_iter().enumerate() {
        let mut rates = [0.0; 2];
        let mut bytes = [0.0; 2];
        for backend in Backend::alternating(round) {
            let i = usize::from(backend == Backend::Postgres);
            (rates[i], bytes[i]) = measure(dir, backend, per_commit);
        }
        println!("| {per_commit} | {:.0} | {:.0} | {:.1} | {:.1} |", rates[0], rates[1], bytes[0], bytes[1]);
    }
    println!(
        "\n(bytes/candle: SQLite, the pages of `series_candles` after VACUUM (dbstat), or the whole file when \
         dbstat is not compiled in; PostgreSQL, pg_total_relation_size('series_candles') after VACUUM: heap and \
         primary key)"
    );
}

/// Writes every candle on a fresh database; returns candles/s (the time in
/// claims and completions only, not in making the candles) and bytes per
/// candle on disk.
fn measure(dir: &Path, backend: Backend, per_commit: usize) -> (f64, f64) {
    let db = Db::fresh(backend, dir, &format!("candles-{per_commit}"), &[]);
    let store = Store::open(&Options::new(Location::parse(db.location()), Create::IfMissing)).expect("open");
    let pairs: Vec<String> = (0..PAIRS).map(|i| format!("S{i}USDT")).collect();
    let days: Vec<NaiveDate> = day("2021-01-01").iter_days().take(DAYS).collect();
    let now = pricequeue::clock::now_ms();
    store
        .enqueue_days("binance", &["binance".into()], &pairs, Interval::M1, &days, now, Duration::ZERO)
        .expect("enqueue");
    let sources = ["binance".to_string()];
    let (mut busy, mut written) = (Duration::ZERO, 0usize);
    loop {
        let started = Instant::now();
        let tasks = store.claim("bench:1:0", per_commit, now, i64::MAX, &sources, None).expect("claim");
        busy += started.elapsed();
        if tasks.is_empty() {
            break;
        }
        let done: Vec<Completion> =
            tasks.into_iter().map(|task| Completion { outcome: Outcome::Candles(day_of(&task)), task }).collect();
        written += done.iter().map(|c| if let Outcome::Candles(c) = &c.outcome { c.len() } else { 0 }).sum::<usize>();
        let started = Instant::now();
        let applied = store.complete(&done).expect("complete");
        busy += started.elapsed();
        assert!(applied.iter().all(|a| *a), "a completion was not applied");
    }
    let stored = db.count("SELECT count(*) FROM series_candles");
    assert_eq!(stored as usize, written, "every candle stored");
    drop(store);
    (written as f64 / busy.as_secs_f64(), bytes_per_candle(&db, stored))
}

/// The 1,440 candles of a task's day, priced like real ones (fractional
/// prices that wander, volumes of several digits).
fn day_of(task: &Task) -> Vec<Candle> {
    let first = Interval::M1.first_slot(task.day);
    let seed = task.id as f64;
    (0..1440)
        .map(|k| {
            let minute = first + k;
            let open = 30_000.0 + (minute as f64 * 0.37 + seed).sin() * 250.0 + (k as f64) * 0.013;
            let close = open + ((minute as f64) * 1.7).cos() * 12.5;
            let price = Price {
                open,
                high: open.max(close) + 3.25,
                low: open.min(close) - 2.75,
                close,
                volume: 1.0 + ((minute * 7919) % 100_000) as f64 / 997.0,
            };
            Candle { minute, price }
        })
        .collect()
}

/// What `series_candles` takes on disk, per candle, after a VACUUM.
fn bytes_per_candle(db: &Db, candles: i64) -> f64 {
    let bytes = match db.backend {
        Backend::Sqlite => {
            db.execute("VACUUM");
            let path = Path::new(db.location());
            let dbstat = std::panic::catch_unwind(|| {
                pricequeue::store::testing::count(path, "SELECT sum(pgsize) FROM dbstat WHERE name = 'series_candles'")
            });
            match dbstat {
                Ok(n) => n,
                Err(_) => std::fs::metadata(path).map_or(0, |m| m.len() as i64),
            }
        }
        Backend::Postgres => {
            db.sql("VACUUM series_candles");
            db.count("SELECT pg_total_relation_size('series_candles')")
        }
    };
    bytes as f64 / candles.max(1) as f64
}
