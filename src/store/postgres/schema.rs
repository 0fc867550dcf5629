//! Recognising, creating and migrating the pricequeue tables of a
//! PostgreSQL database. The schema lives in `migrations/postgres/`; the
//! `meta` row `pricequeue_schema` records its version and marks the tables
//! as pricequeue's, so another program's tables are recognised and left
//! alone.

use anyhow::{bail, Context, Result};
use r2d2_postgres::postgres::{self, Client};

use super::{config, connect, describe, Db};
use crate::store::error::{ErrorKind, StoreError};
use crate::store::{Create, Location};

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../../migrations/postgres/0001_init.sql")),
    ("0002_leased_by_lease", include_str!("../../../migrations/postgres/0002_leased_by_lease.sql")),
    ("0003_sources", include_str!("../../../migrations/postgres/0003_sources.sql")),
    ("0004_transient_failures", include_str!("../../../migrations/postgres/0004_transient_failures.sql")),
    (
        "0005_cooling_and_counts_by_source",
        include_str!("../../../migrations/postgres/0005_cooling_and_counts_by_source.sql"),
    ),
    ("0006_candles_below_a_day", include_str!("../../../migrations/postgres/0006_candles_below_a_day.sql")),
];

/// Taken for the length of a migration: two processes opening a new
/// database at once must not both make the tables ("PQue" in ASCII).
const MIGRATION_LOCK: i64 = 0x5051_7565;

/// The schema version this build writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}

/// What a database holds: the schema version recorded (0 if none), and
/// whether it has tables pricequeue would make, pricequeue's or another's.
fn inspect(client: &mut impl postgres::GenericClient) -> Result<(i64, bool), postgres::Error> {
    // pg_class itself, not to_regclass(): reading the table takes a lock,
    // which makes this session see tables another one made since its last
    // look (to_regclass would answer from the session's cache, which a
    // wait on the migration lock does not refresh).
    let row = client.query_one(
        "SELECT count(*) FILTER (WHERE relname = 'meta') > 0, count(*) FILTER (WHERE relname <> 'meta') > 0
         FROM pg_class WHERE relname IN ('meta', 'tasks', 'prices') AND pg_table_is_visible(oid)",
        &[],
    )?;
    let (has_meta, has_tables): (bool, bool) = (row.get(0), row.get(1));
    if !has_meta {
        return Ok((0, has_tables));
    }
    let version = client
        .query_opt("SELECT value FROM meta WHERE key = 'pricequeue_schema'", &[])?
        .map(|r| r.get::<_, String>(0).parse::<i64>().unwrap_or(-1))
        .unwrap_or(0);
    Ok((version, true))
}

/// The schema version of a usable database (0 for one without our
/// tables), or why it cannot be used.
fn check((version, has_tables): (i64, bool), url: &str) -> Result<i64> {
    let shown = Location::parse(url);
    if version <= 0 && has_tables {
        bail!(StoreError::new(
            ErrorKind::NotOurs,
            format!(
                "{shown} has tables named like pricequeue's (tasks, prices, meta) that pricequeue did not make; \
                 they were left untouched. Pass --db with another database, or with a schema of its own (CREATE SCHEMA pq, then add \
                 ?options=-csearch_path%3Dpq to the URL)"
            )
        ));
    }
    if version > latest_version() {
        bail!(StoreError::new(
            ErrorKind::NewerSchema,
            format!(
                "{shown} was written by a newer pricequeue (schema version {version}, this build knows up to {}); \
                 it was left untouched. Upgrade pricequeue to use it",
                latest_version()
            )
        ));
    }
    Ok(version)
}

