//! What can go wrong with a database, by kind: the one thing callers may
//! branch on (the hints that say what to do read it), whatever backend
//! raised the error.

/// The kinds of database trouble a user can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Another program holds a lock, past the busy timeout.
    Locked,
    /// The database cannot be written here (permissions, a read-only filesystem).
    ReadOnly,
    /// The file may not be read or written by this user, or its directory
    /// written, or it is on a read-only filesystem: the message names which.
    NoAccess,
    /// The disk holding the database is full.
    Full,
    /// The file or its directory cannot be opened.
    CannotOpen,
    /// The file is not a pricequeue database (another program's, or not a database at all).
    NotOurs,
    /// A newer pricequeue wrote it.
    NewerSchema,
    /// The database server cannot be reached, or refuses the connection
    /// (no such database, a wrong password).
    Unreachable,
}

impl ErrorKind {
    /// What to do about trouble of this kind, when the message alone does
    /// not say.
    pub fn hint(self) -> Option<&'static str> {
        match self {
            ErrorKind::ReadOnly => Some(
                "the database is read-only to you: pricequeue writes to it and to its -wal and -shm \
                 files beside it, so you need write access to all three and to their directory \
                 (or copy the database somewhere you can write)",
            ),
            ErrorKind::Locked => Some(
                "another program holds a lock on the database (a sqlite3 shell inside BEGIN, or a \
                 stuck process): end it and run the same command again; nothing stored was lost",
            ),
            ErrorKind::Full => Some(
                "the disk holding the database is full: free some space and run the same command \
                 again; everything committed so far is safe",
            ),
            ErrorKind::CannotOpen => Some("check that the database's directory exists and that you may write in it"),
            // Their messages say what to do.
            ErrorKind::NotOurs | ErrorKind::NewerSchema | ErrorKind::Unreachable | ErrorKind::NoAccess => None,
        }
    }
}

/// What to do about `err`, if it is database trouble whose message alone
/// does not say.
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    error_kind(err).and_then(ErrorKind::hint)
}

/// Why a statement of `pricequeue sql` was stopped before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stopped {
    /// It ran longer than its time limit.
    #[error("the statement ran longer than --timeout {} and was stopped; nothing was changed", humantime::format_duration(*.0))]
    TimedOut(std::time::Duration),
    /// The user asked (Ctrl-C, SIGTERM).
    #[error("the statement was interrupted; nothing was changed")]
    Interrupted,
}

/// An error the store raised itself, with its kind.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    pub kind: ErrorKind,
    message: String,
}

impl StoreError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> StoreError {
        StoreError { kind, message: message.into() }
    }
}

/// The kind of database trouble behind `err`, if it is any: one the store
/// raised, or one SQLite reported.
pub fn error_kind(err: &anyhow::Error) -> Option<ErrorKind> {
    use rusqlite::ErrorCode as Code;
    err.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<StoreError>() {
            return Some(e.kind);
        }
        match cause.downcast_ref::<rusqlite::Error>()?.sqlite_error_code()? {
            Code::ReadOnly => Some(ErrorKind::ReadOnly),
            Code::DatabaseBusy | Code::DatabaseLocked => Some(ErrorKind::Locked),
            Code::DiskFull => Some(ErrorKind::Full),
            Code::CannotOpen => Some(ErrorKind::CannotOpen),
            Code::NotADatabase => Some(ErrorKind::NotOurs),
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
    fn sqlite_codes_and_our_own_errors_have_kinds() {
        assert_eq!(error_kind(&sqlite(rusqlite::ffi::SQLITE_READONLY)), Some(ErrorKind::ReadOnly));
        assert_eq!(error_kind(&sqlite(rusqlite::ffi::SQLITE_BUSY)), Some(ErrorKind::Locked));
        assert_eq!(error_kind(&sqlite(rusqlite::ffi::SQLITE_FULL)), Some(ErrorKind::Full));
        assert_eq!(error_kind(&sqlite(rusqlite::ffi::SQLITE_CANTOPEN)), Some(ErrorKind::CannotOpen));
        let ours = anyhow::Error::new(StoreError::new(ErrorKind::NewerSchema, "newer")).context("opening");
        assert_eq!(error_kind(&ours), Some(ErrorKind::NewerSchema));
        assert_eq!(error_kind(&anyhow::anyhow!("no such column: x")), None);
    }

    fn store(kind: ErrorKind) -> anyhow::Error {
        anyhow::Error::new(StoreError::new(kind, "trouble")).context("committing finished tasks")
    }

    #[test]
    fn database_trouble_comes_with_what_to_do() {
        assert!(hint(&store(ErrorKind::ReadOnly)).unwrap().contains("write access"));
        assert!(hint(&store(ErrorKind::Locked)).unwrap().contains("sqlite3 shell inside BEGIN"));
        assert!(hint(&store(ErrorKind::Full)).unwrap().contains("free some space"));
        assert_eq!(hint(&store(ErrorKind::NewerSchema)), None, "the message says what to do");
        assert_eq!(hint(&store(ErrorKind::NoAccess)), None, "the message names the file, its mode and what to ask");
        assert_eq!(hint(&anyhow::anyhow!("no such column: x")), None);
    }
}
