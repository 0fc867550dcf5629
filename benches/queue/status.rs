//! Section 8, status and work's start on a million queued tasks: what
//! the counts kept by (exchange, symbol, source, state) buy, and what
//! keeping them costs. On each backend, this build beside the one
//! `PQ_BENCH_BASELINE` names (the build before, if set), each round
//! alternating which goes first:
//!
//! - enqueue 1,000,000 tasks into a fresh database (the median of 3);
//! - `status` on those 1,000,000 queued tasks (the median of 5);
//! - `work` over about 50,000 tasks against `pricequeue serve` on
//!   loopback, 32 workers (the median of 3), in tasks/s.
//!
//! Each build runs on databases it made: the baseline's schema is older.

use std::path::Path;

use pricequeue::server::data;

use crate::command::{measure_binary, ServeProcess, BIN};
use crate::db::{Backend, Db};

const ENQUEUES: usize = 3;
const STATUSES: usize = 5;
const WORKS: usize = 3;
/// Days of every pair the built-in server prices: 36 pairs, 50,148 tasks.
const WORK_DAYS: i64 = 1393;

pub fn run(dir: &Path) {
    println!("\n## 8. status and work's start on a million queued tasks");
    let mut builds = vec![("this build", BIN.to_string())];
    if let Ok(baseline) = std::env::var("PQ_BENCH_BASELINE") {
        builds.push(("PQ_BENCH_BASELINE", baseline));
    }
    let exchanges: Vec<String> = (0..100).map(|i| format!("exchange{i:03}")).collect();
    let symbols: Vec<String> = (0..10).map(|i| format!("sym{i}")).collect();
    let (ex, sy) = (exchanges.join(","), symbols.join(","));
    let million = ["enqueue", "-e", &ex, "-s", &sy, "--from", "2017-01-01", "--to", "2019-09-27", "--allow-unknown"];
    let server = ServeProcess::start(&[]);
    let url = server.url.clone();
    let (first, _) = data::span();
    let (from, to) = (first.to_string(), (first + chrono::Days::new(WORK_DAYS as u64 - 1)).to_string());
    let some = ["enqueue", "-e", "all", "-s", "all", "--from", &from, "--to", &to];
    let tasks = (data::EXCHANGES.len() * data::SYMBOLS.len()) as f64 * WORK_DAYS as f64;

    println!(
        "\n| build | backend | enqueue 1,000,000 (median of {ENQUEUES}) | status on 1,000,000 queued (median of \
         {STATUSES}) | each status | work over {tasks:.0}, 32 workers (median of {WORKS}) |"
    );
    println!("|---|---|---|---|---|---|");
    let order = |round: usize| -> Vec<usize> {
        let mut o: Vec<usize> = (0..builds.len()).collect();
        if round % 2 == 1 {
            o.reverse();
        }
        o
    };
    for backend in Backend::BOTH {
        let mut enqueue = vec![Vec::new(); builds.len()];
        let mut status = vec![Vec::new(); builds.len()];
        let mut work = vec![Vec::new(); builds.len()];
        // The last round's databases stay for `status` (each round's has a name of its own: a
        // database dropped removes its file).
        let mut kept: Vec<Option<Db>> = builds.iter().map(|_| None).collect();
        for round in 0..ENQUEUES {
            for b in order(round) {
                let db = Db::fresh(backend, dir, &format!("status-{b}-{round}"), &[]);
                let m = measure_binary(&builds[b].1, &db, &url, &million);
                assert_eq!(m.code, 0, "enqueue failed on {backend:?} with {}", builds[b].1);
                enqueue[b].push(m.secs);
                kept[b] = Some(db);
            }
        }
        for round in 0..STATUSES {
            for b in order(round) {
                let db = kept[b].as_ref().expect("a database of a million");
                let m = measure_binary(&builds[b].1, db, &url, &["status"]);
                assert_eq!(m.code, 0, "status failed on {backend:?} with {}", builds[b].1);
                status[b].push(m.secs);
            }
        }
        drop(kept);
        for round in 0..WORKS {
            for b in order(round) {
                let db = Db::fresh(backend, dir, &format!("status-work-{b}-{round}"), &[]);
                let m = measure_binary(&builds[b].1, &db, &url, &some);
                assert_eq!(m.code, 0, "enqueue failed on {backend:?} with {}", builds[b].1);
                let m = measure_binary(&builds[b].1, &db, &url, &["work", "--workers", "32"]);
                assert_eq!(m.code, 0, "work failed on {backend:?} with {}", builds[b].1);
                work[b].push(tasks / m.secs);
            }
        }
        for (b, (name, _)) in builds.iter().enumerate() {
            let each: Vec<String> = status[b].iter().map(|s| format!("{:.0}", s * 1000.0)).collect();
            println!(
                "| {name} | {backend:?} | {:.2} s | {:.0} ms | {} ms | {:.0} tasks/s |",
                median(&enqueue[b]),
                median(&status[b]) * 1000.0,
                each.join(", "),
                median(&work[b])
            );
        }
        if builds.len() == 2 {
            println!(
                "| this / baseline | {backend:?} | {:.2} | {:.3} | | {:.2} |",
                median(&enqueue[0]) / median(&enqueue[1]),
                median(&status[0]) / median(&status[1]),
                median(&work[0]) / median(&work[1])
            );
        }
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
