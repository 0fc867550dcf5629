//! The store's own test support: reads and hand edits of a database by
//! path, for the integration tests and tools only, never for commands.
//!
//! Tests use it to look at what a command stored and to set up the world a
//! command meets (a worker that died holding tasks, a stale price, a newer
//! schema, another program's tables, a lock held elsewhere) without seeing
//! the backend: values come back as [`Value`]s or plain Rust types, so the
//! day a second backend arrives only this file changes. Everything here
//! panics with the statement in the message on any error: a failed read is
//! a failed test.

use std::path::Path;

use chrono::NaiveDate;
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

/// Every row `sql` returns from the database at `path`.
pub fn rows<R: Row>(path: &Path, sql: &str, params: &[&dyn Param]) -> Vec<R> {
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
        out.push(R::from_row(row, sql));
    }
    out
}

/// The first row `sql` returns, if any.
pub fn row<R: Row>(path: &Path, sql: &str, params: &[&dyn Param]) -> Option<R> {
    rows(path, sql, params).into_iter().next()
}

/// The first row `sql` returns; panics if there is none.
pub fn one<R: Row>(path: &Path, sql: &str, params: &[&dyn Param]) -> R {
    row(path, sql, params).unwrap_or_else(|| panic!("`{sql}` returned no row"))
}

/// The number `sql` (a `SELECT count(*) ...`) returns.
pub fn count(path: &Path, sql: &str) -> i64 {
    one(path, sql, &[])
}

/// Runs one statement that changes the database at `path` (created if
/// missing), as another program or a hand edit would; returns the number
/// of rows changed.
pub fn execute(path: &Path, sql: &str, params: &[&dyn Param]) -> usize {
    let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE);
    conn.execute(sql, bound(params)).unwrap_or_else(|e| panic!("`{sql}` failed: {e}"))
}

/// Runs statements separated by `;` against the database at `path`
/// (created if missing), without parameters.
pub fn execute_batch(path: &Path, sql: &str) {
    let conn = open(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE);
    conn.execute_batch(sql).unwrap_or_else(|e| panic!("`{sql}` failed: {e}"));
}

/// The write lock of the database at `path`, as another program holding
/// a transaction open (a `sqlite3` shell inside `BEGIN`) has it.
pub fn hold_write_lock(path: &Path) -> WriteLock {
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

/// Every row of tasks and prices of the database at `path`, as text:
/// equal dumps, equal databases (to a test).
pub fn dump(path: &Path) -> String {
    let mut out = String::new();
    for sql in [
        "SELECT exchange, symbol, day, state, attempts, last_error FROM tasks ORDER BY exchange, symbol, day",
        "SELECT exchange, symbol, day, open, high, low, close, volume FROM prices ORDER BY exchange, symbol, day",
    ] {
        for row in rows::<Vec<Value>>(path, sql, &[]) {
            for v in row {
                out.push_str(&format!("{v:?}|"));
            }
            out.push('\n');
        }
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
