//! The PostgreSQL backend: one queue for workers on many hosts. Its
//! operations are the store's (documented there), in files named as
//! SQLite's are.
//!
//! Every operation takes a whole selection in one statement (arrays bound
//! as parameters), since each round trip is a network hop. A lost
//! connection (a server restart, a network blip) is waited out: the
//! operation runs again on a new connection, for up to the busy timeout.
//! Each runs in one transaction, so a run that failed left nothing; one
//! whose commit went through but whose answer was lost is run again on
//! top of itself, which changes no data (enqueue and copy add what is
//! missing, completions are fenced by their claim's token, a claim hands
//! out what the lost run took as well) but can make the numbers a command
//! reports too small (a completion done by the lost run counts as
//! discarded, an enqueue as adding nothing).

mod candles;
mod claims;
mod complete;
mod conn;
mod copy;
mod counts;
mod enqueue;
mod pairs;
mod pauses;
mod readonly;
mod remove;
mod report;
mod retry;
mod schema;
mod series;
mod sources;
mod tls;

use std::time::{Duration, Instant};

use anyhow::Result;
use r2d2::Pool;
use r2d2_postgres::postgres::error::SqlState;
use r2d2_postgres::postgres::{self, Client, Config};
use r2d2_postgres::PostgresConnectionManager;

pub use readonly::run_readonly;
pub use schema::{has_tables, latest_version, made_by_demo, remove_database};

use super::error::{ErrorKind, StoreError};
use super::{Location, Options, TaskState};

use conn::{Conn, Manager};
use tls::Tls;

/// A pricequeue database in PostgreSQL: a pool of connections to it.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    /// The database server's clock minus this machine's, in ms.
    offset: i64,
    /// How long an operation waits out a lost connection.
    reconnect_for: Duration,
    /// The ids of the series below a day found or made so far.
    series: crate::store::series::SeriesIds,
}

impl Db {
    /// Connects, checks the database is pricequeue's (or empty, when
    /// `create` allows making the tables), and migrates it.
    pub fn open(url: &str, options: &Options) -> Result<Db> {
        let config = config(url, false)?;
        let mut client = connect(&config, url)?;
        schema::prepare(&mut client, url, options.create)?;
        let offset = clock_offset(&mut client).map_err(|e| describe(e, url))?;
        drop(client);
        let pool = Pool::builder()
            .max_size(8)
            .min_idle(Some(0))
            // No test query before each use (a round trip): a connection
            // found dead fails its operation, which `with` runs again.
            .test_on_check_out(false)
            .connection_timeout(options.busy_timeout.clamp(Duration::from_secs(1), Duration::from_secs(30)))
            .build(Manager(PostgresConnectionManager::new(config.0, config.1)))
            .map_err(|e| unreachable(url, &e.to_string()))?;
        Ok(Db { pool, offset, reconnect_for: options.busy_timeout, series: Default::default() })
    }

    /// A time on this machine's clock (ms since the epoch) on the database
    /// server's: the queue's clocks are kept there, so that every host,
    /// whatever its clock says, agrees on when a lease runs out.
    fn db_time(&self, local: i64) -> i64 {
        local.saturating_add(self.offset)
    }

    /// A time on the database server's clock on this machine's.
    fn local_time(&self, db: i64) -> i64 {
        db.saturating_sub(self.offset)
    }

    /// Runs `op` on a pooled connection. Where the connection is lost (or
    /// the server resolves a deadlock or a serialization failure by
    /// cancelling this transaction), `op` runs again on another, until the
    /// database has been out of reach for `reconnect_for`.
    fn with<T>(&self, mut op: impl FnMut(&mut Conn) -> Result<T, postgres::Error>) -> Result<T> {
        let deadline = Instant::now() + self.reconnect_for;
        let mut pause = Duration::from_millis(50);
        loop {
            let outcome: Result<(), String> = match self.pool.get() {
                Ok(mut client) => match op(&mut client) {
                    Ok(value) => return Ok(value),
                    Err(e) if is_transient(&e) => Err(e.to_string()),
                    Err(e) => return Err(describe(e, "")),
                },
                Err(e) => Err(e.to_string()),
            };
            if let Err(why) = outcome {
                if Instant::now() >= deadline {
                    return Err(StoreError::new(
                        ErrorKind::Unreachable,
                        format!(
                            "PostgreSQL did not complete an operation within {} (the connection was lost, or \
                             the server kept cancelling it to break deadlocks): {why}. Everything finished before \
                             was stored; run the command again once the server is back",
                            humantime::format_duration(self.reconnect_for)
                        ),
                    )
                    .into());
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(2));
            }
        }
    }
}

