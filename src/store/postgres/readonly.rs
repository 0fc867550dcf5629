//! `pricequeue sql` on PostgreSQL: one statement of the user's, in a
//! READ ONLY transaction with a statement timeout, rolled back after.
//!
//! Three locks: the session is read-only by default and the statement runs
//! in a READ ONLY transaction (the server refuses every write, DDL and
//! `nextval` in it); only statements that begin like a query are run at
//! all (`COPY ... TO PROGRAM`, `CALL`, `DO` and `SET` are refused); and the
//! transaction is rolled back, never committed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{bail, Result};
use r2d2_postgres::postgres::error::SqlState;
use r2d2_postgres::postgres::fallible_iterator::FallibleIterator;
use r2d2_postgres::postgres::types::{ToSql, Type};

use super::{config, connect, describe};
use crate::store::{Location, Stopped};
use crate::value::Value;

/// How a statement `sql` may begin.
const QUERIES: &[&str] = &["select", "with", "values", "table", "explain", "show"];

pub fn run_readonly(
    url: &str,
    sql: &str,
    timeout: Duration,
    stop: &'static AtomicBool,
    header: impl FnOnce(&[String]) -> Result<()>,
    mut row: impl FnMut(&[Value]) -> Result<()>,
) -> Result<()> {
    let shown = Location::parse(url);
    let refused = || {
        format!(
            "`pricequeue sql` runs one read-only statement (SELECT, WITH, VALUES, TABLE, EXPLAIN, SHOW); this \
             one could change the database, so it was not run and {shown} is unchanged. Use psql to change \
             the database"
        )
    };
    let config = config(url, true)?;
    let mut client = connect(&config, url)?;
    let mut tx = client.build_transaction().read_only(true).start().map_err(|e| describe(e, url))?;
    let ms = timeout.as_millis().clamp(1, i32::MAX as u128).to_string();
    tx.execute("SELECT set_config('statement_timeout', $1, true)", &[&ms]).map_err(|e| describe(e, url))?;
    let mut stmt = match tx.prepare(sql) {
        Ok(stmt) => stmt,
        Err(e) if e.as_db_error().is_some_and(|d| d.message().contains("multiple commands")) => {
            bail!("`pricequeue sql` runs one statement at a time; remove everything after the first `;`")
        }
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => {
            // The failed statement aborted the transaction: the names are read after it.
            let said = describe(e, url);
            let _ = tx.rollback();
            let tables = client
                .query(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = ANY(current_schemas(false)) ORDER BY 1",
                    &[],
                )
                .map(|rows| rows.iter().map(|r| r.get::<_, String>(0)).collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            return Err(anyhow::anyhow!("{said:#}; the tables are {tables}").context("the SQL statement is not valid"));
        }
        Err(e) => return Err(describe(e, url).context("the SQL statement is not valid")),
    };
    // Parsed, not run: only now is it known to be one valid statement,
    // and only a query is run.
    let first = first_word(sql);
    if !QUERIES.contains(&first.as_str()) {
        bail!(refused());
    }
    if let Some(f) = server_function(sql) {
        bail!(
            "`pricequeue sql` does not call {f}: a read-only transaction lets it act on the server (its \
             connections, settings or files), which is not reading the database. Use psql for that"
        );
    }
    // (EXPLAIN ANALYZE runs the statement it explains: one that writes is
    // refused by the read-only transaction.)
    let names: Vec<String> = stmt.columns().iter().map(|c| c.name().to_string()).collect();
    // Columns of types read here as text (numeric, json, intervals, ...)
    // are cast to text by the server, in a statement around the user's.
    let numeric: Vec<bool> = stmt.columns().iter().map(|c| *c.type_() == Type::NUMERIC).collect();
    let as_text: Vec<bool> = stmt.columns().iter().map(|c| !READ_AS_IS.contains(c.type_())).collect();
    if as_text.contains(&true) && first != "explain" && first != "show" {
        let aliases: Vec<String> = (1..=names.len()).map(|i| format!("c{i}")).collect();
        let columns: Vec<String> = aliases
            .iter()
            .zip(&as_text)
            .map(|(a, text)| if *text { format!("{a}::text") } else { a.clone() })
            .collect();
        let inner = sql.trim_end().trim_end_matches(';');
        let wrapped = format!("SELECT {} FROM ({inner}\n) AS q({})", columns.join(", "), aliases.join(", "));
        stmt = tx.prepare(&wrapped).map_err(|e| describe(e, url).context("the SQL statement is not valid"))?;
    }
    let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
    header(&names)?;

    // Ctrl-C cancels the statement on the server.
    let cancel = tx.cancel_token();
    let watching = std::sync::Arc::new(AtomicBool::new(true));
    let watcher = {
        let watching = watching.clone();
        let tls = config.1.clone();
        std::thread::spawn(move || {
            while watching.load(Ordering::Relaxed) {
                if stop.load(Ordering::Relaxed) {
                    let _ = cancel.cancel_query(tls);
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let result = (|| -> Result<()> {
        let none: [&(dyn ToSql + Sync); 0] = [];
        let stopped = |e: r2d2_postgres::postgres::Error| -> anyhow::Error {
            if e.code() == Some(&SqlState::QUERY_CANCELED) {
                if stop.load(Ordering::Relaxed) {
                    return Stopped::Interrupted.into();
                }
                return Stopped::TimedOut(timeout).into();
            }
            if e.code() == Some(&SqlState::READ_ONLY_SQL_TRANSACTION) {
                return anyhow::anyhow!(refused());
            }
            describe(e, url)
        };
        let mut rows = tx.query_raw(&stmt, none).map_err(stopped)?;
        let mut values = Vec::with_capacity(names.len());
        while let Some(r) = rows.next().map_err(stopped)? {
            values.clear();
            for (i, ty) in types.iter().enumerate() {
                values.push(match value(&r, i, ty)? {
                    // A numeric (what sum() of integers gives) as a number.
                    Value::Text(t) if numeric[i] => t
                        .parse::<i64>()
                        .map(Value::Integer)
                        .or_else(|_| t.parse::<f64>().map(Value::Real))
                        .unwrap_or(Value::Text(t)),
                    v => v,
                });
            }
            row(&values)?;
        }
        Ok(())
    })();
    watching.store(false, Ordering::Relaxed);
    let _ = watcher.join();
    let _ = tx.rollback();
    result
}

/// Functions a read-only transaction still runs that act on the server
/// rather than read the database: signalling other sessions (the workers'
/// among them), the configuration and logs, replication, the server's
/// files and large-object files, other databases.
const SERVER_FUNCTIONS: &[&str] = &[
    "pg_terminate_backend",
    "pg_cancel_backend",
    "pg_reload_conf",
    "pg_rotate_logfile",
    "pg_promote",
    "pg_switch_wal",
    "pg_create_restore_point",
    "pg_log_backend_memory_contexts",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_ls_dir",
    "pg_stat_file",
    "lo_import",
    "lo_export",
    "dblink",
];

/// The first function of [`SERVER_FUNCTIONS`] that `sql` names, however
/// quoted, cased or qualified.
fn server_function(sql: &str) -> Option<&'static str> {
    let text = sql.to_ascii_lowercase().replace('"', "");
    SERVER_FUNCTIONS.iter().copied().find(|f| text.contains(f))
}

/// The first word of `sql`, lower case, past whitespace, comments and
/// opening parentheses (`(SELECT 1)`, `/* why */ SELECT`).
fn first_word(sql: &str) -> String {
    let mut rest = sql;
    loop {
        let trimmed = rest.trim_start().trim_start_matches('(');
        if let Some(after) = trimmed.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, next)| next);
        } else if let Some(after) = trimmed.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, next)| next);
        } else if trimmed.len() < rest.len() {
            rest = trimmed;
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("").to_ascii_lowercase()
}

/// The column types read as values of their own.
const READ_AS_IS: &[Type] = &[
    Type::INT2,
    Type::INT4,
    Type::INT8,
    Type::FLOAT4,
    Type::FLOAT8,
    Type::BOOL,
    Type::DATE,
    Type::TIMESTAMPTZ,
    Type::TEXT,
    Type::VARCHAR,
    Type::BPCHAR,
    Type::NAME,
];

/// Column `i` of `r` as a report value: numbers as numbers, days and
/// times as the ISO text SQLite stores (`infinity` as such), anything else
/// as its text. A day or time beyond what chrono holds is an error that
/// says how to see it anyway.
fn value(r: &r2d2_postgres::postgres::Row, i: usize, ty: &Type) -> Result<Value> {
    use r2d2_postgres::postgres::types::{Date, Timestamp};
    let text = |v: Option<String>| v.map_or(Value::Null, Value::Text);
    let unshowable = || {
        let name = r.columns()[i].name();
        anyhow::anyhow!(
            "column {name} holds a day or time too far from now to show here; cast it to text ({name}::text) to \
             see it as PostgreSQL writes it"
        )
    };
    Ok(match *ty {
        Type::INT2 => r.get::<_, Option<i16>>(i).map_or(Value::Null, |v| Value::Integer(v.into())),
        Type::INT4 => r.get::<_, Option<i32>>(i).map_or(Value::Null, |v| Value::Integer(v.into())),
        Type::INT8 => r.get::<_, Option<i64>>(i).map_or(Value::Null, Value::Integer),
        Type::FLOAT4 => r.get::<_, Option<f32>>(i).map_or(Value::Null, |v| Value::Real(v.into())),
        Type::FLOAT8 => r.get::<_, Option<f64>>(i).map_or(Value::Null, Value::Real),
        Type::BOOL => r.get::<_, Option<bool>>(i).map_or(Value::Null, |v| Value::Integer(v.into())),
        Type::DATE => {
            text(r.try_get::<_, Option<Date<chrono::NaiveDate>>>(i).map_err(|_| unshowable())?.map(|d| match d {
                Date::Value(d) => d.to_string(),
                Date::PosInfinity => "infinity".into(),
                Date::NegInfinity => "-infinity".into(),
            }))
        }
        Type::TIMESTAMPTZ => {
            text(r.try_get::<_, Option<Timestamp<chrono::DateTime<chrono::Utc>>>>(i).map_err(|_| unshowable())?.map(
                |t| match t {
                    Timestamp::Value(t) => crate::store::iso(t),
                    Timestamp::PosInfinity => "infinity".into(),
                    Timestamp::NegInfinity => "-infinity".into(),
                },
            ))
        }
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => text(r.get(i)),
        _ => text(r.try_get::<_, Option<String>>(i).ok().flatten()),
    })
}

#[cfg(test)]
mod tests {
    use super::first_word;

    #[test]
    fn functions_that_act_on_the_server_are_found_however_written() {
        use super::server_function;
        assert_eq!(
            server_function("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"),
            Some("pg_terminate_backend")
        );
        assert_eq!(server_function("select PG_CATALOG.\"PG_READ_FILE\"('x')"), Some("pg_read_file"));
        assert_eq!(server_function("SELECT * FROM pg_stat_activity"), None);
    }

    #[test]
    fn the_first_word_is_found_past_comments_and_parentheses() {
        assert_eq!(first_word("  SELECT 1"), "select");
        assert_eq!(first_word("(SELECT 1) UNION (SELECT 2)"), "select");
        assert_eq!(first_word("/* a note */ -- and another\n WITH x AS (SELECT 1) TABLE x"), "with");
        assert_eq!(first_word("/* unclosed"), "");
        assert_eq!(first_word("COPY (SELECT 1) TO PROGRAM 'x'"), "copy");
    }
}
