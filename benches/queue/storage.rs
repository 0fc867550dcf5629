//! Section 4, storage alone: claim and complete through the store's own
//! functions, no HTTP, in tasks/s, by batch size and by how many processes
//! share the database. Each process is this benchmark run again
//! (`storage-worker`), so the processes are real ones, each with its own
//! connection.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricequeue::price::Price;
use pricequeue::store::{Completion, Create, Location, Options, Outcome, Store, Synchronous};

use crate::command::day;
use crate::db::{Backend, Db};

/// Tasks queued for each measurement: more than any process count does in
/// `LIMIT` on this machine, so no row runs out of work.
const QUEUED: usize = 200_000;
/// How long each measurement claims and completes.
const LIMIT: Duration = Duration::from_secs(2);

/// One column of the table: a backend and how it commits.
#[derive(Clone, Copy)]
struct Variant {
    backend: Backend,
    synchronous: Synchronous,
    /// Settings of the PostgreSQL database, for its sessions alone.
    settings: &'static [&'static str],
    /// Whether the tasks table is analyzed after the enqueue. The store
    /// does not do it, and autovacuum takes a minute or more to; without
    /// statistics PostgreSQL plans claims of more than about 150 tasks as
    /// a sort of every queued row.
    analyze: bool,
    name: &'static str,
}

const VARIANTS: [Variant; 5] = [
    Variant {
        backend: Backend::Sqlite,
        synchronous: Synchronous::Normal,
        settings: &[],
        analyze: false,
        name: "SQLite",
    },
    Variant {
        backend: Backend::Sqlite,
        synchronous: Synchronous::Full,
        settings: &[],
        analyze: false,
        name: "SQLite full",
    },
    Variant {
        backend: Backend::Postgres,
        synchronous: Synchronous::Normal,
        settings: &[],
        analyze: false,
        name: "PostgreSQL",
    },
    Variant {
        backend: Backend::Postgres,
        synchronous: Synchronous::Normal,
        settings: &[],
        analyze: true,
        name: "PostgreSQL analyzed",
    },
    Variant {
        backend: Backend::Postgres,
        synchronous: Synchronous::Normal,
        settings: &["synchronous_commit = off"],
        analyze: true,
        name: "PostgreSQL analyzed, async",
    },
];

