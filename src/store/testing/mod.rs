//! The store's own test support: reads and hand edits of a database, for
//! the integration tests and tools only, never for commands.
//!
//! Tests use it to look at what a command stored and to set up the world a
//! command meets (a worker that died holding tasks, a stale price, a newer
//! schema, another program's tables, a lock held elsewhere) without seeing
//! the backend. A database is named as on the command line: a
//! `postgres://` (or `postgresql://`) URL, or else an SQLite file's path.
//! Statements write parameters as `?1`, `?2`, ...; values come back as
//! [`Value`]s or plain Rust types, the same on both backends (a PostgreSQL
//! `date` as `YYYY-MM-DD` text, a `timestamptz` as `YYYY-MM-DDTHH:MM:SS.sssZ`
//! text in UTC), so one test reads both. Everything here panics with the
//! statement in the message on any error: a failed read is a failed test.

mod pg;
mod sqlite;
mod values;

use std::ffi::OsStr;
use std::path::Path;

use rusqlite::{Connection, OpenFlags};

pub use values::{Column, Param, Row};

use crate::value::Value;

/// Which backend holds a database, as the binary's `--db` tells them apart.
enum Backend<'a> {
    Sqlite(&'a Path),
    Postgres(&'a str),
}

impl<'a> Backend<'a> {
    fn of(db: &'a OsStr) -> Backend<'a> {
        match db.to_str() {
            Some(url) if is_postgres(url) => Backend::Postgres(url),
            _ => Backend::Sqlite(Path::new(db)),
        }
    }
}

/// Whether `db` names a PostgreSQL database rather than an SQLite file.
pub fn is_postgres(db: &str) -> bool {
    crate::store::Location::parse(db).is_postgres()
}

/// Every row `sql` returns from the database `db`.
pub fn rows<R: Row>(db: impl AsRef<OsStr>, sql: &str, params: &[&dyn Param]) -> Vec<R> {
    let found = match Backend::of(db.as_ref()) {
        Backend::Sqlite(path) => sqlite::rows(path, sql, params),
        Backend::Postgres(url) => pg::rows(url, &pg::inline(sql, params)),
    };
    found.into_iter().map(|row| R::from_row(row, sql)).collect()
}

/// The first row `sql` returns, if any.
pub fn row<R: Row>(db: impl AsRef<OsStr>, sql: &str, params: &[&dyn Param]) -> Option<R> {
    rows(db, sql, params).into_iter().next()
}

/// The first row `sql` returns; panics if there is none.
pub fn one<R: Row>(db: impl AsRef<OsStr>, sql: &str, params: &[&dyn Param]) -> R {
    row(db, sql, params).unwrap_or_else(|| panic!("`{sql}` returned no row"))
}

/// The number `sql` (a `SELECT count(*) ...`) returns.
pub fn count(db: impl AsRef<OsStr>, sql: &str) -> i64 {
    one(db, sql, &[])
}

/// Runs one statement that changes the database `db` (an SQLite file is
/// created if missing), as another program or a hand edit would; returns
/// the number of rows changed.
pub fn execute(db: impl AsRef<OsStr>, sql: &str, params: &[&dyn Param]) -> usize {
    match Backend::of(db.as_ref()) {
        Backend::Sqlite(path) => {
            let conn = sqlite::open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE);
            conn.execute(sql, sqlite::bound(params)).unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
        }
        Backend::Postgres(url) => {
            let sql = pg::inline(sql, params);
            let n = pg::with_client(url, |c| c.execute(sql.as_str(), &[]))
                .unwrap_or_else(|e| panic!("`{sql}` failed: {}", pg::describe(&e)));
            usize::try_from(n).unwrap_or(usize::MAX)
        }
    }
}

/// Runs statements separated by `;` against the database `db` (an SQLite
/// file is created if missing), without parameters.
pub fn execute_batch(db: impl AsRef<OsStr>, sql: &str) {
    match Backend::of(db.as_ref()) {
        Backend::Sqlite(path) => {
            let conn = sqlite::open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE);
            conn.execute_batch(sql).unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
        }
        Backend::Postgres(url) => pg::with_client(url, |c| c.batch_execute(sql))
            .unwrap_or_else(|e| panic!("`{sql}` failed: {}", pg::describe(&e))),
    }
}

