//! `pricequeue sql`: one read-only statement of the user's, refused if it
//! could write.
//!
//! Three locks, each closing what the one before leaves open: the file is
//! opened read-only; `sqlite3_stmt_readonly` rejects statements that write;
//! an authorizer rejects ATTACH/DETACH (which `stmt_readonly` lets through
//! because they change the connection, not the file) and PRAGMAs that set
//! a value.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{cannot_open, check_path, immutable_uri, Create, Options};
use crate::store::Stopped;
use crate::value::Value;

/// PRAGMAs that take an argument yet only read; their table-valued forms
/// (`pragma_table_info('prices')`) are the only `pragma_*` tables allowed,
/// since others (`pragma_optimize`, `pragma_journal_mode('delete')`) write.
const READING_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "index_info",
    "index_xinfo",
    "index_list",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
    "table_list",
    "database_list",
    "collation_list",
    "function_list",
    "module_list",
    "pragma_list",
    "compile_options",
];

/// Runs `sql` against the database at `path` read-only: `header` gets the
/// column names, then `row` each row. The statement is stopped (a
/// [`Stopped`] error) once it has run for `timeout`, or when `stop` is set.
pub fn run_readonly(
    path: &Path,
    options: &Options,
    sql: &str,
    timeout: Duration,
    stop: &'static AtomicBool,
    header: impl FnOnce(&[String]) -> Result<()>,
    mut row: impl FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    check_path(path, Create::No)?;
    let conn = open_readonly(path, options.busy_timeout)?;
    conn.authorizer(Some(authorize))?;
    // Checked every thousand virtual machine steps: returning true
    // interrupts the statement, which SQLite then reports as an error.
    let started = Instant::now();
    conn.progress_handler(1000, Some(move || started.elapsed() > timeout || stop.load(Ordering::Relaxed)))?;
    let stopped = |e: rusqlite::Error| -> anyhow::Error {
        if e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted) {
            if stop.load(Ordering::Relaxed) {
                return Stopped::Interrupted.into();
            }
            return Stopped::TimedOut(timeout).into();
        }
        e.into()
    };
    let refused = || {
        format!(
            "`pricequeue sql` runs one read-only statement (SELECT, WITH, EXPLAIN, reading PRAGMAs); \
             this one could change the database, so it was not run and {} is unchanged. Use the \
             sqlite3 shell to change the database",
            path.display()
        )
    };
    let mut stmt = match conn.prepare(sql) {
        Ok(stmt) => stmt,
        Err(rusqlite::Error::MultipleStatement) => {
            bail!("`pricequeue sql` runs one statement at a time; remove everything after the first `;`")
        }
        Err(e) if is_refusal(&e) => bail!(refused()),
        Err(e) if e.to_string().starts_with("no such table") => {
            let tables = tables(&conn).unwrap_or_default().join(", ");
            return Err(anyhow::anyhow!("{e}; the tables are {tables}")).context("the SQL statement is not valid");
        }
        Err(e) => return Err(e).context("the SQL statement is not valid"),
    };
    if !stmt.readonly() {
        bail!(refused());
    }
    let names: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    header(&names)?;
    let mut rows = stmt.query([]).map_err(|e| if is_refusal(&e) { anyhow::anyhow!(refused()) } else { stopped(e) })?;
    let mut values = Vec::with_capacity(names.len());
    while let Some(r) = rows.next().map_err(stopped)? {
        values.clear();
        for i in 0..names.len() {
            values.push(match r.get_ref(i)? {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(i) => Value::Integer(i),
                ValueRef::Real(x) => Value::Real(x),
                ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                // Bytes print as lower-case hex.
                ValueRef::Blob(b) => Value::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
            });
        }
        row(&values)?;
    }
    Ok(())
}

/// The tables and views a statement may read, by name: a misspelt one is
/// answered with them.
fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite!_%' ESCAPE '!'
         ORDER BY name",
    )?;
    let names = stmt.query_map([], |r| r.get(0))?;
    names.collect()
}

/// Opens `path` read-only, as immutable where a read-only filesystem
/// leaves no other way; says what the file is if it is not a database.
fn open_readonly(path: &Path, busy_timeout: Duration) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let opened = |target: &str, flags| -> Result<Connection> {
        let conn = Connection::open_with_flags(target, flags)
            .with_context(|| format!("opening {} read-only", path.display()))?;
        conn.busy_timeout(busy_timeout)?;
        // One read of the schema tells a database from any other file.
        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())).map_err(|e| {
            match e.sqlite_error_code() {
                Some(ErrorCode::NotADatabase) => anyhow::anyhow!(
                    "{} is not an SQLite database (a text file, or another program's); nothing was run. Pass \
                 --db with a pricequeue database",
                    path.display()
                ),
                _ => anyhow::Error::new(e).context(format!("reading {}", path.display())),
            }
        })?;
        Ok(conn)
    };
    match opened(&path.to_string_lossy(), flags) {
        Err(e) if cannot_open(&e) => opened(&immutable_uri(path), flags | OpenFlags::SQLITE_OPEN_URI),
        other => other,
    }
}

fn authorize(ctx: AuthContext<'_>) -> Authorization {
    match ctx.action {
        AuthAction::Read { table_name, .. } if table_name.starts_with("pragma_") => {
            let pragma = table_name.trim_start_matches("pragma_").to_ascii_lowercase();
            if READING_PRAGMAS.contains(&pragma.as_str()) {
                Authorization::Allow
            } else {
                Authorization::Deny
            }
        }
        AuthAction::Function { function_name } if function_name.eq_ignore_ascii_case("load_extension") => {
            Authorization::Deny
        }
        AuthAction::Select | AuthAction::Read { .. } | AuthAction::Function { .. } | AuthAction::Recursive => {
            Authorization::Allow
        }
        AuthAction::Pragma { pragma_name, pragma_value: None } if !pragma_name.is_empty() => Authorization::Allow,
        AuthAction::Pragma { pragma_name, pragma_value: Some(_) }
            if READING_PRAGMAS.contains(&pragma_name.to_ascii_lowercase().as_str()) =>
        {
            Authorization::Allow
        }
        _ => Authorization::Deny,
    }
}

/// Whether SQLite refused the statement through the authorizer (it says
/// "not authorized", with SQLITE_AUTH or, for functions, SQLITE_ERROR).
fn is_refusal(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(rusqlite::ErrorCode::AuthorizationForStatementDenied)
        || e.to_string().contains("not authorized")
}
