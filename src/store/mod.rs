//! The store: every SQL statement of the queue and the prices, on either
//! backend, an SQLite file (the default, nothing to set up) or a
//! PostgreSQL database (one queue for workers on many hosts).
//!
//! Callers see plain functions (`enqueue`, `claim`, `complete`, ...) taking
//! and returning Rust values, never SQL or connections, so nothing outside
//! this module knows which backend it has. Clocks are passed in as
//! milliseconds since the epoch on this machine's clock, which keeps the
//! lease and retry logic testable; PostgreSQL keeps them on its server's
//! clock, so hosts whose clocks differ agree on when a lease ends.

pub mod copy;
mod counts;
mod error;
mod location;
#[cfg(test)]
mod model;
mod postgres;
pub(crate) mod reason;
mod sqlite;
mod task;
#[doc(hidden)]
pub mod testing;
#[cfg(test)]
mod tests;

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;

pub use counts::{FailedTask, StateCounts};
pub use error::{error_kind, ErrorKind, Stopped, StoreError};
pub use location::Location;
pub use reason::{Missing, Reason};
pub use task::{Completion, Enqueued, Outcome, Task};

use crate::price::PriceRow;
use crate::report::Value;
use crate::selection::Selection;

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
    pub fn synchronous(self, synchronous: Synchronous) -> Options {
        Options { synchronous, ..self }
    }
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

    /// Whether the database is read as immutable (an SQLite file on a
    /// read-only filesystem): what other processes change meanwhile is not seen.
    pub fn immutable(&self) -> bool {
        matches!(&self.backend, Backend::Sqlite(db) if db.immutable)
    }

    /// Adds one task per cell of the selection; see [`Store::enqueue_days`].
    pub fn enqueue(&self, sel: &Selection, now: i64, grace: Duration) -> Result<Enqueued> {
        self.enqueue_days(&sel.exchanges, &sel.symbols, &sel.day_list(), now, grace)
    }

    /// Whether any task is queued or in progress.
    pub fn has_pending(&self) -> Result<bool> {
        Ok(self.next_wakeup()?.is_some())
    }

    /// Calls `each` with every cell of the selection that has no price,
    /// with the reason, by exchange, symbol and day.
    pub fn for_each_missing(&self, sel: &Selection, mut each: impl FnMut(Missing) -> Result<()>) -> Result<()> {
        self.for_each_cell(sel, |exchange, symbol, day, reason| match reason {
            None => Ok(()),
            Some(reason) => each(Missing { exchange: exchange.to_string(), symbol: symbol.to_string(), day, reason }),
        })
    }
}

/// Defines `Store` methods that each backend implements with the same
/// signature, by handing the call to the backend.
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

