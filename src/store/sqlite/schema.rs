//! Opening a database: recognising it, creating it, migrating it.
//!
//! The schema lives in `migrations/sqlite/NNNN_name.sql`, compiled into the binary
//! and applied in order; `PRAGMA user_version` records how many have been
//! applied and `PRAGMA application_id` marks the file as pricequeue's, so a
//! stranger's database is recognised and left alone.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rusqlite::{Connection, ErrorCode, TransactionBehavior};

use crate::store::error::{ErrorKind, StoreError};
use crate::store::{iso_now, Create};

/// `PRAGMA application_id` of a pricequeue database: "PQue" in ASCII.
pub const APPLICATION_ID: i32 = 0x5051_7565;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../../migrations/sqlite/0001_init.sql")),
    ("0002_server_pauses", include_str!("../../../migrations/sqlite/0002_server_pauses.sql")),
    ("0003_due_days_and_rate", include_str!("../../../migrations/sqlite/0003_due_days_and_rate.sql")),
    ("0004_state_check_as_ors", include_str!("../../../migrations/sqlite/0004_state_check_as_ors.sql")),
    ("0005_sources", include_str!("../../../migrations/sqlite/0005_sources.sql")),
    ("0006_transient_failures", include_str!("../../../migrations/sqlite/0006_transient_failures.sql")),
    (
        "0007_cooling_and_counts_by_source",
        include_str!("../../../migrations/sqlite/0007_cooling_and_counts_by_source.sql"),
    ),
    ("0008_candles_below_a_day", include_str!("../../../migrations/sqlite/0008_candles_below_a_day.sql")),
];

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// Checks that `conn` is an empty file (when `create` allows it) or a
/// pricequeue database this build understands, then applies the
/// migrations it lacks. Nothing is written unless every check passed.
pub fn prepare(conn: &mut Connection, path: &Path, create: Create, busy_timeout: Duration) -> Result<()> {
    let found = inspect(conn).map_err(|e| not_a_database(e, path))?;
    let version = check(found, path)?;
    if version == 0 && create != Create::IfMissing {
        bail!(
            "{} is empty, not a pricequeue database yet: run `pricequeue fetch` (or `enqueue`) to \
             fill it, or point --db or PRICEQUEUE_DB at an existing one",
            path.display()
        );
    }
    if version == latest_version() {
        return Ok(());
    }
    if create == Create::ReadOnly {
        bail!(
            "{} was written by an older pricequeue (schema version {version}; this one reads version {}): \
             run a command that writes, like `pricequeue work`, once to bring it up to date",
            path.display(),
            latest_version()
        );
    }
    use_wal(conn, busy_timeout).with_context(|| format!("switching {} to WAL mode", path.display()))?;
    migrate(conn, path).with_context(|| format!("migrating {} to schema version {}", path.display(), latest_version()))
}

/// What a file holds: application_id, user_version, schema objects.
type Found = (i32, i64, i64);

/// Reads the three in one statement, so one consistent snapshot: read
/// separately, they could straddle another process's migration.
fn inspect(conn: &Connection) -> rusqlite::Result<Found> {
    conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id),
                (SELECT user_version FROM pragma_user_version),
                (SELECT count(*) FROM sqlite_schema)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// The schema version of a usable file (0 for a blank one), or why not.
fn check((app_id, version, objects): Found, path: &Path) -> Result<i64> {
    let blank = app_id == 0 && version == 0 && objects == 0;
    if app_id != APPLICATION_ID && !blank {
        bail!(StoreError::new(
            ErrorKind::NotOurs,
            format!(
                "{} is an SQLite database, but not a pricequeue one (application_id {app_id:#x}, \
                 {objects} schema objects); it was left untouched. Pass --db with a pricequeue \
                 database or a new file name",
                path.display()
            )
        ));
    }
    if version > latest_version() {
        bail!(StoreError::new(
            ErrorKind::NewerSchema,
            format!(
                "{} was written by a newer pricequeue (schema version {version}, this build knows \
                 up to {}); it was left untouched. Upgrade pricequeue to use it",
                path.display(),
                latest_version()
            )
        ));
    }
    Ok(version)
}

/// WAL lets readers (`query`, `sqlite3`) run beside writers (`work`). The
/// mode is stored in the file, so setting it once is enough. The switch
/// needs the file to itself and does not wait on the busy timeout, so when
/// another process is opening the same new file it is tried again.
fn use_wal(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + busy_timeout;
    loop {
        let mode: rusqlite::Result<String> = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0));
        match mode {
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(5 + fastrand::u64(..20)));
            }
            other => return other.map(|_| ()),
        }
    }
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    // IMMEDIATE: two processes opening a new database at once must not both
    // apply the same migration; the second waits, then finds it done.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version = check(inspect(&tx)?, path)?;
    for (name, sql) in MIGRATIONS.iter().skip(version as usize) {
        tx.execute_batch(sql).with_context(|| format!("applying migration {name}"))?;
    }
    tx.pragma_update(None, "user_version", latest_version())?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}