/// Whether a connection other than ours is inside a transaction that
/// writes (SQLite: holds the write lock) or may (PostgreSQL: any open
/// transaction). A test that stops a process with SIGSTOP asks this, so
/// that the process it stops holds no lock the others would wait on.
pub fn another_transaction_open(db: impl AsRef<OsStr>) -> bool {
    match Backend::of(db.as_ref()) {
        Backend::Sqlite(path) => {
            let conn = sqlite::open(path, OpenFlags::SQLITE_OPEN_READ_WRITE);
            conn.busy_timeout(std::time::Duration::ZERO).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK") {
                Ok(()) => false,
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => true,
                Err(e) => panic!("probing the write lock of {}: {e}", path.display()),
            }
        }
        Backend::Postgres(url) => {
            let sql = "SELECT count(*) FROM pg_stat_activity
                       WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL";
            count(url, sql) > 0
        }
    }
}

/// The write lock of the SQLite database at `path`, as another program
/// holding a transaction open (a `sqlite3` shell inside `BEGIN`) has it.
pub fn hold_write_lock(path: impl AsRef<OsStr>) -> WriteLock {
    let Backend::Sqlite(path) = Backend::of(path.as_ref()) else {
        panic!("hold_write_lock is for SQLite files: PostgreSQL locks rows, not the database");
    };
    let conn = sqlite::open(path, OpenFlags::SQLITE_OPEN_READ_WRITE);
    conn.execute_batch("BEGIN IMMEDIATE").unwrap_or_else(|e| panic!("locking {}: {e}", path.display()));
    WriteLock { conn }
}

/// A write lock held on a database; dropping it releases the lock,
/// changing nothing.
pub struct WriteLock {
    conn: Connection,
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        // Dropping the connection would roll back too; saying so is clearer.
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}

/// Every row of tasks and prices of the database `db`, as text: equal
/// dumps, equal databases (to a test), whichever backend holds each.
pub fn dump(db: impl AsRef<OsStr>) -> String {
    let db = db.as_ref();
    let mut out = String::new();
    for sql in [
        "SELECT exchange, symbol, day, state, attempts, last_error, failure, rounds FROM tasks",
        "SELECT exchange, symbol, day, open, high, low, close, volume FROM prices",
    ] {
        let mut lines: Vec<(String, String)> = rows::<Vec<Value>>(db, sql, &[])
            .into_iter()
            .map(|row| {
                // Sorted here, not by ORDER BY: the backends order text by
                // different collations, and a dump must not depend on it.
                let key = row.iter().take(3).map(|v| format!("{v}\u{0}")).collect();
                let line = row.iter().map(|v| format!("{v:?}|")).collect();
                (key, line)
            })
            .collect();
        lines.sort();
        for (_, line) in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// Everything the database `db` holds, as text, for a test that searches
/// it (for a secret): an SQLite file's bytes and those of its `-wal` and
/// `-shm` (freed pages and old copies of rows included); every row of every
/// table and view of a PostgreSQL database's schema, cast to text.
pub fn stored_text(db: impl AsRef<OsStr>) -> String {
    match Backend::of(db.as_ref()) {
        Backend::Sqlite(path) => {
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                bytes.extend(std::fs::read(&name).unwrap_or_default());
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Backend::Postgres(url) => {
            let tables: Vec<String> = rows(
                url,
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
                &[],
            );
            let mut out = String::new();
            for table in tables {
                let sql = format!("SELECT CAST(t AS text) FROM \"{table}\" t");
                for row in rows::<Option<String>>(url, &sql, &[]) {
                    out.push_str(&format!("{table}: {}\n", row.unwrap_or_default()));
                }
            }
            out
        }
    }
}

/// Makes the empty PostgreSQL database `name` on the server `admin` (a URL
/// of a database there that may create databases); returns its URL.
pub fn create_database(admin: &str, name: &str) -> String {
    assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'), "database name {name}");
    execute(admin, &format!("CREATE DATABASE {name}"), &[]);
    database_url(admin, name)
}

/// The URL of the database `name` on the server `admin` is on.
pub fn database_url(admin: &str, name: &str) -> String {
    pg::with_database(admin, name)
}

/// Drops the PostgreSQL database `url` names, from the server `admin`,
/// ending whatever sessions are still in it (a process the test left
/// running). An error is returned, not raised: a sandbox calls this as it
/// is dropped, perhaps while its test is failing.
pub fn drop_database(admin: &str, url: &str) -> Result<(), String> {
    pg::forget(url);
    let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg::database_of(url));
    pg::with_client(admin, |c| c.batch_execute(&sql)).map_err(|e| pg::describe(&e))
}

/// Whether a PostgreSQL server answers at `url`; the error if not.
pub fn reachable(url: &str) -> Result<(), String> {
    pg::with_client(url, |c| c.simple_query("SELECT 1").map(drop)).map_err(|e| pg::describe(&e))
}