pub fn run(dir: &Path) {
    println!(
        "\n## 4. Storage alone: claim and complete, no HTTP ({QUEUED} tasks queued; each process claims a batch and \
         completes it in one transaction, for {} s)",
        LIMIT.as_secs()
    );
    println!(
        "\n| batch (tasks per claim and per commit) | processes | SQLite tasks/s | SQLite `--synchronous full` | \
         PostgreSQL tasks/s | PostgreSQL after `ANALYZE tasks` | same, `synchronous_commit = off` | \
         errors, deadlocks, stale completions |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut row = 0;
    for batch in [1, 16, 64, 256] {
        for processes in [1, 4, 8] {
            let mut rates = [0.0; 5];
            let mut findings = Vec::new();
            // SQLite first in one row, PostgreSQL first in the next.
            let mut order = [0, 1, 2, 3, 4];
            if row % 2 == 1 {
                order = [2, 3, 4, 0, 1];
            }
            for i in order {
                let (rate, finding) = measure(dir, VARIANTS[i], batch, processes);
                rates[i] = rate;
                findings.extend(finding);
            }
            row += 1;
            let findings = if findings.is_empty() { "none".to_string() } else { findings.join("; ") };
            println!(
                "| {batch} | {processes} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {findings} |",
                rates[0], rates[1], rates[2], rates[3], rates[4]
            );
        }
    }
}

/// What one process did.
#[derive(Default)]
struct Done {
    tasks: u64,
    /// Completions the store did not apply (their claim was no longer current).
    stale: u64,
    errors: u64,
    first_error: String,
}

/// Runs `processes` workers on a fresh database of `variant`; returns the
/// tasks/s of them all together, and what went wrong, if anything.
fn measure(dir: &Path, variant: Variant, batch: usize, processes: usize) -> (f64, Option<String>) {
    let db = Db::fresh(variant.backend, dir, &format!("storage-{batch}-{processes}"), variant.settings);
    let options = Options::new(Location::parse(db.location()), Create::IfMissing).synchronous(variant.synchronous);
    {
        let store = Store::open(&options).expect("open the storage benchmark's database");
        let exchanges: Vec<String> = (0..20).map(|i| format!("ex{i}")).collect();
        let symbols: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
        let days: Vec<NaiveDate> = day("2000-01-01").iter_days().take(QUEUED / 200).collect();
        store
            .enqueue_days(
                "cryptodb",
                &exchanges,
                &symbols,
                pricequeue::interval::Interval::D1,
                &days,
                pricequeue::clock::now_ms(),
                Duration::ZERO,
            )
            .expect("enqueue");
    }
    if variant.analyze {
        db.sql("ANALYZE tasks");
    }
    let sync = if variant.synchronous == Synchronous::Full { "full" } else { "normal" };
    let mut children: Vec<(Child, BufReader<std::process::ChildStdout>)> = (0..processes)
        .map(|p| {
            let mut child = Command::new(std::env::current_exe().expect("this benchmark's path"))
                .args(["storage-worker", db.location(), &batch.to_string(), sync, &format!("bench:{p}:0")])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("start a storage worker");
            let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
            (child, stdout)
        })
        .collect();
    // Every process opens the database first; then all start together.
    for (_, out) in &mut children {
        let mut line = String::new();
        out.read_line(&mut line).expect("a storage worker's first line");
        assert_eq!(line.trim(), "ready", "a storage worker did not start");
    }
    let started = Instant::now();
    for (child, _) in &mut children {
        let mut stdin = child.stdin.take().expect("piped stdin");
        writeln!(stdin, "go").expect("start a storage worker");
    }
    let mut total = Done::default();
    for (mut child, mut out) in children {
        let mut line = String::new();
        out.read_line(&mut line).expect("a storage worker's result");
        let status = child.wait().expect("a storage worker's exit");
        let mut fields = line.trim_end_matches('\n').splitn(4, '\t');
        let mut number = || fields.next().and_then(|f| f.parse::<u64>().ok());
        match (number(), number(), number()) {
            (Some(tasks), Some(stale), Some(errors)) if status.success() => {
                total.tasks += tasks;
                total.stale += stale;
                total.errors += errors;
                if total.first_error.is_empty() {
                    total.first_error = fields.next().unwrap_or("").to_string();
                }
            }
            _ => {
                total.errors += 1;
                total.first_error = format!("a worker exited with {status}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    (total.tasks as f64 / secs, check(&db, variant, &total))
}

/// What went wrong in a measurement, as one line for the table: errors,
/// completions not applied, PostgreSQL's deadlocks and rolled back
/// transactions, and any disagreement between the tasks done, their
/// prices and the counts `status` reads.
fn check(db: &Db, variant: Variant, done: &Done) -> Option<String> {
    let mut found = Vec::new();
    if done.errors > 0 {
        found.push(format!("{} errors, the first: {}", done.errors, done.first_error));
    }
    if done.stale > 0 {
        found.push(format!("{} completions not applied", done.stale));
    }
    let stored = db.count("SELECT count(*) FROM tasks WHERE state = 'done'");
    let prices = db.count("SELECT count(*) FROM prices");
    let counted = db.count("SELECT coalesce(sum(n), 0) FROM task_counts WHERE state = 'done'");
    if stored as u64 != done.tasks || prices != stored || counted != stored {
        found.push(format!(
            "workers completed {}, the database has {stored} done, {prices} prices, status counts {counted}",
            done.tasks
        ));
    }
    if variant.backend == Backend::Postgres {
        // A backend's statistics reach pg_stat_database when it exits,
        // which may be just after its client has.
        std::thread::sleep(Duration::from_millis(300));
        let stats = db.sql("SELECT deadlocks, xact_rollback FROM pg_stat_database WHERE datname = current_database()");
        let mut numbers = stats.trim().split('|').map(|n| n.parse::<u64>().unwrap_or(0));
        let (deadlocks, rollbacks) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
        if deadlocks > 0 || rollbacks > 0 {
            found.push(format!("{deadlocks} deadlocks, {rollbacks} transactions rolled back"));
        }
    }
    (!found.is_empty()).then(|| format!("{}: {}", variant.name, found.join(", ")))
}

/// A storage worker, in a process of its own: `storage-worker LOCATION
/// BATCH SYNCHRONOUS OWNER`. It opens the database, says `ready`, waits
/// for a line on stdin, claims and completes for `LIMIT` or until the
/// queue is empty, then prints tasks done, completions not applied,
/// errors and the first error, tab-separated.
pub fn worker(args: &[String]) {
    let [location, batch, sync, owner] = args else {
        panic!("storage-worker takes LOCATION BATCH SYNCHRONOUS OWNER, not {args:?}")
    };
    let batch: usize = batch.parse().expect("BATCH is a number");
    let synchronous = if sync == "full" { Synchronous::Full } else { Synchronous::Normal };
    let store = Store::open(&Options::new(Location::parse(location), Create::No).synchronous(synchronous))
        .expect("open the storage benchmark's database");
    println!("ready");
    std::io::stdout().flush().expect("stdout");
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).expect("wait for go");
    let price = Price { open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 100.0 };
    let mut done = Done::default();
    let fail = |done: &mut Done, e: anyhow::Error| {
        done.errors += 1;
        if done.first_error.is_empty() {
            done.first_error = format!("{e:#}").replace(['\t', '\n', '|'], " ");
        }
    };
    let deadline = Instant::now() + LIMIT;
    while Instant::now() < deadline && done.errors < 100 {
        let claimed = match store.claim(owner, batch, 0, i64::MAX, &["cryptodb".into()], None) {
            Ok(claimed) if claimed.is_empty() => break,
            Ok(claimed) => claimed,
            Err(e) => {
                fail(&mut done, e);
                continue;
            }
        };
        let completions: Vec<Completion> =
            claimed.into_iter().map(|task| Completion { task, outcome: Outcome::Price(price) }).collect();
        match store.complete(&completions) {
            Ok(applied) => {
                let n = applied.iter().filter(|a| **a).count() as u64;
                done.tasks += n;
                done.stale += applied.len() as u64 - n;
            }
            Err(e) => fail(&mut done, e),
        }
    }
    println!("{}\t{}\t{}\t{}", done.tasks, done.stale, done.errors, done.first_error);
}