fn not_a_database(e: rusqlite::Error, path: &Path) -> anyhow::Error {
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => StoreError::new(
            ErrorKind::NotOurs,
            format!(
                "{} is not an SQLite database; it was left untouched. Pass --db with a pricequeue \
                 database or a new file name",
                path.display()
            ),
        )
        .into(),
        _ => anyhow::Error::new(e).context(format!("reading {}", path.display())),
    }
}

/// Whether the file at `path` is a database `pricequeue demo` made (and
/// nothing else has added tasks to since). Read without changing anything:
/// an older schema is not migrated, so it answers no.
pub fn made_by_demo(path: &Path) -> Result<bool> {
    super::check_path(path, Create::No)?;
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", path.display()))?;
    let (app_id, _, _) = inspect(&conn).map_err(|e| not_a_database(e, path))?;
    if app_id != APPLICATION_ID {
        return Ok(false);
    }
    let has_meta: bool = conn
        .query_row("SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'", [], |r| r.get(0))
        .map_err(|e| not_a_database(e, path))?;
    if !has_meta {
        return Ok(false);
    }
    let marked: bool = conn
        .query_row("SELECT count(*) > 0 FROM meta WHERE key = 'demo'", [], |r| r.get(0))
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(marked)
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

impl super::Db {
    pub fn set_demo(&self, demo: bool) -> Result<bool> {
        let conn = self.conn()?;
        let changed = if demo {
            conn.prepare_cached("INSERT OR REPLACE INTO meta (key, value) VALUES ('demo', ?1)")?.execute([iso_now()])?
        } else {
            conn.prepare_cached("DELETE FROM meta WHERE key = 'demo'")?.execute([])?
        };
        Ok(changed > 0)
    }
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
            conn.execute(
                "INSERT INTO tasks (exchange, symbol, day, state, enqueued_at)
                 VALUES ('kraken', 'eth', '2020-03-01', 'failed', 'then')",
                [],
            )
            .unwrap();
        }
        let mut conn = Connection::open(&path).unwrap();
        prepare(&mut conn, &path, Create::No, Duration::from_secs(5)).unwrap();
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version, latest_version());
        let tasks: i64 = conn.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0)).unwrap();
        assert_eq!(tasks, 2);
        // A failure from before version 6 waits for `retry`, as it did.
        let failures: Vec<(String, Option<String>, i64)> = conn
            .prepare("SELECT state, failure, rounds FROM tasks ORDER BY symbol")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(failures, [("queued".into(), None, 0), ("failed".into(), Some("permanent".into()), 0)]);
        conn.execute("INSERT INTO server_pauses VALUES ('http://x', 1)", []).unwrap();
        // Rebuilt (versions 3 and 4) with its rule and its indexes.
        let bad = conn.execute(
            "INSERT INTO tasks (exchange, symbol, day, state, enqueued_at) VALUES ('kraken', 'btc', '2020-03-02', 'pending', 'now')",
            [],
        );
        assert!(
            bad.is_err_and(|e| e.to_string().contains("CHECK constraint failed")),
            "a state that is none of the seven"
        );
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'tasks' AND sql IS NOT NULL ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(indexes, ["tasks_cooling", "tasks_due", "tasks_failed", "tasks_leased", "tasks_not_yet_due"]);
    }

    /// A version 6 database: its failures on transient errors arrive as
    /// `cooling`, the rest as they were, and the counts by source are
    /// counted from the tasks.
    #[test]
    fn a_version_6_database_s_transient_failures_arrive_cooling_and_its_counts_by_source() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v6.db");
        {
            let conn = Connection::open(&path).unwrap();
            for (_, sql) in &MIGRATIONS[..6] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            conn.execute_batch(
                "INSERT INTO tasks (exchange, symbol, day, state, failure, rounds, next_attempt_at, source, enqueued_at)
                 VALUES ('kraken', 'btc', '2020-03-01', 'failed', 'transient', 2, 77, 'kraken', 'then'),
                        ('kraken', 'btc', '2020-03-02', 'failed', 'permanent', 6, 0, 'kraken', 'then'),
                        ('kraken', 'btc', '2020-03-03', 'queued', NULL, 0, 0, 'cryptodb', 'then');
                 INSERT INTO task_counts VALUES ('kraken', 'btc', 'failed', 2), ('kraken', 'btc', 'queued', 1);",
            )
            .unwrap();
        }
        let mut conn = Connection::open(&path).unwrap();
        prepare(&mut conn, &path, Create::No, Duration::from_secs(5)).unwrap();
        let tasks: Vec<(String, String, Option<String>, i64, i64)> = conn
            .prepare("SELECT day, state, failure, rounds, next_attempt_at FROM tasks ORDER BY day")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            tasks,
            [
                ("2020-03-01".into(), "cooling".into(), Some("transient".into()), 2, 77),
                ("2020-03-02".into(), "failed".into(), Some("permanent".into()), 6, 0),
                ("2020-03-03".into(), "queued".into(), None, 0, 0),
            ]
        );
        let counts: Vec<(String, String, i64)> = conn
            .prepare("SELECT source, state, n FROM task_counts ORDER BY source, state")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            counts,
            [
                ("cryptodb".into(), "queued".into(), 1),
                ("kraken".into(), "cooling".into(), 1),
                ("kraken".into(), "failed".into(), 1)
            ]
        );
    }
}
