//! SQLite files: rows read, statements run, a connection at a time.

use std::path::Path;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};

use super::Param;
use crate::value::Value;

pub(super) fn rows(path: &Path, sql: &str, params: &[&dyn Param]) -> Vec<Vec<Value>> {
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

pub(super) fn open(path: &Path, flags: OpenFlags) -> Connection {
    Connection::open_with_flags(path, flags | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .unwrap_or_else(|e| panic!("opening database {}: {e}", path.display()))
}

pub(super) fn bound(params: &[&dyn Param]) -> impl rusqlite::Params {
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
