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

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use chrono::NaiveDate;
use r2d2_postgres::postgres::{self, types::Type, Client, NoTls, SimpleQueryMessage};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use crate::report::Value;

/// A value bound to a `?1`-style parameter of a statement.
pub trait Param {
    /// The value as the database stores it.
    fn value(&self) -> Value;
}

impl Param for str {
    fn value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl Param for String {
    fn value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Param for i64 {
    fn value(&self) -> Value {
        Value::Integer(*self)
    }
}

/// Days are stored as `YYYY-MM-DD` text.
impl Param for NaiveDate {
    fn value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn value(&self) -> Value {
        (**self).value()
    }
}

/// One column of a result row as a Rust value; a value of another type
/// (text where a number was expected, a NULL where none may be) panics.
pub trait Column: Sized {
    /// The value, or `None` if it is not of this type.
    fn from_value(value: Value) -> Option<Self>;
}

impl Column for Value {
    fn from_value(value: Value) -> Option<Self> {
        Some(value)
    }
}

impl Column for i64 {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(i),
            _ => None,
        }
    }
}

/// Integers are read as numbers too, as SQLite itself converts them.
impl Column for f64 {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Integer(i) => Some(i as f64),
            Value::Real(x) => Some(x),
            _ => None,
        }
    }
}

impl Column for String {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// NULL is `None`.
impl<T: Column> Column for Option<T> {
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// A whole result row as a Rust value: one column, a tuple of columns, an
/// array of columns of one type, or every column as a `Vec<Value>`.
pub trait Row: Sized {
    /// The row; panics (naming `sql`) if its columns do not fit.
    fn from_row(row: Vec<Value>, sql: &str) -> Self;
}

/// Takes a column's value as `T`, or panics naming the column and `sql`.
fn column<T: Column>(value: Value, i: usize, sql: &str) -> T {
    let shown = format!("{value:?}");
    T::from_value(value)
        .unwrap_or_else(|| panic!("column {i} of `{sql}` is {shown}, not a {}", std::any::type_name::<T>()))
}

fn expect_columns(row: &[Value], n: usize, sql: &str) {
    assert_eq!(row.len(), n, "`{sql}` returns {} columns, not {n}", row.len());
}

impl<T: Column> Row for T {
    fn from_row(row: Vec<Value>, sql: &str) -> Self {
        expect_columns(&row, 1, sql);
        let value = row.into_iter().next().unwrap_or(Value::Null);
        column(value, 0, sql)
    }
}

impl<T: Column, const N: usize> Row for [T; N] {
    fn from_row(row: Vec<Value>, sql: &str) -> Self {
        expect_columns(&row, N, sql);
        let values: Vec<T> = row.into_iter().enumerate().map(|(i, v)| column(v, i, sql)).collect();
        values.try_into().unwrap_or_else(|_| unreachable!("{N} columns counted"))
    }
}

impl Row for Vec<Value> {
    fn from_row(row: Vec<Value>, _sql: &str) -> Self {
        row
    }
}

macro_rules! tuple_rows {
    ($($n:literal: ($($t:ident $i:tt),+);)+) => {$(
        impl<$($t: Column),+> Row for ($($t,)+) {
            fn from_row(row: Vec<Value>, sql: &str) -> Self {
                expect_columns(&row, $n, sql);
                let mut values = row.into_iter();
                ($(column::<$t>(values.next().unwrap_or(Value::Null), $i, sql),)+)
            }
        }
    )+};
}

tuple_rows! {
    2: (A 0, B 1);
    3: (A 0, B 1, C 2);
    4: (A 0, B 1, C 2, D 3);
    5: (A 0, B 1, C 2, D 3, E 4);
    6: (A 0, B 1, C 2, D 3, E 4, F 5);
    7: (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    9: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    10: (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
}

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
    super::Location::parse(db).is_postgres()
}

/// Every row `sql` returns from the database `db`.
pub fn rows<R: Row>(db: impl AsRef<OsStr>, sql: &str, params: &[&dyn Param]) -> Vec<R> {
    let found = match Backend::of(db.as_ref()) {
        Backend::Sqlite(path) => sqlite_rows(path, sql, params),
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
            let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE);
            conn.execute(sql, bound(params)).unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
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
            let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE);
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
            let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE);
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
    let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE);
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
        "SELECT exchange, symbol, day, state, attempts, last_error FROM tasks",
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

fn sqlite_rows(path: &Path, sql: &str, params: &[&dyn Param]) -> Vec<Vec<Value>> {
    let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE);
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("`{sql}` is not valid: {e}"));
    let n = stmt.column_count();
    let mut found = stmt.query(bound(params)).unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
    let mut out = Vec::new();
    while let Some(r) = found.next().unwrap_or_else(|e| panic!("`{sql}` failed: {e}")) {
        let row = (0..n)
            .map(|i| match r.get_ref(i).unwrap_or_else(|e| panic!("`{sql}`, column {i}: {e}")) {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(b) => Value::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
            })
            .collect();
        out.push(row);
    }
    out
}

