//! Section 6, enqueue: a million tasks (100 exchanges x 10 symbols x 1000
//! days) into a fresh database, five times on each backend, and the
//! median; then the same million again, all of them already there. With
//! `PQ_BENCH_BASELINE=/path/to/another/pricequeue`, that build runs in
//! turn with this one, each run alternating which goes first, for a
//! before and after measured in one sitting.

use std::path::Path;

use crate::command::{measure_binary, BIN};
use crate::db::{Backend, Db};

const RUNS: usize = 5;

pub fn run(dir: &Path) {
    println!("\n## 6. Enqueue: 1,000,000 tasks into a fresh database, {RUNS} runs each, the median");
    let exchanges: Vec<String> = (0..100).map(|i| format!("exchange{i:03}")).collect();
    let symbols: Vec<String> = (0..10).map(|i| format!("sym{i}")).collect();
    let (ex, sy) = (exchanges.join(","), symbols.join(","));
    let args = [
        "enqueue",
        "-e",
        ex.as_str(),
        "-s",
        sy.as_str(),
        "--from",
        "2017-01-01",
        "--to",
        "2019-09-27",
        "--allow-unknown",
    ];
    // Nothing is asked of a price server: the names are taken as given.
    let server = "http://127.0.0.1:9";

    let mut builds = vec![("this build", BIN.to_string())];
    if let Ok(baseline) = std::env::var("PQ_BENCH_BASELINE") {
        builds.push(("PQ_BENCH_BASELINE", baseline));
    }
    println!("\n| build | backend | enqueue 1,000,000 (median) | each run | the same again (median) |");
    println!("|---|---|---|---|---|");
    for backend in Backend::BOTH {
        // [build][0: fresh, 1: again] -> seconds of each run
        let mut secs = vec![[Vec::new(), Vec::new()]; builds.len()];
        for round in 0..RUNS {
            for i in 0..builds.len() {
                let b = if round % 2 == 0 { i } else { builds.len() - 1 - i };
                let (_, bin) = &builds[b];
                let db = Db::fresh(backend, dir, "enqueue", &[]);
                for (again, times) in secs[b].iter_mut().enumerate() {
                    let m = measure_binary(bin, &db, server, &args);
                    assert_eq!(m.code, 0, "enqueue failed on {backend:?} with {bin}");
                    if again == 0 {
                        assert_eq!(
                            db.count("SELECT count(*) FROM tasks"),
                            1_000_000,
                            "{backend:?}: tasks after enqueue"
                        );
                    }
                    times.push(m.secs);
                }
            }
        }
        for (b, (name, _)) in builds.iter().enumerate() {
            let [fresh, again] = &secs[b];
            let runs: Vec<String> = fresh.iter().map(|s| format!("{s:.2}")).collect();
            println!(
                "| {name} | {backend:?} | {:.3} s | {} | {:.3} s |",
                median(fresh),
                runs.join(", "),
                median(again)
            );
        }
    }
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