/// Checks the database, then applies the migrations it lacks, in one
/// transaction. Nothing is written unless every check passed.
pub fn prepare(client: &mut Client, url: &str, create: Create) -> Result<()> {
    let version = check(inspect(client).map_err(|e| describe(e, url))?, url)?;
    let shown = Location::parse(url);
    if version == latest_version() {
        return Ok(());
    }
    if version == 0 && create != Create::IfMissing {
        bail!(
            "{shown} has no pricequeue tables yet: run `pricequeue fetch` (or `enqueue`) to make them, or point \
             --db or PRICEQUEUE_DB at a pricequeue database"
        );
    }
    if create == Create::ReadOnly {
        bail!(
            "{shown} was written by an older pricequeue (schema version {version}; this one reads version {}): run \
             a command that writes, like `pricequeue work`, once to bring it up to date",
            latest_version()
        );
    }
    let migrate = |client: &mut Client| -> Result<()> {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        let version = check(inspect(&mut tx)?, url)?;
        for (name, sql) in MIGRATIONS.iter().skip(version as usize) {
            tx.batch_execute(sql).with_context(|| format!("applying migration {name}"))?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('pricequeue_schema', $1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&latest_version().to_string()],
        )?;
        tx.commit()?;
        Ok(())
    };
    migrate(client).with_context(|| format!("migrating {shown} to schema version {}", latest_version()))
}

/// Whether the database at `url` has pricequeue's tables (or tables named
/// like them).
pub fn has_tables(url: &str) -> Result<bool> {
    let mut client = connect(&config(url, true)?, url)?;
    let (version, has_tables) = inspect(&mut client).map_err(|e| describe(e, url))?;
    Ok(version > 0 || has_tables)
}

/// Whether the database at `url` holds tables `pricequeue demo` made (and
/// nothing else has added tasks to since).
pub fn made_by_demo(url: &str) -> Result<bool> {
    let mut client = connect(&config(url, true)?, url)?;
    let (version, _) = inspect(&mut client).map_err(|e| describe(e, url))?;
    if version <= 0 {
        return Ok(false);
    }
    let marked =
        client.query_one("SELECT count(*) > 0 FROM meta WHERE key = 'demo'", &[]).map_err(|e| describe(e, url))?;
    Ok(marked.get(0))
}

/// Drops pricequeue's tables from the database at `url`, so they can be
/// made anew; refuses tables pricequeue did not make. None is fine.
pub fn remove_database(url: &str) -> Result<()> {
    let mut client = connect(&config(url, false)?, url)?;
    let found = inspect(&mut client).map_err(|e| describe(e, url))?;
    if check(found, url)? == 0 {
        return Ok(());
    }
    client
        .batch_execute(
            "BEGIN;
             DROP VIEW IF EXISTS task_counts, candles;
             DROP TABLE IF EXISTS tasks, task_count_shards, prices, series, series_candles, server_pauses,
                                  server_slots, sources, meta;
             DROP FUNCTION IF EXISTS pricequeue_count_tasks();
             COMMIT;",
        )
        .map_err(|e| describe(e, url))
}

impl Db {
    pub fn identity(&self) -> Result<String> {
        self.with(|c| {
            let r = c.query_one(
                "SELECT (SELECT system_identifier FROM pg_control_system())::text || '/' || current_database()
                        || '/' || current_schema()",
                &[],
            )?;
            Ok(r.get(0))
        })
    }

