//! Exit codes, and the errors that choose one.

/// Everything went as asked.
pub const OK: i32 = 0;
/// An error stopped the command (database, network, file); the message says which.
pub const ERROR: i32 = 1;
/// The command line was wrong (clap uses the same code for its own errors).
pub const USAGE: i32 = 2;
/// `query`: some prices of the selection are missing (the report lists them).
pub const MISSING: i32 = 3;
/// `work`/`fetch`: the run finished, but some tasks failed.
pub const FAILED: i32 = 4;
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
