//! Section 2, latency-bound: every price takes 50 ms, so `work` is as fast
//! as its workers are many; wall time against the ideal on each backend.

use std::path::Path;

use crate::command::{measure, ServeProcess};
use crate::db::{Backend, Db};

pub fn run(dir: &Path) {
    println!("\n## 2. Latency-bound: 50 ms per price, 10,008 tasks");
    let server = ServeProcess::start(&["--latency", "50ms"]);
    let tasks = 12 * 3 * 278;
    println!(
        "\n| workers | ideal (tasks x 50 ms / workers) | SQLite wall | wall / ideal | PostgreSQL wall | wall / ideal |"
    );
    println!("|---|---|---|---|---|---|");
    for (round, workers) in [32, 256, 32, 256].into_iter().enumerate() {
        let ideal = tasks as f64 * 0.05 / workers as f64;
        let mut walls = [0.0; 2];
        for backend in Backend::alternating(round / 2) {
            let db = Db::fresh(backend, dir, &format!("latency-{workers}"), &[]);
            let m = measure(
                &db,
                &server.url,
                &["enqueue", "-e", "all", "-s", "all", "--from", "2019-01-01", "--to", "2019-10-05"],
            );
            assert_eq!(m.code, 0, "enqueue failed on {backend:?}");
            assert_eq!(db.count("SELECT count(*) FROM tasks"), tasks);
            let m = measure(&db, &server.url, &["work", "--workers", &workers.to_string()]);
            assert_eq!(m.code, 0, "work failed on {backend:?}");
            walls[backend as usize] = m.secs;
        }
        let [s, p] = walls;
        println!("| {workers} | {ideal:.2} s | {s:.2} s | {:.3} | {p:.2} s | {:.3} |", s / ideal, p / ideal);
    }
}
