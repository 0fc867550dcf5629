//! Section 3, scale: a million tasks on each backend: enqueue, status, a
//! one-year query, the missing report over everything, work over the
//! million; the time and peak RSS of each command, beside the same on
//! 10,000 tasks.

use std::path::Path;

use pricequeue::server::data;

use crate::command::{measure, Measured, ServeProcess};
use crate::db::{Backend, Db};

pub fn run(dir: &Path) {
    println!("\n## 3. Scale: 1,000,000 tasks (100 exchanges x 10 symbols x 1000 days; 36,000 cells the server prices)");
    let server = ServeProcess::start(&[]);
    let url = server.url.clone();
    // The server's 12 exchanges and 3 symbols, and made-up ones it answers null for.
    let mut exchanges: Vec<String> = data::EXCHANGES.iter().map(|e| e.to_string()).collect();
    exchanges.extend((exchanges.len()..100).map(|i| format!("exchange{i:03}")));
    let mut symbols: Vec<String> = data::SYMBOLS.iter().map(|s| s.to_string()).collect();
    symbols.extend((symbols.len()..10).map(|i| format!("sym{i}")));
    let (ex, sy) = (exchanges.join(","), symbols.join(","));
    let enqueue = |to: &str| -> Vec<String> {
        ["enqueue", "-e", &ex, "-s", &sy, "--from", "2017-01-01", "--to", to, "--allow-unknown"]
            .map(String::from)
            .to_vec()
    };

    println!("\n| command | SQLite time | peak RSS | exit | PostgreSQL time | peak RSS | exit |");
    println!("|---|---|---|---|---|---|---|");
    let mut step = 0;
    // Runs one command on both databases, the first alternating, and
    // prints their row; returns (SQLite, PostgreSQL).
    let mut both = |what: &str, dbs: &[Db; 2], args: &[String]| -> [Measured; 2] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut out: [Option<Measured>; 2] = [None, None];
        for backend in Backend::alternating(step) {
            out[backend as usize] = Some(measure(&dbs[backend as usize], &url, &args));
        }
        step += 1;
        let [s, p] = out.map(|m| m.expect("ran"));
        println!(
            "| {what} | {:.3} s | {:.1} MB | {} | {:.3} s | {:.1} MB | {} |",
            s.secs, s.max_rss_mb, s.code, p.secs, p.max_rss_mb, p.code
        );
        [s, p]
    };
    let words = |args: &[&str]| -> Vec<String> { args.iter().map(|a| a.to_string()).collect() };

    // The same commands on a queue a hundred times smaller, for comparison:
    // memory should not grow with the queue.
    let small = Backend::BOTH.map(|b| Db::fresh(b, dir, "ten-thousand", &[]));
    both("enqueue 10,000 tasks", &small, &enqueue("2017-01-10"));
    both("status (10,000 queued)", &small, &words(&["status"]));
    both("work over 10,000, 32 workers", &small, &words(&["work", "--workers", "32"]));
    both("query --missing over everything (10,000 tasks, table)", &small, &words(&["query", "--missing"]));
    drop(small);

    let million = Backend::BOTH.map(|b| Db::fresh(b, dir, "million", &[]));
    both("enqueue 1,000,000 tasks", &million, &enqueue("2019-09-27"));
    for db in &million {
        assert_eq!(db.count("SELECT count(*) FROM tasks"), 1_000_000, "{:?} holds another number of tasks", db.backend);
    }
    both("enqueue the same again (all 1,000,000 already there)", &million, &enqueue("2019-09-27"));
    for _ in 0..3 {
        both("status (1,000,000 queued)", &million, &words(&["status"]));
    }
    let [s, p] = both("work over the million, 32 workers", &million, &words(&["work", "--workers", "32"]));
    println!("|   (work: tasks/s) | {:.0} | | | {:.0} | | |", 1e6 / s.secs, 1e6 / p.secs);
    for _ in 0..3 {
        both("status (1,000,000 finished)", &million, &words(&["status"]));
    }
    let year = words(&["query", "-e", "bitstamp", "-s", "btc", "--from", "2018-01-01", "--to", "2018-12-31"]);
    for _ in 0..3 {
        both("query: one year of bitstamp btc", &million, &year);
    }
    for fmt in ["table", "csv"] {
        both(
            &format!("query --missing over everything ({fmt})"),
            &million,
            &words(&["query", "--missing", "--format", fmt]),
        );
    }
    both("query over everything (prices and missing, json)", &million, &words(&["query", "--format", "json"]));
}
