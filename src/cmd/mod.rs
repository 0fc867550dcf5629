//! The subcommands, one file each, all behind [`Execute`].

mod chart;
mod copy;
mod coverage;
mod demo;
mod demo_output;
mod enqueue;
mod fetch;
mod open;
mod progress;
mod query;
mod remove;
mod retry;
mod serve;
mod shell;
mod sources;
mod sql;
mod status;
mod summary;
mod ui;
mod work;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::FromArgMatches;

use crate::cli::{Cli, Command, DEFAULT_DB};
use crate::error::Exit;
use crate::source::mask_read;

/// What every command may need besides its own flags.
pub struct Env {
    /// `--timeout`: for each request to the price server, and each `sql` statement.
    pub timeout: std::time::Duration,
    /// `--busy-timeout`: how long to wait for another program's lock.
    pub busy_timeout: std::time::Duration,
    /// `--db`, if given on the command line or in PRICEQUEUE_DB.
    pub db: Option<PathBuf>,
    /// Whether `--db` came from the command line itself.
    pub db_on_command_line: bool,
    /// `--server`: the base URL in place of the source's own.
    pub server: Option<String>,
    /// `--sources`: the file of declared sources, if given.
    pub sources: Option<PathBuf>,
    /// `--quiet`, `--verbose`.
    pub verbosity: progress::Verbosity,
}

impl Env {
    /// The database: `--db`, PRICEQUEUE_DB, or the file `prices.db`.
    pub fn db(&self) -> crate::store::Location {
        self.db.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DB)).into()
    }

    /// How to open the database `--db` names.
    pub fn store(&self, create: crate::store::Create) -> crate::store::Options {
        crate::store::Options { busy_timeout: self.busy_timeout, ..crate::store::Options::new(self.db(), create) }
    }

    /// A line for people on stderr, unless --quiet.
    pub fn say(&self, line: &str) {
        if self.verbosity > progress::Verbosity::Quiet {
            log(line);
        }
    }

    /// The summary of a run: printed even with --quiet when the exit code
    /// says something went wrong, since then it is the error's detail.
    pub fn report(&self, line: &str, code: Exit) {
        if self.verbosity > progress::Verbosity::Quiet || code != Exit::Ok {
            log(line);
        }
    }
}

/// A subcommand: runs, and returns its exit code.
pub trait Execute {
    fn execute(&self, env: &Env) -> Result<Exit>;
}

/// Set by the first Ctrl-C or SIGTERM: stop claiming, finish what is in flight.
pub static STOP: AtomicBool = AtomicBool::new(false);

/// Parses the command line and runs the command.
pub fn main() -> Result<Exit> {
    mask_panics();
    let matches = match crate::cli::command().try_get_matches() {
        Ok(m) => m,
        // --help and --version go to stdout like any output: a closed pipe
        // is fine, a full disk an error (clap would ignore both).
        Err(e) if matches!(e.kind(), clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion) => {
            use std::io::Write;
            let color = std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            let text = if color { e.render().ansi().to_string() } else { e.render().to_string() };
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|()| out.flush()).context("writing to standard output")?;
            return Ok(Exit::Ok);
        }
        // clap repeats a refused value: a --server's password is masked.
        Err(e) => {
            let text = e.render().to_string();
            let masked = crate::source::mask_userinfo(&text);
            if masked == text {
                e.exit()
            }
            log(masked.trim_end());
            std::process::exit(e.exit_code())
        }
    };
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    cli.pass_format(&matches)?;
    let env = Env {
        timeout: cli.timeout,
        busy_timeout: cli.busy_timeout,
        db: cli.db,
        db_on_command_line: matches.value_source("db") == Some(ValueSource::CommandLine),
        server: cli.server,
        sources: cli.sources,
        verbosity: match (cli.quiet, cli.verbose) {
            (true, _) => progress::Verbosity::Quiet,
            (_, true) => progress::Verbosity::Verbose,
            _ => progress::Verbosity::Normal,
        },
    };
    match &cli.command {
        Command::Enqueue(c) => c.execute(&env),
        Command::Work(c) => c.execute(&env),
        Command::Fetch(c) => c.execute(&env),
        Command::Status(c) => c.execute(&env),
        Command::Query(c) => c.execute(&env),
        Command::Coverage(c) => c.execute(&env),
        Command::Chart(c) => c.execute(&env),
        Command::Retry(c) => c.execute(&env),
        Command::Remove(c) => c.execute(&env),
        Command::Sql(c) => c.execute(&env),
        Command::Serve(c) => c.execute(&env),
        Command::Ui(c) => c.execute(&env),
        Command::Completions(c) => c.execute(&env),
        Command::Man(c) => c.execute(&env),
        Command::Demo(c) => c.execute(&env),
        Command::Copy(c) => c.execute(&env),
    }
}

/// Writes a line to stderr, ignoring failure: a closed stderr (cron with
/// `2>&-`, a reader gone) must not stop a run halfway, as `eprintln!`
/// would by panicking.
pub fn log(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A panic's message (a bug's) may hold a URL: it is printed with the
/// secrets this process read masked, where Rust's own hook prints it as is.
fn mask_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        let thread = std::thread::current();
        let at = info.location().map(|l| format!(" at {l}")).unwrap_or_default();
        log(&format!("thread '{}' panicked{at}:\n{}", thread.name().unwrap_or("<unnamed>"), mask_read(&message)));
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            log(&mask_read(&trace.to_string()));
        } else {
            log("note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace");
        }
    }));
}

/// Asks `question` on the terminal; true for y or yes. Where standard
/// input is not a terminal nobody can answer, so it is a usage error that
/// ends with `no_terminal` (what to add, and that nothing was done): a
/// script says --yes.
pub(crate) fn confirmed(question: &str, no_terminal: &str) -> Result<bool> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(crate::error::Usage(format!(
            "{question} Standard input is not a terminal, so nobody can answer: {no_terminal}"
        )));
    }
    let mut err = std::io::stderr().lock();
    write!(err, "{question} [y/N] ").and_then(|()| err.flush()).context("asking on standard error")?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).context("reading the answer")?;
    Ok(matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

/// Routes Ctrl-C and SIGTERM to [`STOP`]; a second one exits at once
/// (the next run recovers whatever that leaves in progress).
fn handle_signals() -> Result<()> {
    ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(Exit::Interrupted.code());
        }
        log("stopping: finishing what is in flight (press Ctrl-C again to quit at once)");
    })
    .context("installing the Ctrl-C handler")
}

pub use crate::words::plural;
