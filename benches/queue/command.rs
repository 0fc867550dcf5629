//! Running `pricequeue` as a user would: the built-in price server in a
//! process of its own, and commands timed whole, with their peak memory.

use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::NaiveDate;
use pricequeue::server::data;

use crate::db::Db;

pub const BIN: &str = env!("CARGO_BIN_EXE_pricequeue");

/// A finished command: wall time and peak resident memory.
pub struct Measured {
    pub secs: f64,
    pub max_rss_mb: f64,
    pub code: i32,
}

/// Runs the binary on `db`, measuring wall time and its peak RSS. The RSS
/// comes from GNU time (Debian's `time` package), whose own small process
/// forks pricequeue: a child forked from this bench would start its peak
/// at this process's size.
pub fn measure(db: &Db, server: &str, args: &[&str]) -> Measured {
    measure_binary(BIN, db, server, args)
}

/// The same with another build of pricequeue, at `bin`.
pub fn measure_binary(bin: &str, db: &Db, server: &str, args: &[&str]) -> Measured {
    let report = tempfile::NamedTempFile::new().expect("a file for GNU time's report");
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .arg(bin)
        .arg("--db")
        .arg(db.location())
        .arg("--server")
        .arg(server)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run pricequeue under /usr/bin/time (apt-get install time)");
    let secs = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(report.path()).unwrap_or_default();
    // GNU time writes "Command exited with non-zero status N" before the figure.
    let kb: f64 = text.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(f64::NAN);
    Measured { secs, max_rss_mb: kb / 1024.0, code: status.code().unwrap_or(-1) }
}

/// The built-in server in a process of its own: in ours, its per-path
/// counts would grow this process, and every child forked from it starts
/// with that much in its peak RSS.
pub struct ServeProcess {
    child: std::process::Child,
    pub url: String,
}

impl ServeProcess {
    pub fn start(extra: &[&str]) -> ServeProcess {
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

/// Every real cell of the built-in server's data from `from`, `days` days long.
pub fn cells(from: NaiveDate, days: usize) -> Vec<(&'static str, &'static str, NaiveDate)> {
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

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("bench day")
}