/// The connection settings of `url`, and the TLS it asks for; with
/// `read_only`, every transaction of the session is read-only.
fn config(url: &str, read_only: bool) -> Result<(Config, Tls)> {
    let tls = tls::split(url)?;
    let mut config: Config = tls.url.parse().map_err(|e| {
        crate::error::Usage(format!(
            "--db {} is not a PostgreSQL URL this can read ({e}): write it like \
             postgres://user@host:5432/dbname",
            Location::parse(url)
        ))
    })?;
    if config.get_application_name().is_none() {
        config.application_name("pricequeue");
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(10));
    }
    // Statements are prepared once per connection; each run is still
    // planned for its own values (a generic plan, which PostgreSQL may
    // switch to after five runs, guesses ten rows for every array and
    // scans the queue for a claim).
    let mut options = config.get_options().unwrap_or("").to_string();
    options.push_str(" -c plan_cache_mode=force_custom_plan");
    if read_only {
        options.push_str(" -c default_transaction_read_only=on");
    }
    config.options(options.trim());
    let connector = tls.apply(&mut config)?;
    Ok((config, connector))
}

/// One connection, or an error saying in one line what is wrong and what
/// to do.
fn connect((config, tls): &(Config, Tls), url: &str) -> Result<Client> {
    config.connect(tls.clone()).map_err(|e| describe(e, url))
}

/// The server's clock minus ours, in ms: read three times, the reading
/// with the shortest round trip kept (NTP's way), since a reading can be
/// off by up to half its round trip. Under a second, or within what the
/// reading can tell, it is taken as none: that is clocks kept by NTP, and
/// far below any lease. (On a loaded host one reading's round trip can
/// take seconds; taken alone, it could find an offset that is not there
/// and shift every time the queue keeps by it.)
fn clock_offset(client: &mut Client) -> Result<i64, postgres::Error> {
    let statement = client.prepare("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")?;
    let mut readings = Vec::with_capacity(3);
    for _ in 0..3 {
        let before = crate::clock::now_ms();
        let theirs: i64 = client.query_one(&statement, &[])?.get(0);
        readings.push((before, theirs, crate::clock::now_ms()));
    }
    Ok(offset_of(&readings))
}

/// The offset that readings of (ours before, theirs, ours after) tell.
fn offset_of(readings: &[(i64, i64, i64)]) -> i64 {
    let Some(&(before, theirs, after)) = readings.iter().min_by_key(|(before, _, after)| after - before) else {
        return 0;
    };
    let offset = theirs - before / 2 - after / 2;
    let uncertain = (after - before) / 2;
    if offset.abs() < 1000 + uncertain {
        0
    } else {
        offset
    }
}

