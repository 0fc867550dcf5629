//! The SQLite store: every SQL statement of the queue and the prices.
//!
//! Callers see plain functions (`enqueue`, `claim`, `complete`, ...) taking
//! and returning Rust values, never SQL or connections, so a second backend
//! (PostgreSQL, for workers on several machines) can sit beside this one.
//! Clocks are passed in as milliseconds since the epoch, which keeps the
//! lease and retry logic testable.

mod queue;
mod readonly;
mod report;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

pub use queue::{Completion, Enqueued, Outcome, Task};
pub use readonly::{run_readonly, Value};
pub use report::{FailedTask, Missing, Reason, StateCounts};
pub use schema::{latest_version, remove_database, APPLICATION_ID};

/// How long a statement waits for another process's write lock before
/// failing, in ms. Writers hold the lock for milliseconds, so reaching this
/// means something is wrong (a stuck process, a `sqlite3` shell inside
/// BEGIN). Set once, from `--busy-timeout`, before any database is opened.
static BUSY_TIMEOUT_MS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(60_000);

/// Sets how long to wait for another process's lock (`--busy-timeout`).
pub fn set_busy_timeout(wait: Duration) {
    BUSY_TIMEOUT_MS.store(wait.as_millis() as u64, std::sync::atomic::Ordering::Relaxed);
}

fn busy_timeout() -> Duration {
    Duration::from_millis(BUSY_TIMEOUT_MS.load(std::sync::atomic::Ordering::Relaxed))
}

/// How hard SQLite pushes each commit to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Synchronous {
    /// Survives a crash of pricequeue; a power loss may undo the last
    /// commits, whose tasks are then simply fetched again.
    #[default]
    Normal,
    /// Survives a power loss too, at the price of an fsync per commit.
    Full,
}

/// Whether `open` may create the database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Create the file if it does not exist (enqueue, fetch, demo).
    IfMissing,
    /// Fail with a clear error if it does not exist (work, query, status).
    No,
}

/// A pricequeue database: a pool of connections to one SQLite file.
#[derive(Clone)]
pub struct Store {
    pool: Pool<SqliteConnectionManager>,
    path: PathBuf,
}

impl Store {
    /// Opens (and if needed creates and migrates) the database at `path`.
    ///
    /// A file that is not a pricequeue database, or one from a newer
    /// pricequeue, is refused before anything is written to it.
    pub fn open(path: &Path, create: Create, synchronous: Synchronous) -> Result<Store> {
        if create == Create::No && !path.exists() {
            bail!(
                "there is no database at {}: run `pricequeue fetch` (or `enqueue`) to create \
                 one, or point --db or PRICEQUEUE_DB at an existing one",
                path.display()
            );
        }
        let mut conn = Connection::open_with_flags(path, open_flags())
            .with_context(|| format!("opening database {}", path.display()))?;
        conn.busy_timeout(busy_timeout())?;
        schema::prepare(&mut conn, path, create)?;
        drop(conn);

        let sync = match synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        let wait = busy_timeout();
        let manager = SqliteConnectionManager::file(path).with_flags(open_flags()).with_init(move |c| {
            c.busy_timeout(wait)?;
            c.pragma_update(None, "synchronous", sync)?;
            Ok(())
        });
        let pool = Pool::builder()
            .max_size(4)
            .min_idle(Some(0))
            .build(manager)
            .with_context(|| format!("opening database {}", path.display()))?;
        Ok(Store { pool, path: path.to_path_buf() })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>> {
        self.pool.get().with_context(|| format!("connecting to database {}", self.path.display()))
    }
}

fn open_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// Milliseconds since the Unix epoch, the queue's clock.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The current time as ISO 8601 text, for columns people read.
fn iso_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
