//! Section 5, the page (`pricequeue ui`) on a million tasks: how long each
//! view takes to arrive, and a reading of the counts (what each live
//! update does), on each backend.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::command::{measure, BIN};
use crate::db::{Backend, Db};

/// Each view is asked for this many times; the table shows the median and
/// the slowest.
const TIMES: usize = 7;

pub fn run(dir: &Path) {
    println!(
        "\n## 5. The page on 1,000,000 tasks (100 exchanges x 10 symbols x 1000 days; a third done, 1% failed): \
         each view's time to the last byte, median and slowest of {TIMES}"
    );
    println!("\n| view | SQLite median | slowest | size | PostgreSQL median | slowest | size |");
    println!("|---|---|---|---|---|---|---|");
    let dbs = Backend::BOTH.map(|b| Db::fresh(b, dir, "ui-million", &[]));
    let exchanges: Vec<String> = (0..100).map(|i| format!("exchange{i:03}")).collect();
    let symbols: Vec<String> = (0..10).map(|i| format!("sym{i}")).collect();
    let (ex, sy) = (exchanges.join(","), symbols.join(","));
    for db in &dbs {
        let args = ["enqueue", "-e", &ex, "-s", &sy, "--from", "2017-01-01", "--to", "2019-09-27", "--allow-unknown"];
        assert_eq!(measure(db, "http://127.0.0.1:9", &args).code, 0, "enqueue a million");
        // A queue halfway through a run: a third done, 1% failed, with errors.
        db.execute(
            "UPDATE tasks SET state = 'done', attempts = 1 WHERE id % 3 = 0; \
             UPDATE tasks SET state = 'failed', attempts = 5, last_error = 'HTTP 500 (attempt ' || (id % 7) || ')', \
             finished_at = enqueued_at WHERE id % 100 = 1",
        );
        assert_eq!(measure(db, "http://127.0.0.1:9", &["status", "--recount"]).code, 0, "recount");
    }
    let pages = dbs.each_ref().map(Page::start);
    let views = [
        ("first view: progress (`/`)", "/"),
        ("failures", "/failures"),
        ("coverage (200 rows x 120 columns)", "/coverage"),
        ("prices: one pair, a year", "/prices?exchange=exchange000&symbol=sym0&from=2018-01-01&to=2018-12-31"),
        ("SQL page (one reading of the counts, as each live update makes, and a short page)", "/sql"),
    ];
    for (what, path) in views {
        let [s, p] = [&pages[0], &pages[1]].map(|page| page.time(path));
        println!(
            "| {what} | {:.0} ms | {:.0} ms | {} kB | {:.0} ms | {:.0} ms | {} kB |",
            s.0,
            s.1,
            s.2 / 1000,
            p.0,
            p.1,
            p.2 / 1000
        );
    }
    let [s, p] = [&pages[0], &pages[1]].map(|page| page.updates());
    println!(
        "| live: first event after connecting; then the gap between updates while the counts change | {:.0} ms | {:.0} ms | | {:.0} ms | {:.0} ms | |",
        s.0, s.1, p.0, p.1
    );
}

/// A `pricequeue ui` process on one database.
struct Page {
    child: Child,
    host: String,
    db: String,
}

impl Page {
    fn start(db: &Db) -> Page {
        let mut child = Command::new(BIN)
            .args(["--db", db.location(), "ui", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pricequeue ui");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("its address");
        let host = line.trim().trim_start_matches("http://").trim_end_matches('/').to_string();
        Page { child, host, db: db.location().to_string() }
    }

    /// GET `path`, `TIMES` times: the median and slowest in ms, and the size.
    fn time(&self, path: &str) -> (f64, f64, usize) {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..TIMES {
            let started = Instant::now();
            let body = self.get(path);
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            size = body.len();
        }
        times.sort_by(f64::total_cmp);
        (times[TIMES / 2], times[TIMES - 1], size)
    }

    fn get(&self, path: &str) -> Vec<u8> {
        let mut stream = TcpStream::connect(&self.host).expect("connect to the page");
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.host).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("the answer");
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "{path}: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(300)])
        );
        answer
    }

    /// The time to the first live event, and the median gap between the
    /// next ones while a task changes state every 200 ms.
    fn updates(&self) -> (f64, f64) {
        let mut stream = TcpStream::connect(&self.host).expect("connect to the page");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = Instant::now();
        write!(stream, "GET /events HTTP/1.1\r\nHost: {}\r\n\r\n", self.host).unwrap();
        let mut lines = BufReader::new(stream).lines();
        let mut next_event = || loop {
            match lines.next() {
                Some(Ok(line)) if line.starts_with("event: counts") => return Instant::now(),
                Some(Ok(_)) => {}
                other => panic!("the event stream ended: {other:?}"),
            }
        };
        let first = next_event().duration_since(started).as_secs_f64() * 1000.0;
        // Changes the counts under the page: a task more every 200 ms.
        let db = self.db.clone();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let changing = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut day = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).expect("a day");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = Command::new(BIN)
                        .args(["--db", &db, "--quiet", "enqueue", "-e", "exchange000", "-s", "sym0", "--allow-unknown"])
                        .args(["--server", "http://127.0.0.1:9", "--from", &day.to_string()])
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                    day = day.succ_opt().expect("a next day");
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        let mut last = next_event();
        let mut gaps = Vec::new();
        for _ in 0..5 {
            let now = next_event();
            gaps.push(now.duration_since(last).as_secs_f64() * 1000.0);
            last = now;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = changing.join();
        gaps.sort_by(f64::total_cmp);
        (first, gaps[gaps.len() / 2])
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
