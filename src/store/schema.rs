//! Opening a database: recognising it, creating it, migrating it.
//!
//! The schema lives in `migrations/NNNN_name.sql`, compiled into the binary
//! and applied in order; `PRAGMA user_version` records how many have been
//! applied and `PRAGMA application_id` marks the file as pricequeue's, so a
//! stranger's database is recognised and left alone.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

/// `PRAGMA application_id` of a pricequeue database: "PQue" in ASCII.
pub const APPLICATION_ID: i32 = 0x5051_7565;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    ("0002_server_pauses", include_str!("../../migrations/0002_server_pauses.sql")),
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Checks that `conn` is an empty file or a pricequeue database this build
/// understands, then applies the migrations it lacks. Nothing is written
/// unless every check passed.
pub fn prepare(conn: &mut Connection, path: &Path) -> Result<()> {
    let (app_id, version, objects) = inspect(conn).map_err(|e| not_a_database(e, path))?;
    let ours = app_id == APPLICATION_ID;
    let blank = app_id == 0 && version == 0 && objects == 0;
    if !ours && !blank {
        bail!(
            "{} is an SQLite database, but not a pricequeue one (application_id {app_id:#x}, \
             {objects} schema objects); it was left untouched. Pass --db with a pricequeue \
             database or a new file name",
            path.display()
        );
    }
    if version > latest_version() {
        bail!(
            "{} was written by a newer pricequeue (schema version {version}, this build knows \
             up to {}); it was left untouched. Upgrade pricequeue to use it",
            path.display(),
            latest_version()
        );
    }
    if version == latest_version() {
        return Ok(());
    }
    // WAL lets readers (`query`, `sqlite3`) run beside writers (`work`). The
    // mode is stored in the file, so setting it once at creation is enough.
    conn.pragma_update(None, "journal_mode", "WAL")
        .with_context(|| format!("switching {} to WAL mode", path.display()))?;
    migrate(conn).with_context(|| format!("migrating {} to schema version {}", path.display(), latest_version()))
}

fn inspect(conn: &Connection) -> rusqlite::Result<(i32, i64, i64)> {
    let app_id = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let objects = conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok((app_id, version, objects))
}

fn migrate(conn: &mut Connection) -> Result<()> {
    // IMMEDIATE: two processes opening a new database at once must not both
    // apply the same migration; the second waits, then sees it done.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (name, sql) in MIGRATIONS.iter().skip(version.max(0) as usize) {
        tx.execute_batch(sql).with_context(|| format!("applying migration {name}"))?;
    }
    tx.pragma_update(None, "user_version", latest_version())?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

fn not_a_database(e: rusqlite::Error, path: &Path) -> anyhow::Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => anyhow::anyhow!(
            "{} is not an SQLite database; it was left untouched. Pass --db with a pricequeue \
             database or a new file name",
            path.display()
        ),
        _ => anyhow::Error::new(e).context(format!("reading {}", path.display())),
    }
}

/// Deletes the pricequeue database at `path` with its WAL files, so it can
/// be made anew; refuses any other file. A missing file is fine.
pub fn remove_database(path: &Path) -> Result<()> {
    if !path.exists() {
        return Ok(());
    }
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", path.display()))?;
    let (app_id, _, objects) = inspect(&conn).map_err(|e| not_a_database(e, path))?;
    drop(conn);
    if app_id != APPLICATION_ID && objects > 0 {
        bail!(
            "refusing to replace {}: it is not a pricequeue database. Pass --db with a new file name",
            path.display()
        );
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing {}", Path::new(&p).display()));
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_database_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0].1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            conn.execute(
                "INSERT INTO tasks (exchange, symbol, day, enqueued_at) VALUES ('kraken', 'btc', '2020-03-01', 'then')",
                [],
            )
            .unwrap();
        }
        let mut conn = Connection::open(&path).unwrap();
        prepare(&mut conn, &path).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, latest_version());
        let tasks: i64 = conn.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0)).unwrap();
        assert_eq!(tasks, 1);
        conn.execute("INSERT INTO server_pauses VALUES ('http://x', 1)", []).unwrap();
    }
}
