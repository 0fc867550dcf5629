//! Exit codes, and the errors that choose one.

/// Everything went as asked.
pub const OK: i32 = 0;
/// An error stopped the command (database, network, file); the message says which.
pub const ERROR: i32 = 1;
/// The command line was wrong (clap uses the same code for its own errors).
pub const USAGE: i32 = 2;
/// `query`, `coverage`: the selection is incomplete: some cells are not
/// queued, queued, in progress, not yet due, or failed. `work`, `fetch`:
/// `--deadline` stopped the run with tasks left.
pub const MISSING: i32 = 3;
/// `work`/`fetch`: the run finished, but some tasks failed.
pub const FAILED: i32 = 4;
/// `query`, `coverage`: every cell is settled, but some have no price: the
/// server has none (no data), or the failure was given up on (`retry --never`).
pub const SETTLED: i32 = 5;
/// Stopped by SIGINT or SIGTERM; run the same command again to carry on.
pub const INTERRUPTED: i32 = 130;

/// A mistake in what the user asked for: exits with [`USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// The exit code for an error that ended a command.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    if err.downcast_ref::<Usage>().is_some() {
        USAGE
    } else {
        ERROR
    }
}

/// What to do about an error from the world outside, when the message
/// alone does not say: a read-only, locked or full database.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    use rusqlite::ErrorCode as Code;
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<rusqlite::Error>() {
            return match e.sqlite_error_code() {
                Some(Code::ReadOnly) => Some(
                    "the database is read-only to you: pricequeue writes to it and to its -wal and -shm \
                     files beside it, so you need write access to all three and to their directory \
                     (or copy the database somewhere you can write)",
                ),
                Some(Code::DatabaseBusy | Code::DatabaseLocked) => Some(
                    "another program holds a lock on the database (a sqlite3 shell inside BEGIN, or a \
                     stuck process): end it and run the same command again; nothing stored was lost",
                ),
                Some(Code::DiskFull) => Some(
                    "the disk holding the database is full: free some space and run the same command \
                     again; everything committed so far is safe",
                ),
                Some(Code::CannotOpen) => {
                    Some("check that the database's directory exists and that you may write in it")
                }
                _ => None,
            };
        }
    }
    if io_kind(err) == Some(std::io::ErrorKind::StorageFull) {
        return Some("the disk is full: free some space and run the same command again");
    }
    None
}

/// The kind of the I/O error behind `err`, if one is: also inside the
/// JSON and CSV writers' own error types, which wrap it.
pub fn io_kind(err: &anyhow::Error) -> Option<std::io::ErrorKind> {
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<std::io::Error>() {
            return Some(e.kind());
        }
        if let Some(e) = cause.downcast_ref::<serde_json::Error>() {
            return e.io_error_kind();
        }
        match cause.downcast_ref::<csv::Error>().map(csv::Error::kind) {
            Some(csv::ErrorKind::Io(e)) => Some(e.kind()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite(code: i32) -> anyhow::Error {
        anyhow::Error::new(rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None))
            .context("committing finished tasks")
    }

    #[test]
    fn outside_errors_come_with_what_to_do() {
        assert!(hint(&sqlite(rusqlite::ffi::SQLITE_READONLY)).unwrap().contains("write access"));
        assert!(hint(&sqlite(rusqlite::ffi::SQLITE_BUSY)).unwrap().contains("sqlite3 shell inside BEGIN"));
        assert!(hint(&sqlite(rusqlite::ffi::SQLITE_FULL)).unwrap().contains("free some space"));
        let io =
            anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull)).context("writing the report");
        assert!(hint(&io).unwrap().contains("disk is full"));
        assert_eq!(hint(&anyhow::anyhow!("no such column: x")), None);
    }
}
