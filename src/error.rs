//! Exit codes, and the errors that choose one.

/// How a command ended. Each code's meaning is written once, here: `--help`,
/// the man page and the README's table all show [`Exit::meaning`] (a test
/// checks that they agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Error,
    Usage,
    Incomplete,
    Failed,
    Settled,
    Interrupted,
}

impl Exit {
    /// Every exit, in the order of their codes.
    pub const ALL: [Exit; 7] =
        [Exit::Ok, Exit::Error, Exit::Usage, Exit::Incomplete, Exit::Failed, Exit::Settled, Exit::Interrupted];

    /// The process's exit code.
    pub const fn code(self) -> i32 {
        match self {
            Exit::Ok => 0,
            Exit::Error => 1,
            Exit::Usage => 2,
            Exit::Incomplete => 3,
            Exit::Failed => 4,
            Exit::Settled => 5,
            Exit::Interrupted => 130,
        }
    }

    /// What the code tells a script, in one line.
    pub const fn meaning(self) -> &'static str {
        match self {
            Exit::Ok => {
                "success; for chart: the file was written; for query, coverage and chart --strict: every price of the \
                 selection is there; for work and fetch: every task that is due is done (a price, no data, or \
                 abandoned), or cools down after transient errors (a later run asks again)"
            }
            Exit::Error => {
                "an error stopped the command (database, network, file); the message says what to do, often \
                 with a hint: line"
            }
            Exit::Usage => {
                "usage error: a bad flag, day, range, duration, rate or format, a name the price server does not list, \
                 or a question (remove; --symbol all on an exchange) with no terminal to answer it and no --yes"
            }
            Exit::Incomplete => {
                "query, coverage, chart --strict: the selection is incomplete: some cell is not queued, queued, in \
                 progress, not yet due, failed or cooling down; work, fetch: --deadline stopped the run with tasks left"
            }
            Exit::Failed => {
                "work, fetch: some tasks of the selection failed for good, a person is needed: a permanent error (a \
                 404, an invalid answer), or transient ones over two days (status shows why; retry queues them \
                 again, retry --never gives up on them)"
            }
            Exit::Settled => {
                "query, coverage, chart --strict: the selection is complete, but the price server has no price for some cells (no \
                 data), the source serves no day that old (outside its history), or their failure was given up on \
                 (abandoned)"
            }
            Exit::Interrupted => {
                "interrupted by Ctrl-C or SIGTERM: what was in flight was committed (sql: the statement was \
                 stopped); run the same command again to carry on"
            }
        }
    }

    /// The exit codes as `--help` and the man page list them.
    pub fn help() -> String {
        let mut text = String::from("Exit codes:\n");
        for exit in Exit::ALL {
            text.push_str(&format!("  {:<4} {}\n", exit.code(), exit.meaning()));
        }
        text
    }
}

/// Everything went as asked.
pub const OK: i32 = Exit::Ok.code();
/// An error stopped the command (database, network, file); the message says which.
pub const ERROR: i32 = Exit::Error.code();
/// The command line was wrong (clap uses the same code for its own errors).
pub const USAGE: i32 = Exit::Usage.code();
/// `query`, `coverage`: the selection is incomplete; `work`, `fetch`: the
/// deadline left tasks.
pub const MISSING: i32 = Exit::Incomplete.code();
/// `work`/`fetch`: the run finished, but some tasks failed.
pub const FAILED: i32 = Exit::Failed.code();
/// `query`, `coverage`: complete, but some cells have no price.
pub const SETTLED: i32 = Exit::Settled.code();
/// Stopped by SIGINT or SIGTERM; run the same command again to carry on.
pub const INTERRUPTED: i32 = Exit::Interrupted.code();

/// A mistake in what the user asked for: exits with [`Exit::Usage`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

/// How a command that failed with `err` exits.
pub fn exit_code(err: &anyhow::Error) -> Exit {
    if err.downcast_ref::<Usage>().is_some() {
        Exit::Usage
    } else {
        Exit::Error
    }
}

/// What to do about an I/O error, when the message alone does not say:
/// a full disk under the report being written. (The store's errors carry
/// their own hints: `store::hint`.)
pub fn hint(err: &anyhow::Error) -> Option<&'static str> {
    match io_kind(err)? {
        std::io::ErrorKind::StorageFull => Some("the disk is full: free some space and run the same command again"),
        _ => None,
    }
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

    #[test]
    fn a_full_disk_under_a_report_comes_with_what_to_do() {
        let io =
            anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::StorageFull)).context("writing the report");
        assert!(hint(&io).unwrap().contains("disk is full"));
        assert_eq!(hint(&anyhow::anyhow!("no such column: x")), None);
    }
}
