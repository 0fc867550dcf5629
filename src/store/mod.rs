//! The SQLite store: every SQL statement of the queue and the prices.
//!
//! Callers see plain functions (`enqueue`, `claim`, `complete`, ...) taking
//! and returning Rust values, never SQL or connections, so a second backend
//! (PostgreSQL, for workers on several machines) can sit beside this one.
//! Clocks are passed in as milliseconds since the epoch, which keeps the
//! lease and retry logic testable.

mod claims;
mod complete;
mod counts;
mod enqueue;
mod error;
#[cfg(test)]
mod model;
mod pauses;
mod readonly;
mod reasons;
mod report;
mod retry;
mod schema;
#[doc(hidden)]
pub mod testing;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};

pub use claims::Task;
pub use complete::{Completion, Outcome};
pub use enqueue::Enqueued;
pub use error::{error_kind, ErrorKind, StoreError};
pub use readonly::{run_readonly, Stopped};
pub use reasons::{Missing, Reason};
pub use report::{FailedTask, StateCounts};
pub use schema::{latest_version, made_by_demo, remove_database, APPLICATION_ID};

/// Where a database is: a file's path for SQLite (a URL, later, for
/// another backend). Messages name the database by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location(String);

impl Location {
    /// The location as a file path.
    pub fn path(&self) -> &Path {
        Path::new(&self.0)
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location(p.to_string_lossy().into_owned())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::from(p.as_path())
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

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

/// A pricequeue database: a pool of connections to one SQLite file.
#[derive(Clone)]
pub struct Store {
    pool: Pool<SqliteConnectionManager>,
    location: Location,
    immutable: bool,
}

impl Store {
    /// Opens (and if needed creates and migrates) the database at `path`.
    ///
    /// A file that is not a pricequeue database, or one from a newer
    /// pricequeue, is refused before anything is written to it.
    pub fn open(options: &Options) -> Result<Store> {
        let Options { location, create, synchronous, busy_timeout } = options.clone();
        let path = location.path();
        check_path(path, create)?;
        // Reading commands open the file as a writer would (so an older
        // schema is brought up to date); where the filesystem refuses,
        // read-only; and where a WAL database's -shm file cannot be made
        // beside it either (a read-only filesystem), as immutable.
        let plain = path.to_string_lossy().into_owned();
        let tries = match create {
            Create::ReadOnly => vec![
                (plain.clone(), open_flags(Create::No), Create::No),
                (plain, open_flags(Create::ReadOnly), Create::ReadOnly),
                (immutable_uri(path), open_flags(Create::ReadOnly) | OpenFlags::SQLITE_OPEN_URI, Create::ReadOnly),
            ],
            _ => vec![(plain, open_flags(create), create)],
        };
        let last = tries.len() - 1;
        let mut opened = None;
        for (i, (target, flags, mode)) in tries.into_iter().enumerate() {
            let attempt = Connection::open_with_flags(&target, flags)
                .with_context(|| format!("opening database {}", path.display()))
                .and_then(|mut conn| {
                    conn.busy_timeout(busy_timeout)?;
                    schema::prepare(&mut conn, path, mode, busy_timeout)
                });
            match attempt {
                Ok(()) => {
                    opened = Some((target, flags, i == 2));
                    break;
                }
                Err(e) if i < last && cannot_open(&e) => continue,
                Err(e) if cannot_open(&e) => return Err(unwritable(path).unwrap_or(e)),
                Err(e) => return Err(e),
            }
        }
        let Some((target, flags, immutable)) = opened else { bail!("opening database {}", path.display()) };

        let sync = match synchronous {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        let wait = busy_timeout;
        let writable = flags.contains(OpenFlags::SQLITE_OPEN_READ_WRITE);
        let manager = SqliteConnectionManager::file(&target).with_flags(flags).with_init(move |c| {
            c.busy_timeout(wait)?;
            if writable {
                c.pragma_update(None, "synchronous", sync)?;
            }
            Ok(())
        });
        let pool = Pool::builder()
            .max_size(4)
            .min_idle(Some(0))
            .build(manager)
            .with_context(|| format!("opening database {}", path.display()))?;
        Ok(Store { pool, location, immutable })
    }

    /// Whether the database is read as immutable (it is on a read-only
    /// filesystem): what other processes change meanwhile is not seen.
    pub fn immutable(&self) -> bool {
        self.immutable
    }

    /// Where the database is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>> {
        self.pool.get().with_context(|| format!("connecting to database {}", self.location))
    }
}

fn open_flags(create: Create) -> OpenFlags {
    match create {
        Create::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        _ => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    }
}

/// Says what is wrong with `path` as a database file, before SQLite is
/// asked (whose own words would blame the SQL, or the directory).
pub(crate) fn check_path(path: &Path, create: Create) -> Result<()> {
    let shown = path.display();
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => bail!(
            "{shown} is a directory, not a database file: pass --db with a file in it, like {}",
            path.join("prices.db").display()
        ),
        Ok(m) if !m.is_file() => {
            bail!("{shown} is not a regular file (a device, a pipe or a socket): pass --db with a database file")
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            match (create, parent) {
                (_, Some(dir)) if !dir.is_dir() => bail!(
                    "there is no directory {} for the database {shown}: create it, or pass --db with a path \
                     in an existing directory",
                    dir.display()
                ),
                (Create::IfMissing, _) => Ok(()),
                _ => bail!(
                    "there is no database at {shown}: run `pricequeue fetch` (or `enqueue`) to create one, or \
                     point --db or PRICEQUEUE_DB at an existing one"
                ),
            }
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {shown}")),
    }
}

/// Whether opening failed because the file cannot be opened as asked (the
/// -shm file of a WAL database cannot be made beside it, say).
fn cannot_open(e: &anyhow::Error) -> bool {
    matches!(error_kind(e), Some(ErrorKind::CannotOpen | ErrorKind::ReadOnly))
}

/// Why the database at `path` cannot be opened for writing, when the
/// filesystem or the permissions say so.
fn unwritable(path: &Path) -> Option<anyhow::Error> {
    let kind = std::fs::OpenOptions::new().write(true).open(path).err()?.kind();
    let shown = path.display();
    match kind {
        std::io::ErrorKind::ReadOnlyFilesystem => Some(
            StoreError::new(
                ErrorKind::ReadOnly,
                format!(
                    "{shown} is on a read-only filesystem: commands that write (enqueue, fetch, work, retry) \
                     cannot use it; query, status, coverage and sql can read it. Copy it somewhere writable to \
                     fetch into it"
                ),
            )
            .into(),
        ),
        std::io::ErrorKind::PermissionDenied => Some(
            StoreError::new(
                ErrorKind::ReadOnly,
                format!(
                    "you may not write to {shown}: pricequeue writes to it and to its -wal and -shm files beside \
                     it; query, status, coverage and sql can read it"
                ),
            )
            .into(),
        ),
        _ => None,
    }
}

/// `file:` URI of `path` with `immutable=1`: SQLite reads it without locks
/// or a -shm file, taking it as unchanging.
fn immutable_uri(path: &Path) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const URI_PATH: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#').add(b' ');
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}?immutable=1", utf8_percent_encode(&absolute.to_string_lossy(), URI_PATH))
}

pub use crate::clock::now_ms;

/// The current time as ISO 8601 text, for columns people read.
fn iso_now() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
