//! PostgreSQL: one connection kept per database, values read as text and
//! typed by their column's type.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use r2d2_postgres::postgres::{self, types::Type, Client, NoTls, SimpleQueryMessage};

use super::Param;
use crate::value::Value;

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
        IDLE.lock().unwrap_or_else(PoisonError::into_inner).get_or_insert_with(HashMap::new).insert(url.into(), client);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::is_postgres;

    #[test]
    fn parameters_become_literals_outside_quotes() {
        let sql = inline(
            "SELECT '?1', ?1, ?2, x-?3 WHERE y = ?10",
            &[&"it's", &"2020-03-01", &-5i64, &"a", &"b", &"c", &"d", &"e", &"f", &"ten"],
        );
        assert_eq!(sql, "SELECT '?1', 'it''s', '2020-03-01', x-(-5) WHERE y = 'ten'");
    }

    #[test]
    fn urls_name_their_database() {
        let admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
        let url = with_database(admin, "pq_test_1_2");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/pq_test_1_2?sslmode=disable");
        assert_eq!(database_of(&url), "pq_test_1_2");
        assert_eq!(with_database("postgresql://h", "x"), "postgresql://h/x");
        assert!(is_postgres(&url) && !is_postgres("prices.db"));
    }
}
