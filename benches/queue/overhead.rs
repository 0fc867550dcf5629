//! Section 1, queue overhead: `pricequeue work` on each backend against
//! the same GETs by the same HTTP client with the same concurrency and no
//! database.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Instant;

use pricequeue::server::data;
use pricequeue::source::{self, Declarations, Timeouts};

use crate::command::{cells, measure, Measured, ServeProcess};
use crate::db::{Backend, Db};

pub fn run(dir: &Path) {
    println!("\n## 1. Queue overhead: 100,296 tasks, 32 workers, built-in server on loopback, no added latency");
    let server = ServeProcess::start(&[]);
    let url = server.url.clone();
    let (first, last) = data::span();
    let days = ((last - first).num_days() + 1) as usize;
    let tasks = cells(first, days);
    let n = tasks.len() as f64;

    // `analyze`: ANALYZE the tasks after the enqueue, as the store does not:
    // without statistics PostgreSQL plans each claim as a sort of every
    // queued row (see storage.rs).
    let queue = |backend: Backend, sync: &str, analyze: bool| -> Measured {
        let db = Db::fresh(backend, dir, &format!("overhead-{sync}"), &[]);
        let (first_s, last_s) = (first.to_string(), last.to_string());
        let m = measure(&db, &url, &["enqueue", "-e", "all", "-s", "all", "--from", &first_s, "--to", &last_s]);
        assert_eq!(m.code, 0, "enqueue failed on {backend:?}");
        if analyze {
            db.sql("ANALYZE tasks");
        }
        let m = measure(&db, &url, &["work", "--workers", "32", "--synchronous", sync]);
        assert_eq!(m.code, 0, "work failed on {backend:?}");
        let finished = db.count("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')");
        assert_eq!(finished as usize, tasks.len(), "work left tasks on {backend:?}");
        m
    };
    println!(
        "\n| round | bare client tasks/s | SQLite `work` tasks/s | ratio | peak RSS | \
         SQLite `--synchronous full` tasks/s | ratio | PostgreSQL `work` tasks/s | ratio | peak RSS | \
         PostgreSQL after `ANALYZE tasks` | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for round in 1..=3 {
        let b = bare(&url, &tasks);
        let br = n / b;
        let (mut normal, mut full, mut pg, mut analyzed) = (None, None, None, None);
        for backend in Backend::alternating(round) {
            match backend {
                Backend::Sqlite => {
                    normal = Some(queue(backend, "normal", false));
                    full = Some(queue(backend, "full", false));
                }
                // `--synchronous` is SQLite's: PostgreSQL's commits are as
                // durable as its server's `synchronous_commit` says.
                Backend::Postgres => {
                    pg = Some(queue(backend, "normal", false));
                    analyzed = Some(queue(backend, "normal", true));
                }
            }
        }
        let cell = |m: &Measured| format!("{:.0} ({:.2} s) | {:.3}", n / m.secs, m.secs, n / m.secs / br);
        let [normal, full, pg, analyzed] = [normal, full, pg, analyzed].map(|m| m.expect("ran"));
        println!(
            "| {round} | {br:.0} ({b:.2} s) | {} | {:.1} MB | {} | {} | {:.1} MB | {} |",
            cell(&normal),
            normal.max_rss_mb,
            cell(&full),
            cell(&pg),
            pg.max_rss_mb,
            cell(&analyzed)
        );
    }
}

/// The bare client: the same source the workers use, 32 threads, no database; returns
/// its wall time in seconds.
fn bare(url: &str, tasks: &[(&'static str, &'static str, chrono::NaiveDate)]) -> f64 {
    let source = source::open("cryptodb", Some(url), &Declarations::builtin(), Timeouts::default(), 32)
        .expect("the reference API's source");
    let next = Arc::new(AtomicUsize::new(0));
    let tasks = Arc::new(tasks.to_vec());
    let started = Instant::now();
    let handles: Vec<_> = (0..32)
        .map(|_| {
            let (source, next, tasks) = (Arc::clone(&source), Arc::clone(&next), Arc::clone(&tasks));
            thread::spawn(move || {
                let mut got = 0u64;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((e, s, d)) = tasks.get(i) else { return got };
                    if source.fetch(e, s, *d, *d).is_ok() {
                        got += 1;
                    }
                }
            })
        })
        .collect();
    let ok: u64 = handles.into_iter().map(|h| h.join().expect("bare worker")).sum();
    assert_eq!(ok as usize, tasks.len(), "the bare client had errors");
    started.elapsed().as_secs_f64()
}