on_backend! {
    /// Marks the database as the demo's own (or no longer): only a demo's
    /// database may be replaced by `pricequeue demo`.
    fn set_demo(&self, demo: bool) -> Result<bool>;

    /// Adds one task per (exchange, symbol, day) of the cross product; tasks
    /// already queued (in any state) are left as they are. `days` are in
    /// order, and usually consecutive (a range). A day not due at `now`
    /// (see [`crate::clock::due_at`]) is queued as `not_yet_due` until it is.
    fn enqueue_days(
        &self,
        exchanges: &[String],
        symbols: &[String],
        days: &[NaiveDate],
        now: i64,
        grace: Duration
    ) -> Result<Enqueued>;

    /// Claims up to `limit` tasks that are due at `now` for `owner`, leased
    /// until `lease_until`. Each claim bumps the task's fencing token.
    fn claim(&self, owner: &str, limit: usize, now: i64, lease_until: i64) -> Result<Vec<Task>>;

    /// Extends the lease of every task `owner` holds, while its fetches run.
    fn renew(&self, owner: &str, lease_until: i64) -> Result<usize>;

    /// Puts back in the queue the tasks whose lease ran out before `now`
    /// (their worker died or hung); returns how many.
    fn recover_expired(&self, now: i64) -> Result<usize>;

    /// The owners of tasks in progress, each with how many it holds.
    fn owners(&self) -> Result<Vec<(String, u64)>>;

    /// Puts every task `owner` holds back in the queue, as if never
    /// claimed (its process is gone); returns how many.
    fn release_owner(&self, owner: &str) -> Result<usize>;

    /// Queues the `not_yet_due` tasks whose time has come by `now`; returns how many.
    fn promote_due(&self, now: i64) -> Result<usize>;

    /// How many tasks are not yet due, and when the first of them comes due.
    fn not_yet_due(&self) -> Result<(u64, Option<i64>)>;

    /// When the queue next has work: `Some(t)` is the earliest time (ms) a
    /// queued task comes due, or a lease held by someone else runs out;
    /// `None` when nothing is queued or in progress.
    fn next_wakeup(&self) -> Result<Option<i64>>;

    /// Writes back finished tasks in one transaction: each task's new state
    /// and its price commit together. A completion whose claim is no longer
    /// current (its lease expired and another worker took the task) is
    /// ignored; returns, for each completion, whether it was applied.
    fn complete(&self, done: &[Completion]) -> Result<Vec<bool>>;

    /// Until when (ms since epoch) `server` asked not to be sent requests.
    fn pause(&self, server: &str) -> Result<Option<i64>>;

    /// Records that `server` asked for no requests before `until`; a later
    /// pause already recorded is kept.
    fn set_pause(&self, server: &str, until: i64) -> Result<()>;

    /// Takes `n` request slots for `server`, `interval` ms apart, none
    /// before `now`, from the sequence every process on this database
    /// shares; returns the first (the others follow at `interval` steps).
    fn reserve_slots(&self, server: &str, n: u32, interval: i64, now: i64) -> Result<i64>;

    /// Queues failed tasks again with a fresh set of attempts: those of the
    /// selection, or every one when `None`; with `abandoned`, the abandoned
    /// ones too. One transaction.
    fn retry_failed(&self, sel: Option<&Selection>, abandoned: bool) -> Result<usize>;

    /// Gives up on failed tasks for good (`retry --never`): those of the
    /// selection, or every one when `None`. They keep their error, and no
    /// run fetches them again or counts them as failures.
    fn abandon(&self, sel: Option<&Selection>) -> Result<usize>;

    /// Queues the finished tasks of the selection again (done, no data or
    /// failed), to fetch them afresh; returns how many. One transaction.
    fn refresh(&self, sel: &Selection) -> Result<usize>;

    /// Counts the tasks again into `task_counts`, for after hand edits.
    fn recount(&self) -> Result<()>;

    /// Task counts by state over the whole queue.
    fn counts(&self) -> Result<StateCounts>;

    /// Task counts by state of the selection's tasks, read in one transaction.
    fn counts_in(&self, sel: &Selection) -> Result<StateCounts>;

    /// Task counts by state for each (exchange, symbol), in name order.
    fn counts_by_pair(&self) -> Result<Vec<(String, String, StateCounts)>>;

    /// The most recently failed tasks, newest first, at most `limit`: of
    /// the selection, or of the whole queue for `None`.
    fn failures(&self, sel: Option<&Selection>, limit: usize) -> Result<Vec<FailedTask>>;

    /// The exchanges and the symbols that appear in the queue or the prices.
    fn names(&self) -> Result<(Vec<String>, Vec<String>)>;

    /// The first and last day of any task or price of these exchanges and
    /// symbols, read in one transaction.
    fn day_bounds(&self, exchanges: &[String], symbols: &[String]) -> Result<Option<(NaiveDate, NaiveDate)>>;

    /// Calls `each` with every stored price of the selection, by exchange,
    /// symbol and day, read in one transaction.
    fn for_each_price(&self, sel: &Selection, each: impl FnMut(PriceRow) -> Result<()>) -> Result<()>;

    /// Calls `each` with every cell of the selection, by exchange, symbol
    /// and day: `None` for a day with a price, or why it has none. Read in
    /// one transaction; memory stays flat however long the range.
    fn for_each_cell(
        &self,
        sel: &Selection,
        each: impl FnMut(&str, &str, NaiveDate, Option<Reason>) -> Result<()>
    ) -> Result<()>;

    /// What tells this database from every other: the file's full path;
    /// for PostgreSQL the server's system identifier, its database and the
    /// schema the tables are in (however the URL names them).
    fn identity(&self) -> Result<String>;

    /// Up to `limit` tasks after the key `after` (from the first, for
    /// `None`), in key order: `copy` reads a database a chunk at a time.
    fn tasks_after(&self, after: Option<&copy::Key>, limit: usize) -> Result<Vec<copy::TaskRecord>>;

    /// Up to `limit` prices after the key `after`, in key order.
    fn prices_after(&self, after: Option<&copy::Key>, limit: usize) -> Result<Vec<PriceRow>>;

    /// Adds the tasks the database lacks, and replaces those it has with
    /// ones more finished (done, no data, failed or abandoned, where it
    /// has another state, or finished later); counts again the pairs
    /// touched. One transaction: run again, it changes nothing.
    fn import_tasks(&self, tasks: &[copy::TaskRecord]) -> Result<copy::Imported>;

    /// Adds the prices the database lacks, and replaces those fetched
    /// earlier than the ones given. One transaction.
    fn import_prices(&self, prices: &[PriceRow]) -> Result<copy::Imported>;
}

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
