//! pricequeue's benchmarks: each prints figures, side by side in one run,
//! since these machines are noisy. Not a test: nothing here passes or fails.
//!
//! cargo bench --bench queue                       # all four
//! cargo bench --bench queue -- overhead storage   # some of them
//!
//! 1. overhead: 100k tasks through `pricequeue work` vs the same GETs by the
//!    same HTTP client with the same concurrency and no database.
//! 2. latency: 10k tasks at 50 ms per price, 32 and 256 workers: wall time
//!    over the ideal (tasks x latency / workers).
//! 3. scale: a million tasks: enqueue, status, a one-year query, the
//!    missing report over everything, work over the million; time and peak
//!    RSS of each command.
//! 4. storage: claim and complete in-process, no HTTP, in tasks/s.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricequeue::price::Price;
use pricequeue::server::data;
use pricequeue::source::{HttpSource, PriceSource, Timeouts};
use pricequeue::store::{Completion, Create, Outcome, Store, Synchronous};

const BIN: &str = env!("CARGO_BIN_EXE_pricequeue");

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "pricequeue benchmarks, {} cores, {}",
        thread::available_parallelism().map_or(1, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    if want("overhead") {
        overhead(dir.path());
    }
    if want("latency") {
        latency(dir.path());
    }
    if want("scale") {
        scale(dir.path());
    }
    if want("storage") {
        storage(dir.path());
    }
}

/// A finished command: wall time and peak resident memory.
struct Measured {
    secs: f64,
    max_rss_mb: f64,
    code: i32,
}

/// Runs the binary, measuring wall time and its peak RSS. The RSS comes
/// from GNU time (Debian's `time` package), whose own small process forks
/// pricequeue: a child forked from this bench would start its peak at this
/// process's size.
fn measure(db: &Path, server: &str, args: &[&str]) -> Measured {
    let report = db.with_extension("time");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&report)
        .arg(BIN)
        .arg("--db")
        .arg(db)
        .arg("--server")
        .arg(server)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run pricequeue under /usr/bin/time (apt-get install time)");
    let secs = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&report).unwrap_or_default();
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let kb: f64 = text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(f64::NAN);
    Measured { secs, max_rss_mb: kb / 1024.0, code: status.code().unwrap_or(-1) }
}

/// The built-in server in a process of its own: in ours, its per-path
/// counts would grow this process, and every child forked from it starts
/// with that much in its peak RSS.
struct ServeProcess {
    child: std::process::Child,
    url: String,
}

