//! pricequeue's benchmarks: each prints figures, SQLite and PostgreSQL side
//! by side in one run, since these machines are noisy. Not a test: nothing
//! here passes or fails.
//!
//! cargo bench --bench queue                       # all eleven
//! cargo bench --bench queue -- overhead storage   # some of them
//!
//! PostgreSQL databases are made (and dropped) on the server PQ_BENCH_PG
//! names, postgres://postgres@127.0.0.1:5432 unless set.
//!
//! 1. overhead: 100k tasks through `pricequeue work` vs the same GETs by the
//!    same HTTP client with the same concurrency and no database.
//! 2. latency: 10k tasks at 50 ms per price, 32 and 256 workers: wall time
//!    over the ideal (tasks x latency / workers).
//! 3. scale: a million tasks: enqueue, status, a one-year query, the
//!    missing report over everything, work over the million; time and peak
//!    RSS of each command.
//! 4. storage: claim and complete, no HTTP, in tasks/s, by batch size,
//!    with 1, 4 and 8 processes on one database.
//! 5. ui: the page on a million tasks: each view's time, and the live
//!    updates'.
//! 6. enqueue: a million tasks into a fresh database, five times, the
//!    median; with PQ_BENCH_BASELINE=<another pricequeue binary>, that
//!    build alternates with this one.
//! 7. sources: 10 pairs x 3 years from the Binance and Coinbase stand-ins
//!    at their documented pace: requests against the fewest possible and
//!    wall time, beside the same day by day and beside ccxt
//!    (PQ_BENCH_QUICK=1: day by day for one pair only).
//! 8. status: `status` on a million queued tasks, enqueue of the million
//!    and `work` over 50,000 tasks; with PQ_BENCH_BASELINE=<another
//!    pricequeue binary>, that build beside this one.
//! 9. intervals: 1m candles from the Binance stand-in: 2 pairs x 2024
//!    unpaced and at Binance's pace beside ccxt, killed and resumed, and 10
//!    pairs x 3 years on both backends with the reports over them.
//! 10. chart: a year of 1m candles drawn as SVG and PNG, reduced to the
//!     chart's pixel columns.
//! 11. candles: 1m candles claimed and completed as the workers write them
//!     (1,440 a day, 1, 4 and 16 days a commit), no HTTP, in candles/s; and
//!     bytes per candle on disk.

// A bench target is a crate root, whose modules sit beside it, not under
// benches/queue/: each is named by path.
#[path = "queue/candles.rs"]
mod candles;
#[path = "queue/chart.rs"]
mod chart;
#[path = "queue/command.rs"]
mod command;
#[path = "queue/db.rs"]
mod db;
#[path = "queue/enqueue.rs"]
mod enqueue;
#[path = "queue/intervals.rs"]
mod intervals;
#[path = "queue/latency.rs"]
mod latency;
#[path = "queue/overhead.rs"]
mod overhead;
#[path = "queue/scale.rs"]
mod scale;
#[path = "queue/sources.rs"]
mod sources;
#[path = "queue/status.rs"]
mod status;
#[path = "queue/storage.rs"]
mod storage;
#[path = "queue/ui.rs"]
mod ui;

use std::thread;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    // The storage benchmark runs this binary again as each of its processes.
    if args.first().map(String::as_str) == Some("storage-worker") {
        storage::worker(&args[1..]);
        return;
    }
    let want = |name: &str| args.is_empty() || args.iter().any(|a| a == name);
    let dir = tempfile::tempdir().expect("temp dir");
    let pg_version = db::psql("postgres", "SHOW server_version");
    let pg_commit = db::psql("postgres", "SHOW synchronous_commit");
    println!(
        "pricequeue benchmarks, {} cores, {}; PostgreSQL {} (synchronous_commit = {}) on the same machine",
        thread::available_parallelism().map_or(1, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        pg_version.trim(),
        pg_commit.trim()
    );
    if want("overhead") {
        overhead::run(dir.path());
        print_load();
    }
    if want("latency") {
        latency::run(dir.path());
        print_load();
    }
    if want("scale") {
        scale::run(dir.path());
        print_load();
    }
    if want("storage") {
        storage::run(dir.path());
        print_load();
    }
    if want("ui") {
        ui::run(dir.path());
        print_load();
    }
    if want("enqueue") {
        enqueue::run(dir.path());
        print_load();
    }
    if want("sources") {
        sources::run(dir.path());
        print_load();
    }
    if want("status") {
        status::run(dir.path());
        print_load();
    }
    if want("intervals") {
        intervals::run(dir.path());
        print_load();
    }
    if want("chart") {
        chart::run();
        print_load();
    }
    if want("candles") {
        candles::run(dir.path());
        print_load();
    }
}

/// The machine's load after a section: other work on these shared
/// machines shows in the figures, and this says how much there was.
fn print_load() {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let fields: Vec<&str> = load.split_whitespace().take(3).collect();
    println!("\n(load average at the end of this section, 1, 5 and 15 min: {})", fields.join(", "));
}
