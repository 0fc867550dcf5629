//! The databases a benchmark runs on: an SQLite file in the run's
//! temporary directory, or a PostgreSQL database of its own, made fresh on
//! the server `PQ_BENCH_PG` names and dropped afterwards.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The PostgreSQL server the benchmarks make their databases on, as a URL
/// without the database name.
fn server() -> String {
    std::env::var("PQ_BENCH_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// The two backends, in the order the tables show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub const BOTH: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];

    /// Both backends, the first one alternating with `round`: on a noisy
    /// machine neither always runs first.
    pub fn alternating(round: usize) -> [Backend; 2] {
        if round % 2 == 0 {
            [Backend::Sqlite, Backend::Postgres]
        } else {
            [Backend::Postgres, Backend::Sqlite]
        }
    }
}

/// A database made for one measurement; it goes away when dropped.
pub struct Db {
    pub backend: Backend,
    location: String,
    /// The PostgreSQL database's name, to drop it.
    pg_name: Option<String>,
}

impl Db {
    /// A fresh, empty database: a new file under `dir`, or a new
    /// PostgreSQL database whose sessions run with `settings` (like
    /// `synchronous_commit = off`), set on that database alone.
    pub fn fresh(backend: Backend, dir: &Path, name: &str, settings: &[&str]) -> Db {
        match backend {
            Backend::Sqlite => {
                let path = dir.join(format!("{name}.db"));
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
                Db { backend, location: path.display().to_string(), pg_name: None }
            }
            Backend::Postgres => {
                static MADE: AtomicUsize = AtomicUsize::new(0);
                let n = MADE.fetch_add(1, Ordering::Relaxed);
                let db = format!("pq_bench_{}_{n}", std::process::id());
                psql("postgres", &format!("CREATE DATABASE {db}"));
                for setting in settings {
                    psql("postgres", &format!("ALTER DATABASE {db} SET {setting}"));
                }
                Db { backend, location: format!("{}/{db}", server()), pg_name: Some(db) }
            }
        }
    }

    /// What `--db` takes.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs `sql` on a PostgreSQL database through `psql`; returns its
    /// output, unaligned.
    pub fn sql(&self, sql: &str) -> String {
        psql(self.pg_name.as_deref().expect("a PostgreSQL database"), sql)
    }

    /// Runs `sql` (statements separated by `;`) on either backend.
    pub fn execute(&self, sql: &str) {
        match &self.pg_name {
            None => pricequeue::store::testing::execute_batch(Path::new(&self.location), sql),
            Some(_) => {
                self.sql(sql);
            }
        }
    }

    /// The one number `sql` returns.
    pub fn count(&self, sql: &str) -> i64 {
        match &self.pg_name {
            None => pricequeue::store::testing::count(Path::new(&self.location), sql),
            Some(_) => self.sql(sql).trim().parse().unwrap_or_else(|_| panic!("`{sql}` gave no number")),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match &self.pg_name {
            Some(db) => {
                psql("postgres", &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.location));
                }
            }
        }
    }
}

/// Runs one statement through `psql` on database `db`; returns its output
/// (unaligned, tuples only).
pub fn psql(db: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .arg(format!("{}/{db}", server()))
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .expect("run psql (apt-get install postgresql-client)");
    assert!(
        out.status.success(),
        "psql `{sql}` on {}/{db} failed: {}\n(set PQ_BENCH_PG to a PostgreSQL server the benchmarks may create databases on)",
        server(),
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
