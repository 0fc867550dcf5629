//! The SQLite backend: one database file, opened through a small pool of
//! connections, WAL mode so readers run beside the writers. Its operations
//! are the store's (documented there), in files named as PostgreSQL's are.

mod access;
mod candles;
mod claims;
mod complete;
mod copy;
mod counts;
mod enqueue;
mod pairs;
mod pauses;
mod readonly;
mod remove;
mod report;
mod retry;
mod schema;
mod series;
mod sources;

use std::path::Path;

use anyhow::{bail, Context, Result};
use r2d2::{Pool, PooledConnection};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

pub use readonly::run_readonly;
pub use schema::{latest_version, made_by_demo, remove_database};

use super::error::{error_kind, ErrorKind};
use super::{Create, Options, Synchronous, TaskState};

/// A pricequeue database in an SQLite file: a pool of connections to it.
#[derive(Clone)]
pub struct Db {
    pool: Pool<SqliteConnectionManager>,
    /// The file, for messages.
    path: std::path::PathBuf,
    /// Read as immutable, and why (a read-only filesystem, a directory
    /// not writable to this user): what other processes change meanwhile
    /// is not seen.
    pub immutable: Option<String>,
    /// The ids of the series below a day found or made so far.
    series: crate::store::series::SeriesIds,
}

impl Db {
    /// Opens (and if needed creates and migrates) the database file at `path`.
    ///
    /// A file that is not a pricequeue database, or one from a newer
    /// pricequeue, is refused before anything is written to it.
    pub fn open(path: &Path, options: &Options) -> Result<Db> {
        let Options { create, synchronous, busy_timeout, .. } = options.clone();
        check_path(path, create)?;
        if create != Create::ReadOnly && path.exists() {
            access::check_writable(path)?;
        }
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
        let immutable = immutable.then(|| match access::Unwritable::of(path, false) {
            Some(why) => why.describe(path),
            None => "cannot be written here".to_string(),
        });

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
        Ok(Db { pool, path: path.to_path_buf(), immutable, series: Default::default() })
    }

    pub fn identity(&self) -> Result<String> {
        Ok(self.path.canonicalize().unwrap_or_else(|_| self.path.clone()).to_string_lossy().into_owned())
    }

    pub(crate) fn conn(&self) -> Result<PooledConnection<SqliteConnectionManager>> {
        self.pool.get().with_context(|| format!("connecting to database {}", self.path.display()))
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
        Ok(_) => access::check_readable(path),
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
/// filesystem or the permissions say so: which of them, and of what.
fn unwritable(path: &Path) -> Option<anyhow::Error> {
    if !path.exists() {
        return uncreatable(path);
    }
    access::Unwritable::of(path, true).map(|why| why.error(path))
}

/// Why no database file can be made at `path`, when its directory is on a
/// read-only filesystem or not writable to this user: said once, naming
/// the directory (SQLite's own words are "Error code 14", twice).
fn uncreatable(path: &Path) -> Option<anyhow::Error> {
    let dir = access::directory(path);
    // Making the file is the only sure test (root writes where the mode
    // bits say no); one made here is removed at once, as it was not there.
    let kind = match std::fs::OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(_) => {
            let _ = std::fs::remove_file(path);
            return None;
        }
        Err(e) => e.kind(),
    };
    let why = match kind {
        std::io::ErrorKind::ReadOnlyFilesystem => "is on a read-only filesystem",
        std::io::ErrorKind::PermissionDenied => "is not writable to you",
        _ => return None,
    };
    Some(anyhow::anyhow!(
        "cannot create the database {}: its directory {} {why}. Pass --db with a path in a directory you can \
         write to (pricequeue keeps the file and its -wal and -shm files there)",
        path.display(),
        dir.display()
    ))
}

/// `file:` URI of `path` with `immutable=1`: SQLite reads it without locks
/// or a -shm file, taking it as unchanging.
fn immutable_uri(path: &Path) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const URI_PATH: &AsciiSet = &CONTROLS.add(b'%').add(b'?').add(b'#').add(b' ');
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file:{}?immutable=1", utf8_percent_encode(&absolute.to_string_lossy(), URI_PATH))
}

/// A task state as `tasks.state` holds it: its name.
impl ToSql for TaskState {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.name()))
    }
}

impl FromSql for TaskState {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<TaskState> {
        let name = value.as_str()?;
        TaskState::from_name(name).ok_or_else(|| FromSqlError::Other(format!("no task state is named {name:?}").into()))
    }
}

/// An interval as `tasks.interval` and `series.interval` hold it: its name.
impl ToSql for crate::interval::Interval {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.name()))
    }
}

impl FromSql for crate::interval::Interval {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<crate::interval::Interval> {
        value.as_str()?.parse().map_err(|e: String| FromSqlError::Other(e.into()))
    }
}