fn open(path: &Path, flags: OpenFlags) -> Connection {
    Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .unwrap_or_else(|e| panic!("opening database {}: {e}", path.display()))
}

fn bound(params: &[&dyn Param]) -> impl rusqlite::Params {
    rusqlite::params_from_iter(params.iter().map(|p| Bound(p.value())).collect::<Vec<_>>())
}

/// A [`Value`] as rusqlite binds it.
struct Bound(Value);

impl ToSql for Bound {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Integer(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(x) => ToSqlOutput::Borrowed(ValueRef::Real(*x)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

/// PostgreSQL: one connection kept per database, values read as text and
/// typed by their column's type.
mod pg {
    use super::*;

    /// Idle connections by URL: a test reads hundreds of rows one statement
    /// at a time, and a new session costs a process on the server. A
    /// connection is taken out while in use, so threads never share one.
    static IDLE: Mutex<Option<HashMap<String, Client>>> = Mutex::new(None);

    /// Runs `f` on a connection to `url`. A connection the server ended (it
    /// restarted, or a test dropped the database) is replaced once.
    pub(super) fn with_client<T>(
        url: &str,
        f: impl Fn(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, postgres::Error> {
        let cached = IDLE.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(HashMap::new).remove(url);
        let mut client = match cached {
            Some(c) if !c.is_closed() => c,
            _ => connect(url)?,
        };
        let result = match f(&mut client) {
            Err(e) if lost(&e) => {
                client = connect(url)?;
                f(&mut client)
            }
            other => other,
        };
        if !client.is_closed() {
            IDLE.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .get_or_insert_with(HashMap::new)
                .insert(url.into(), client);
        }
        result
    }

    /// Closes the idle connection to `url`, if any.
    pub(super) fn forget(url: &str) {
        let idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner).as_mut().and_then(|m| m.remove(url));
        drop(idle);
    }

    fn connect(url: &str) -> Result<Client, postgres::Error> {
        let mut client = Client::connect(url, NoTls)?;
        // The text forms `value` reads: ISO days, UTC times, floats that
        // read back to the same number.
        client.batch_execute("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1")?;
        Ok(client)
    }

    /// Whether the session is gone (rather than the statement wrong).
    fn lost(e: &postgres::Error) -> bool {
        match e.as_db_error() {
            None => true,
            // Class 57: operator intervention (a shutdown); 08: connection exception.
            Some(db) => db.code().code().starts_with("57") || db.code().code().starts_with("08"),
        }
    }

    /// The server's message, with its detail and hint when it gives them.
    pub(super) fn describe(e: &postgres::Error) -> String {
        match e.as_db_error() {
            Some(db) => {
                let mut s = format!("{}: {}", db.severity(), db.message());
                for extra in [db.detail(), db.hint()].into_iter().flatten() {
                    s.push_str(&format!(" ({extra})"));
                }
                s
            }
            // "error connecting to server", and why (its source).
            None => {
                let mut s = e.to_string();
                let mut source = std::error::Error::source(e);
                while let Some(cause) = source {
                    s.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                s
            }
        }
    }

    /// Every row `sql` returns; the statement is prepared first for its
    /// columns' types, then run as a simple query for their text.
    pub(super) fn rows(url: &str, sql: &str) -> Vec<Vec<Value>> {
        let (types, texts) = with_client(url, |c| {
            let types: Vec<Type> = c.prepare(sql)?.columns().iter().map(|col| col.type_().clone()).collect();
            let mut texts = Vec::new();
            for message in c.simple_query(sql)? {
                if let SimpleQueryMessage::Row(r) = message {
                    texts.push((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect::<Vec<_>>());
                }
            }
            Ok((types, texts))
        })
        .unwrap_or_else(|e| panic!("`{sql}` failed: {}", describe(&e)));
        texts
            .into_iter()
            .map(|row| {
                row.into_iter().zip(&types).map(|(text, ty)| text.map_or(Value::Null, |t| value(t, ty, sql))).collect()
            })
            .collect()
    }

    /// A column's text as the [`Value`] SQLite would give for it.
    fn value(text: String, ty: &Type, sql: &str) -> Value {
        let bad = |e: &dyn std::fmt::Display| -> Value { panic!("`{sql}`: {ty} {text:?}: {e}") };
        match *ty {
            Type::BOOL => Value::Integer(i64::from(text == "t")),
            Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => text.parse().map_or_else(|e| bad(&e), Value::Integer),
            Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => text.parse().map_or_else(|e| bad(&e), Value::Real),
            Type::TIMESTAMPTZ => match chrono::DateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S%.f%#z") {
                Ok(t) => Value::Text(t.to_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()),
                // infinity and -infinity
                Err(_) => Value::Text(text),
            },
            // DATE comes as YYYY-MM-DD already (DateStyle ISO); the rest as written.
            _ => Value::Text(text),
        }
    }

    /// `sql` with each `?N` replaced by parameter N as an SQL literal.
    /// Untyped literals take the type of the column they meet, so a day
    /// written as text compares with a `date` column as it does in SQLite.
    pub(super) fn inline(sql: &str, params: &[&dyn Param]) -> String {
        let mut out = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            if c == '\'' {
                quoted = !quoted;
            }
            if c != '?' || quoted {
                out.push(c);
                continue;
            }
            let mut digits = String::new();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            let n: usize = digits.parse().unwrap_or_else(|_| panic!("`{sql}`: a `?` without its number"));
            let param = params.get(n.wrapping_sub(1)).unwrap_or_else(|| panic!("`{sql}`: no parameter ?{n}"));
            out.push_str(&literal(&param.value()));
        }
        out
    }

    fn literal(value: &Value) -> String {
        match value {
            Value::Null => "NULL".into(),
            // In parentheses, so that `x-?1` cannot become a comment.
            Value::Integer(i) => format!("({i})"),
            Value::Real(x) => format!("({x:?})"),
            Value::Text(s) => format!("'{}'", s.replace('\'', "''")),
        }
    }

    /// The URL `admin` with its database replaced by `name`.
    pub(super) fn with_database(admin: &str, name: &str) -> String {
        let (base, query) = admin.split_once('?').map_or((admin, None), |(b, q)| (b, Some(q)));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
        let mut url = format!("{}/{name}", &base[..host_end]);
        if let Some(q) = query {
            url.push('?');
            url.push_str(q);
        }
        url
    }

    /// The database a URL names.
    pub(super) fn database_of(url: &str) -> &str {
        let base = url.split('?').next().unwrap_or(url);
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        base[scheme_end..].split_once('/').map_or("", |(_, db)| db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_become_literals_outside_quotes() {
        let sql = pg::inline(
            "SELECT '?1', ?1, ?2, x-?3 WHERE y = ?10",
            &[&"it's", &"2020-03-01", &-5i64, &"a", &"b", &"c", &"d", &"e", &"f", &"ten"],
        );
        assert_eq!(sql, "SELECT '?1', 'it''s', '2020-03-01', x-(-5) WHERE y = 'ten'");
    }

    #[test]
    fn urls_name_their_database() {
        let admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
        let url = pg::with_database(admin, "pq_test_1_2");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/pq_test_1_2?sslmode=disable");
        assert_eq!(pg::database_of(&url), "pq_test_1_2");
        assert_eq!(pg::with_database("postgresql://h", "x"), "postgresql://h/x");
        assert!(is_postgres(&url) && !is_postgres("prices.db"));
    }
}