/// Whether running the operation again may succeed: the connection was
/// lost, the server is restarting, or it cancelled this transaction to
/// break a deadlock.
fn is_transient(e: &postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(code) = e.code() {
        return [
            SqlState::ADMIN_SHUTDOWN,
            SqlState::CRASH_SHUTDOWN,
            SqlState::CANNOT_CONNECT_NOW,
            SqlState::CONNECTION_EXCEPTION,
            SqlState::CONNECTION_FAILURE,
            SqlState::T_R_DEADLOCK_DETECTED,
            SqlState::T_R_SERIALIZATION_FAILURE,
        ]
        .contains(code);
    }
    // No code: the socket failed (reset, refused) under the client.
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// A PostgreSQL error as one line a user can act on.
fn describe(e: postgres::Error, url: &str) -> anyhow::Error {
    let shown = Location::parse(url);
    if let Some(db) = e.as_db_error() {
        let message = db.message();
        let what_to_do = match *db.code() {
            SqlState::INVALID_CATALOG_NAME => Some(format!(
                "{message} on that server: create it (`createdb` or CREATE DATABASE), or fix the name in --db {shown}"
            )),
            SqlState::INVALID_AUTHORIZATION_SPECIFICATION if message.contains("no encryption") => Some(format!(
                "PostgreSQL refused the connection: {message}. It wants TLS: add ?sslmode=require (or verify-full) \
                 to --db {shown}"
            )),
            SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => Some(format!(
                "PostgreSQL refused the connection: {message}. Check the user and password in --db {shown}"
            )),
            SqlState::CANNOT_CONNECT_NOW | SqlState::ADMIN_SHUTDOWN => Some(format!(
                "PostgreSQL at {shown} is starting or shutting down ({message}): run the command again in a moment"
            )),
            SqlState::DISK_FULL => {
                return StoreError::new(ErrorKind::Full, format!("the PostgreSQL server's disk is full: {message}"))
                    .into()
            }
            _ => None,
        };
        return match what_to_do {
            Some(line) => StoreError::new(ErrorKind::Unreachable, line).into(),
            None => {
                let detail = db.detail().map(|d| format!(" ({d})")).unwrap_or_default();
                let hint = db.hint().map(|h| format!("; {h}")).unwrap_or_default();
                anyhow::anyhow!("PostgreSQL: {message}{detail}{hint}")
            }
        };
    }
    if url.is_empty() {
        return anyhow::Error::new(e).context("talking to PostgreSQL");
    }
    // "error performing TLS handshake: invalid peer certificate: UnknownIssuer"
    if e.to_string().contains("TLS") {
        let why = std::error::Error::source(&e).map(|c| c.to_string()).unwrap_or_else(|| e.to_string());
        return StoreError::new(
            ErrorKind::Unreachable,
            format!(
                "no TLS connection to PostgreSQL at {shown} ({why}): with sslmode=verify-full the server's \
                 certificate must be signed by a root in sslrootcert (or one of the built-in roots) and name the \
                 host, with verify-ca only be signed; sslmode=require encrypts without checking it, and \
                 sslmode=disable does not encrypt"
            ),
        )
        .into();
    }
    // "error connecting to server: Connection refused (os error 111)"
    let why = match std::error::Error::source(&e) {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    };
    unreachable(url, &why)
}

fn unreachable(url: &str, why: &str) -> anyhow::Error {
    StoreError::new(
        ErrorKind::Unreachable,
        format!(
            "cannot connect to PostgreSQL at {} ({why}): check that the server runs and that the host, \
             port, user and database in --db are right",
            Location::parse(url)
        ),
    )
    .into()
}

/// A task state as `tasks.state` holds it: its name.
impl<'a> postgres::types::FromSql<'a> for TaskState {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<TaskState, Box<dyn std::error::Error + Sync + Send>> {
        let name = <&str as postgres::types::FromSql>::from_sql(ty, raw)?;
        TaskState::from_name(name).ok_or_else(|| format!("no task state is named {name:?}").into())
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <&str as postgres::types::FromSql>::accepts(ty)
    }
}

/// An interval as `tasks.interval` and `series.interval` hold it: its name.
impl<'a> postgres::types::FromSql<'a> for crate::interval::Interval {
    fn from_sql(
        ty: &postgres::types::Type,
        raw: &'a [u8],
    ) -> Result<crate::interval::Interval, Box<dyn std::error::Error + Sync + Send>> {
        Ok(<&str as postgres::types::FromSql>::from_sql(ty, raw)?.parse()?)
    }

    fn accepts(ty: &postgres::types::Type) -> bool {
        <&str as postgres::types::FromSql>::accepts(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::offset_of;

    #[test]
    fn a_clock_offset_is_read_from_the_shortest_round_trip_and_only_beyond_what_it_can_tell() {
        // The server's clock 5 s ahead, read in 2 ms.
        assert_eq!(offset_of(&[(1_000, 6_001, 1_002)]), 5_000);
        // Within a second: NTP's clocks, taken as the same.
        assert_eq!(offset_of(&[(1_000, 1_600, 1_002)]), 0);
        // A reading stretched over 3 s by a busy host tells nothing the
        // short one beside it does not: the short one is kept.
        assert_eq!(offset_of(&[(1_000, 1_100, 4_000), (5_000, 5_001, 5_002)]), 0);
        // A lone long reading can be off by half its round trip: not an offset.
        assert_eq!(offset_of(&[(1_000, 1_000, 4_000)]), 0);
        assert_eq!(offset_of(&[]), 0);
    }
}