impl ServeProcess {
    fn start(extra: &[&str]) -> ServeProcess {
        use std::io::BufRead;
        let mut child = Command::new(BIN)
            .args(["serve", "--addr", "127.0.0.1:0"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pricequeue serve");
        let mut line = String::new();
        let mut stderr = std::io::BufReader::new(child.stderr.take().expect("piped stderr"));
        stderr.read_line(&mut line).expect("serve's first line");
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("serve prints its URL").to_string();
        ServeProcess { child, url }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let db = dir.join(name);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    db
}

fn count(db: &Path, sql: &str) -> i64 {
    pricequeue::store::testing::count(db, sql)
}

/// Every real cell of the built-in server's data from `from`, `days` days long.
fn cells(from: NaiveDate, days: usize) -> Vec<(&'static str, &'static str, NaiveDate)> {
    let mut out = Vec::new();
    for e in data::EXCHANGES {
        for s in data::SYMBOLS {
            for d in from.iter_days().take(days) {
                out.push((*e, *s, d));
            }
        }
    }
    out
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("bench day")
}

fn overhead(dir: &Path) {
    println!("\n## 1. Queue overhead: 100,296 tasks, 32 workers, built-in server on loopback, no added latency");
    let server = ServeProcess::start(&[]);
    let url = server.url.clone();
    let (first, last) = data::span();
    let days = ((last - first).num_days() + 1) as usize;
    let tasks = cells(first, days);

    // Bare client: the same HttpSource, 32 threads, no database.
    let bare = || {
        let source = Arc::new(HttpSource::new(&url, Timeouts::default(), 32));
        let next = Arc::new(AtomicUsize::new(0));
        let tasks = Arc::new(tasks.clone());
        let started = Instant::now();
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let (source, next, tasks) = (Arc::clone(&source), Arc::clone(&next), Arc::clone(&tasks));
                thread::spawn(move || {
                    let mut got = 0u64;
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((e, s, d)) = tasks.get(i) else { return got };
                        if source.price(e, s, *d).is_ok() {
                            got += 1;
                        }
                    }
                })
            })
            .collect();
        let ok: u64 = handles.into_iter().map(|h| h.join().expect("bare worker")).sum();
        assert_eq!(ok as usize, tasks.len(), "the bare client had errors");
        started.elapsed().as_secs_f64()
    };
    let queue = |round: usize, sync: &str| {
        let db = fresh(dir, &format!("overhead-{round}-{sync}.db"));
        let first_s = first.to_string();
        let last_s = last.to_string();
        let m = measure(&db, &url, &["enqueue", "-e", "all", "-s", "all", "--from", &first_s, "--to", &last_s]);
        assert_eq!(m.code, 0);
        let m = measure(&db, &url, &["work", "--workers", "32", "--synchronous", sync]);
        assert_eq!(m.code, 0, "work failed");
        assert_eq!(count(&db, "SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')") as usize, tasks.len());
        m
    };
    println!(
        "\n| round | bare client tasks/s | pricequeue work tasks/s | ratio | work peak RSS | \
         work --synchronous full tasks/s | ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for round in 1..=3 {
        let b = bare();
        let q = queue(round, "normal");
        let f = queue(round, "full");
        let (br, qr, fr) = (tasks.len() as f64 / b, tasks.len() as f64 / q.secs, tasks.len() as f64 / f.secs);
        println!(
            "| {round} | {br:.0} ({b:.2} s) | {qr:.0} ({:.2} s) | {:.3} | {:.1} MB | {fr:.0} ({:.2} s) | {:.3} |",
            q.secs,
            qr / br,
            q.max_rss_mb,
            f.secs,
            fr / br
        );
    }
}

fn latency(dir: &Path) {
    println!("\n## 2. Latency-bound: 50 ms per price, 10,008 tasks");
    let server = ServeProcess::start(&["--latency", "50ms"]);
    let tasks = 12 * 3 * 278;
    println!("\n| workers | wall | ideal (tasks x 50 ms / workers) | wall / ideal |");
    println!("|---|---|---|---|");
    for workers in [32, 256, 32, 256] {
        let db = fresh(dir, &format!("latency-{workers}.db"));
        let m = measure(
            &db,
            &server.url,
            &["enqueue", "-e", "all", "-s", "all", "--from", "2019-01-01", "--to", "2019-10-05"],
        );
        assert_eq!(m.code, 0);
        assert_eq!(count(&db, "SELECT count(*) FROM tasks"), tasks);
        let m = measure(&db, &server.url, &["work", "--workers", &workers.to_string()]);
        assert_eq!(m.code, 0);
        let ideal = tasks as f64 * 0.05 / workers as f64;
        println!("| {workers} | {:.2} s | {ideal:.2} s | {:.3} |", m.secs, m.secs / ideal);
    }
}

