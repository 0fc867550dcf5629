//! The store: every SQL statement of the queue and the prices, on either
//! backend, an SQLite file (the default, nothing to set up) or a
//! PostgreSQL database (one queue for workers on many hosts).
//!
//! Callers see plain functions (`enqueue`, `claim`, `complete`, ...) taking
//! and returning Rust values, never SQL or connections, so nothing outside
//! this module knows which backend it has. The functions are documented
//! once, in `queue.rs` and `reads.rs`; the rules of a task's life are
//! decided once, in `state.rs`, and each backend (`sqlite/`, `postgres/`,
//! the same file names on both) only turns them into SQL. Clocks are passed in as
//! milliseconds since the epoch on this machine's clock, which keeps the
//! lease and retry logic testable; PostgreSQL keeps them on its server's
//! clock, so hosts whose clocks differ agree on when a lease ends.

pub mod candles;
pub mod copy;
mod counts;
mod error;
mod location;
mod postgres;
mod queue;
mod reads;
mod retry_policy;
mod series;
mod sqlite;
pub mod state;
mod task;
/// Test support, compiled for tests only: the `testing` feature, which
/// the tests turn on through the package's dev-dependency on itself.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Result;

pub use crate::life::{Missing, Reason};
pub use counts::{FailedTask, StateCounts};
pub use error::{error_kind, hint, ErrorKind, Stopped, StoreError};
pub use location::Location;
pub use retry_policy::RetryPolicy;
pub use state::TaskState;
pub use task::{Completion, Enqueued, Outcome, Task};

use crate::value::Value;

/// How to open a database.
#[derive(Debug, Clone)]
pub struct Options {
    pub location: Location,
    pub create: Create,
    pub synchronous: Synchronous,
    /// How long a statement waits for another process's write lock before
    /// failing. Writers hold the lock for milliseconds, so reaching this
    /// means something is wrong (a stuck process, a `sqlite3` shell inside
    /// BEGIN).
    pub busy_timeout: Duration,
}

impl Options {
    /// Opening the database at `location` as `create` says, with commits
    /// pushed to disk as `Synchronous::Normal` does and a 60 s busy timeout.
    pub fn new(location: impl Into<Location>, create: Create) -> Options {
        Options {
            location: location.into(),
            create,
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(60),
        }
    }

    /// The same, with commits pushed to disk as `synchronous` says.
    pub fn synchronous(self, synchronous: impl Into<Synchronous>) -> Options {
        Options { synchronous: synchronous.into(), ..self }
    }
}

/// How hard SQLite pushes each commit to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    /// Fail with a clear error if it does not exist (work, retry).
    No,
    /// Read only, without changing the file in any way (query, status,
    /// coverage): works on a read-only filesystem too.
    ReadOnly,
}

/// A pricequeue database, on whichever backend its location names.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    location: Location,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::Db),
    Postgres(postgres::Db),
}

impl Store {
    /// Opens (and if needed creates and migrates) the database at the
    /// options' location. A database that is not pricequeue's, or one
    /// from a newer pricequeue, is refused before anything is written to it.
    pub fn open(options: &Options) -> Result<Store> {
        let backend = match &options.location {
            Location::File(path) => Backend::Sqlite(sqlite::Db::open(path, options)?),
            Location::Postgres(url) => Backend::Postgres(postgres::Db::open(url, options)?),
        };
        Ok(Store { backend, location: options.location.clone() })
    }

    /// Where the database is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// Why the database is read as immutable, if it is (an SQLite file "is
    /// on a read-only filesystem", "is in ..., a directory not writable to
    /// you"): what other processes change meanwhile is not seen.
    pub fn immutable(&self) -> Option<&str> {
        match &self.backend {
            Backend::Sqlite(db) => db.immutable.as_deref(),
            _ => None,
        }
    }
}

/// Defines `Store` methods that each backend implements with the same
/// signature, by handing the call to the backend. The rules of the queue
/// are not among them: `queue.rs` decides those, above the backends.
macro_rules! on_backend {
    ($($(#[$doc:meta])* fn $name:ident(&self $(, $arg:ident: $ty:ty)*) -> $ret:ty;)+) => {
        impl Store {$(
            $(#[$doc])*
            pub fn $name(&self $(, $arg: $ty)*) -> $ret {
                match &self.backend {
                    Backend::Sqlite(db) => db.$name($($arg),*),
                    Backend::Postgres(db) => db.$name($($arg),*),
                }
            }
        )+}
    };
}
use on_backend;

/// The schema version this build writes on the backend `location` names.
pub fn latest_version(location: &Location) -> i64 {
    match location {
        Location::File(_) => sqlite::latest_version(),
        Location::Postgres(_) => postgres::latest_version(),
    }
}

/// Whether the database at `location` is one `pricequeue demo` made (and
/// nothing else has added tasks to since). Read without changing anything.
pub fn made_by_demo(options: &Options) -> Result<bool> {
    match &options.location {
        Location::File(path) => sqlite::made_by_demo(path),
        Location::Postgres(url) => postgres::made_by_demo(url),
    }
}

/// Removes the pricequeue database at `location` (a file and its WAL
/// files; the pricequeue tables of a PostgreSQL database), so it can be
/// made anew; refuses anything that is not pricequeue's. None is fine.
pub fn remove_database(options: &Options) -> Result<()> {
    match &options.location {
        Location::File(path) => sqlite::remove_database(path),
        Location::Postgres(url) => postgres::remove_database(url),
    }
}

/// Whether there is a database at `location` already.
pub fn exists(options: &Options) -> Result<bool> {
    match &options.location {
        Location::File(path) => Ok(path.exists()),
        Location::Postgres(url) => postgres::has_tables(url),
    }
}

/// Runs `sql`, one read-only statement of the user's, against the
/// database: `header` gets the column names, then `row` each row. It is
/// stopped (a [`Stopped`] error) once it has run for `timeout`, or when
/// `stop` is set; nothing it is given can change the database.
pub fn run_readonly(
    options: &Options,
    sql: &str,
    timeout: Duration,
    stop: &'static AtomicBool,
    header: impl FnOnce(&[String]) -> Result<()>,
    row: impl FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    if sql.trim().trim_end_matches(';').trim().is_empty() {
        anyhow::bail!(crate::error::Usage(
            "no SQL statement given: pass one, like \"SELECT * FROM prices LIMIT 5\"".into()
        ));
    }
    match &options.location {
        Location::File(path) => sqlite::run_readonly(path, options, sql, timeout, stop, header, row),
        Location::Postgres(url) => postgres::run_readonly(url, sql, timeout, stop, header, row),
    }
}

pub use crate::clock::now_ms;

/// The current time as ISO 8601 text, for columns people read.
pub(crate) fn iso_now() -> String {
    iso(chrono::Utc::now())
}

/// A time as ISO 8601 text in UTC, to the millisecond: as SQLite stores
/// times meant for people, and as both backends show them.
pub(crate) fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