    /// Marks the database as the demo's own (or no longer).
    pub fn set_demo(&self, demo: bool) -> Result<bool> {
        self.with(|c| {
            let changed = if demo {
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('demo', now()::text)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    &[],
                )?
            } else {
                c.execute("DELETE FROM meta WHERE key = 'demo'", &[])?
            };
            Ok(changed > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;
    use crate::store::testing;
    use crate::store::tests::TestDb;

    /// A database of version 1 with a task in progress (its process gone):
    /// opening it brings the schema up to date, and the task's lease is
    /// still found by the queries that now go through the new index.
    #[test]
    fn a_version_1_database_is_migrated_with_its_leases() {
        let Some(db) = TestDb::postgres() else { return };
        let url = db.url();
        testing::execute_batch(&url, MIGRATIONS[0].1);
        testing::execute_batch(
            &url,
            "INSERT INTO meta (key, value) VALUES ('pricequeue_schema', '1');
             INSERT INTO tasks (exchange, symbol, day, state, owner, lease_until, claims)
                 VALUES ('kraken', 'btc', '2020-03-01', 'in_progress', 'gone:1:x', 1000, 1),
                        ('kraken', 'btc', '2020-03-02', 'queued', NULL, NULL, 0);
             INSERT INTO task_count_shards VALUES ('kraken', 'btc', 'in_progress', 0, 1), ('kraken', 'btc', 'queued', 0, 1);",
        );
        let store = db.open();
        let version: String = testing::one(&url, "SELECT value FROM meta WHERE key = 'pricequeue_schema'", &[]);
        assert_eq!(version, MIGRATIONS.len().to_string());
        let predicate: String = testing::one(
            &url,
            "SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = 'tasks_leased'::regclass",
            &[],
        );
        assert_eq!(predicate, "(lease_until IS NOT NULL)");
        assert_eq!(store.owners().unwrap(), vec![("gone:1:x".to_string(), 1)]);
        // 2000 on this machine's clock is 2000 on the server's: the same
        // clock, so the store measures no offset.
        assert_eq!(store.recover_expired(2000).unwrap(), 1, "the lapsed lease is taken back");
        assert_eq!(store.counts().unwrap().queued, 2);
    }

    /// A database of version 4: its failures on transient errors arrive as
    /// `cooling`, the counts are counted again by source, and from then on
    /// the triggers count every change, by hand too.
    #[test]
    fn a_version_4_database_s_transient_failures_arrive_cooling_and_its_counts_follow_by_trigger() {
        let Some(db) = TestDb::postgres() else { return };
        let url = db.url();
        for (_, sql) in &MIGRATIONS[..4] {
            testing::execute_batch(&url, sql);
        }
        testing::execute_batch(
            &url,
            "INSERT INTO meta (key, value) VALUES ('pricequeue_schema', '4');
             INSERT INTO tasks (exchange, symbol, day, state, failure, rounds, next_attempt_at, source)
                 VALUES ('kraken', 'btc', '2020-03-01', 'failed', 'transient', 2, 77, 'kraken'),
                        ('kraken', 'btc', '2020-03-02', 'failed', 'permanent', 6, 0, 'kraken'),
                        ('kraken', 'btc', '2020-03-03', 'queued', NULL, 0, 0, 'cryptodb');
             INSERT INTO task_count_shards VALUES ('kraken', 'btc', 'failed', 0, 2), ('kraken', 'btc', 'queued', 0, 1);",
        );
        let store = db.open();
        let counts = || -> Vec<(String, String, i64)> {
            testing::rows(&url, "SELECT source, state, n FROM task_counts WHERE n <> 0 ORDER BY source, state", &[])
        };
        let states: Vec<(String, String)> = testing::rows(&url, "SELECT day::text, state FROM tasks ORDER BY day", &[]);
        assert_eq!(
            states,
            [
                ("2020-03-01".into(), "cooling".into()),
                ("2020-03-02".into(), "failed".into()),
                ("2020-03-03".into(), "queued".into())
            ]
        );
        assert_eq!(
            counts(),
            [
                ("cryptodb".into(), "queued".into(), 1),
                ("kraken".into(), "cooling".into(), 1),
                ("kraken".into(), "failed".into(), 1)
            ]
        );
        assert_eq!(store.cooling(None).unwrap(), (1, Some(77)));
        // By hand: moved, removed and added, each counted by the triggers.
        testing::execute_batch(
            &url,
            "UPDATE tasks SET state = 'queued' WHERE state = 'cooling';
             DELETE FROM tasks WHERE state = 'failed';
             INSERT INTO tasks (exchange, symbol, day, source) VALUES ('kraken', 'eth', '2020-03-01', 'kraken');",
        );
        // (btc's cooling task queued again, eth's new one: a row each.)
        let queued = |n| ("kraken".to_string(), "queued".to_string(), n);
        assert_eq!(counts(), [("cryptodb".into(), "queued".into(), 1), queued(1), queued(1)]);
    }
}
