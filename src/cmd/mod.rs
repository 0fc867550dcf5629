//! The subcommands, one file each, all behind [`Run`].

mod coverage;
mod demo;
mod enqueue;
mod fetch;
mod query;
mod retry;
mod serve;
mod shell;
mod sql;
mod status;
mod work;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, DEFAULT_DB};
use crate::error::Usage;
use crate::source::{FetchError, PriceSource};

/// What every command may need besides its own flags.
pub struct Env {
    /// `--db`, if given on the command line or in PRICEQUEUE_DB.
    pub db: Option<PathBuf>,
    /// Whether `--db` came from the command line itself.
    pub db_on_command_line: bool,
    /// `--server`.
    pub server: String,
}

impl Env {
    /// The database path: `--db`, PRICEQUEUE_DB, or `prices.db`.
    pub fn db(&self) -> PathBuf {
        self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB))
    }
}

/// A subcommand: runs, and returns its exit code.
pub trait Run {
    fn run(&self, env: &Env) -> Result<i32>;
}

/// Set by the first Ctrl-C or SIGTERM: stop claiming, finish what is in flight.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Parses the command line and runs the command.
pub fn main() -> Result<i32> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let env = Env {
        db: cli.db,
        db_on_command_line: matches.value_source("db") == Some(ValueSource::CommandLine),
        server: cli.server,
    };
    match &cli.command {
        Command::Enqueue(c) => c.run(&env),
        Command::Work(c) => c.run(&env),
        Command::Fetch(c) => c.run(&env),
        Command::Status(c) => c.run(&env),
        Command::Query(c) => c.run(&env),
        Command::Coverage(c) => c.run(&env),
        Command::Retry(c) => c.run(&env),
        Command::Sql(c) => c.run(&env),
        Command::Serve(c) => c.run(&env),
        Command::Completions(c) => c.run(&env),
        Command::Man(c) => c.run(&env),
        Command::Demo(c) => c.run(&env),
    }
}

/// Notes from a run, as lines on stderr.
pub struct Stderr;

impl crate::work::Observer for Stderr {
    fn note(&self, message: &str) {
        eprintln!("{message}");
    }
}

/// Routes Ctrl-C and SIGTERM to [`STOP`]; a second one exits at once
/// (the next run recovers whatever that leaves in progress).
fn handle_signals() -> Result<()> {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(crate::error::INTERRUPTED);
        }
        eprintln!("stopping: finishing the requests in flight (press Ctrl-C again to quit at once)");
    })
    .context("installing the Ctrl-C handler")
}

/// Expands `all` through the server's list and checks the names.
fn resolve_names(
    names: &[String],
    what: &str,
    source: &dyn PriceSource,
    list: fn(&dyn PriceSource) -> Result<Vec<String>, FetchError>,
) -> Result<Vec<String>> {
    let names: Vec<&str> = names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    let mut out: Vec<String> = if names.iter().any(|n| n.eq_ignore_ascii_case("all")) {
        list(source).map_err(|e| match e {
            FetchError::Unreachable(e) => anyhow::anyhow!(
                "cannot ask the price server for `all` {what}s: {e}. Is it running? `pricequeue serve` starts one"
            ),
            e => anyhow::anyhow!("asking the price server for `all` {what}s: {e}"),
        })?
    } else {
        names.iter().map(|n| n.to_string()).collect()
    };
    if out.is_empty() {
        anyhow::bail!(Usage(format!("no {what} given: name at least one with --{what}, or `all`")));
    }
    if let Some(bad) = out.iter().find(|n| n.chars().any(char::is_control)) {
        anyhow::bail!(Usage(format!("the {what} name {bad:?} has a control character in it")));
    }
    out.sort();
    out.dedup();
    Ok(out)
}