fn scale(dir: &Path) {
    println!("\n## 3. Scale: 1,000,000 tasks (100 exchanges x 10 symbols x 1000 days; 36,000 cells the server prices)");
    let server = ServeProcess::start(&[]);
    let url = server.url.clone();
    let db = fresh(dir, "million.db");
    // The server's 12 exchanges and 3 symbols, and made-up ones it answers null for.
    let mut exchanges: Vec<String> = data::EXCHANGES.iter().map(|e| e.to_string()).collect();
    exchanges.extend((exchanges.len()..100).map(|i| format!("exchange{i:03}")));
    let mut symbols: Vec<String> = data::SYMBOLS.iter().map(|s| s.to_string()).collect();
    symbols.extend((symbols.len()..10).map(|i| format!("sym{i}")));
    let (ex, sy) = (exchanges.join(","), symbols.join(","));
    let select = ["-e", &ex, "-s", &sy, "--from", "2017-01-01", "--to", "2019-09-27", "--allow-unknown"];

    let row = |what: &str, m: &Measured| println!("| {what} | {:.3} s | {:.1} MB | {} |", m.secs, m.max_rss_mb, m.code);
    println!("\n| command | time | peak RSS | exit |");
    println!("|---|---|---|---|");
    // The same commands on a queue a hundred times smaller, for comparison:
    // memory should not grow with the queue.
    let small = fresh(dir, "ten-thousand.db");
    let small_select = ["-e", &ex, "-s", &sy, "--from", "2017-01-01", "--to", "2017-01-10", "--allow-unknown"];
    let mut args = vec!["enqueue"];
    args.extend_from_slice(&small_select);
    row("enqueue 10,000 tasks", &measure(&small, &url, &args));
    row("status (10,000 queued)", &measure(&small, &url, &["status"]));
    row("work over 10,000, 32 workers", &measure(&small, &url, &["work", "--workers", "32"]));
    row("query --missing over everything (10,000 tasks, table)", &measure(&small, &url, &["query", "--missing"]));

    let mut args = vec!["enqueue"];
    args.extend_from_slice(&select);
    let m = measure(&db, &url, &args);
    row("enqueue 1,000,000 tasks", &m);
    assert_eq!(count(&db, "SELECT count(*) FROM tasks"), 1_000_000);
    let m = measure(&db, &url, &args);
    row("enqueue the same again (all 1,000,000 already there)", &m);
    for _ in 0..3 {
        row("status (1,000,000 queued)", &measure(&db, &url, &["status"]));
    }
    let m = measure(&db, &url, &["work", "--workers", "32"]);
    row("work over the million, 32 workers", &m);
    println!("|   (work: {:.0} tasks/s) | | | |", 1e6 / m.secs);
    for _ in 0..3 {
        row("status (1,000,000 finished)", &measure(&db, &url, &["status"]));
    }
    let year = ["query", "-e", "bitstamp", "-s", "btc", "--from", "2018-01-01", "--to", "2018-12-31"];
    for _ in 0..3 {
        row("query: one year of bitstamp btc", &measure(&db, &url, &year));
    }
    for fmt in ["table", "csv"] {
        row(
            &format!("query --missing over everything ({fmt})"),
            &measure(&db, &url, &["query", "--missing", "--format", fmt]),
        );
    }
    row("query over everything (prices and missing, json)", &measure(&db, &url, &["query", "--format", "json"]));
}

fn storage(dir: &Path) {
    println!("\n## 4. Storage alone: claim and complete in-process, no HTTP (200,000 tasks per row)");
    println!("\n| batch (tasks per claim and per commit) | synchronous | tasks/s |");
    println!("|---|---|---|");
    let n = 200_000usize;
    let exchanges: Vec<String> = (0..20).map(|i| format!("ex{i}")).collect();
    let symbols: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let days: Vec<NaiveDate> = day("2000-01-01").iter_days().take(n / 200).collect();
    let price = Price { open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 100.0 };
    for (batch, sync) in [
        (1, Synchronous::Normal),
        (64, Synchronous::Normal),
        (512, Synchronous::Normal),
        (64, Synchronous::Full),
        (512, Synchronous::Full),
    ] {
        let db = fresh(dir, &format!("storage-{batch}-{sync:?}.db"));
        let store = Store::open(&pricequeue::store::Options::new(db.clone(), Create::IfMissing).synchronous(sync))
            .expect("open");
        store.enqueue_days(&exchanges, &symbols, &days, pricequeue::clock::now_ms(), Duration::ZERO).expect("enqueue");
        let total = if batch == 1 { n / 10 } else { n };
        let started = Instant::now();
        let mut done = 0;
        while done < total {
            let claimed = store.claim("bench:1:0", batch, 0, i64::MAX).expect("claim");
            if claimed.is_empty() {
                break;
            }
            done += claimed.len();
            let completions: Vec<Completion> =
                claimed.into_iter().map(|task| Completion { task, outcome: Outcome::Price(price) }).collect();
            store.complete(&completions).expect("complete");
        }
        let rate = done as f64 / started.elapsed().as_secs_f64();
        println!("| {batch} | {} | {rate:.0} |", format!("{sync:?}").to_lowercase());
    }
}
