//! The command line: every flag, its help text, and its defaults.
//!
//! `mod.rs` holds the program and its commands, `args.rs` each command's
//! flags, `values.rs` the parsers of flag values (durations, rates, URLs).

mod args;
mod queue;
mod remove;
mod report;
#[cfg(test)]
mod tests;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

pub use args::*;
pub use queue::QueueSelectionArgs;
pub use remove::RemoveArgs;
pub use report::ReportSelectionArgs;
pub use values::*;

/// Durable, resumable price downloads: a queue of them on SQLite or PostgreSQL.
///
/// `fetch` turns a request for prices (exchanges x symbols x days) into one
/// task per price in the database (an SQLite file, or PostgreSQL for workers
/// on several hosts), then fetches them with worker threads, writing each
/// price back. Stop it any way you like and run the same command again: it
/// carries on where it stopped. The database is yours to query with
/// `pricequeue query`, `pricequeue sql`, `sqlite3` or `psql`.
#[derive(Debug, Parser)]
#[command(name = "pricequeue", version, max_term_width = 100, args_override_self = true)]
#[command(after_help = concat!(
    "Examples:\n",
    "  pricequeue demo\n",
    "  pricequeue serve &\n",
    "  pricequeue fetch --exchange all --symbol all --from 2020-03-01 --to 2020-03-31\n",
    "  pricequeue query --exchange bitstamp --symbol btc --from 2020-03-01 --to 2020-03-31",
))]
pub struct Cli {
    /// The database holding the queue and the prices: an SQLite file, or
    /// a PostgreSQL URL (postgres://user@host:5432/dbname) for one queue
    /// shared by several hosts.
    #[arg(long, global = true, env = "PRICEQUEUE_DB", hide_env_values = true, value_name = "PATH|URL", value_parser = parse_db)]
    pub db: Option<PathBuf>,

    /// Base URL of the price source's API, in place of the one it documents
    /// [default: the source's own: cryptodb http://localhost:8080, binance
    /// https://api.binance.com, coinbase https://api.exchange.coinbase.com,
    /// kraken https://api.kraken.com, bitstamp https://www.bitstamp.net,
    /// bitfinex https://api-pub.bitfinex.com, okx https://www.okx.com, a
    /// declared source its `server`]. `pricequeue serve` stands in for every
    /// built-in source at one address. A `user:password@` in it is sent as
    /// HTTP Basic authentication, and never stored or shown: give it to
    /// every run.
    #[arg(long, global = true, env = "PRICEQUEUE_SERVER", hide_env_values = true, value_name = "URL", value_parser = parse_server)]
    pub server: Option<String>,

    /// A TOML file of declared price sources (docs/sources.md) [default:
    /// $XDG_CONFIG_HOME/pricequeue/sources.toml, or ~/.config/pricequeue/sources.toml, if there].
    #[arg(long, global = true, env = "PRICEQUEUE_SOURCES", value_name = "FILE")]
    pub sources: Option<PathBuf>,

    /// How long to wait for another program's lock on the database before
    /// giving up (pricequeue's own processes hold it for milliseconds).
    #[arg(long, global = true, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub busy_timeout: Duration,

    /// Time allowed for each request to the price server (name checks
    /// included), answer and all, and for a `sql` statement (like 30s, 2m).
    #[arg(long, global = true, value_name = "DURATION", default_value = "30s", value_parser = parse_timeout)]
    pub timeout: Duration,

    /// Print only errors (for cron: no news is good news).
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print a line per request too.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,

    /// Output format of the commands that print a report (status, query,
    /// sql), given before the command as in a shell alias; a --format after
    /// the command wins.
    #[arg(long, short = 'f', value_enum, value_name = "FORMAT")]
    pub format: Option<crate::report::Format>,

    #[command(subcommand)]
    pub command: Command,
}

/// The command line with what clap cannot derive: the exit codes, from
/// [`Exit`](crate::error::Exit), after the help of the program and of each
/// command whose outcome a script may read.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let exits = crate::error::Exit::help();
    let with_exits = |c: clap::Command| {
        let after = c.get_after_help().map(|h| h.to_string()).unwrap_or_default();
        c.after_help(format!("{exits}\n{after}"))
    };
    let mut cmd = with_exits(Cli::command());
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .filter(|n| !matches!(n.as_str(), "completions" | "man" | "serve"))
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, with_exits);
    }
    cmd
}

impl Cli {
    /// Hands a `--format` given before the command to the command, unless
    /// it was given its own after its name; `matches` are the whole command
    /// line's. A command that prints no report has no format to take: a
    /// usage error, rather than a flag silently ignored.
    pub fn pass_format(&mut self, matches: &clap::ArgMatches) -> Result<(), crate::error::Usage> {
        let Some(format) = self.format else { return Ok(()) };
        // `work` and `fetch` print a summary, not a report: as JSON, or as lines.
        let summary = match &mut self.command {
            Command::Work(c) => Some(c),
            Command::Fetch(c) => Some(&mut c.work),
            _ => None,
        };
        if let Some(work) = summary {
            let own = matches.subcommand().and_then(|(_, m)| m.value_source("format"));
            work.format = match format {
                _ if own == Some(clap::parser::ValueSource::CommandLine) => work.format,
                crate::report::Format::Json => SummaryFormat::Json,
                crate::report::Format::Ndjson => SummaryFormat::Ndjson,
                other => {
                    use clap::ValueEnum;
                    let name = matches.subcommand_name().unwrap_or("this command");
                    let other = other.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
                    return Err(crate::error::Usage(format!(
                        "`{name}` prints its summary as text, or as JSON with --format json or ndjson; not as {other}"
                    )));
                }
            };
            return Ok(());
        }
        let slot = match &mut self.command {
            Command::Status(c) => &mut c.format,
            Command::Query(c) => &mut c.format,
            Command::Sql(c) => &mut c.format,
            _ => {
                let name = matches.subcommand_name().unwrap_or("this command");
                return Err(crate::error::Usage(format!(
                    "--format goes with status, query and sql, which print a report, and work and fetch, which print a \
                     summary; `{name}` has no format to take"
                )));
            }
        };
        // Asked only of the commands above: clap panics at an id a command lacks.
        let own = matches.subcommand().and_then(|(_, m)| m.value_source("format"));
        if own != Some(clap::parser::ValueSource::CommandLine) {
            *slot = format;
        }
        Ok(())
    }
}

/// The default database file, in the current directory.
pub const DEFAULT_DB: &str = "prices.db";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add one task per (exchange, symbol, day) to the queue.
    ///
    /// Tasks already in the queue, in any state, are left as they are:
    /// enqueueing the same selection twice adds nothing.
    #[command(
        after_help = "Example:\n  pricequeue enqueue --exchange bitstamp,kraken --symbol btc --from 2020-03-01 --to 2020-03-31"
    )]
    Enqueue(EnqueueArgs),

    /// Fetch every queued task, then print a summary.
    ///
    /// Worker threads claim tasks from the database, fetch each price and
    /// write it back, until no task is left. Several `work` processes may
    /// share one database.
    #[command(after_help = "Example:\n  pricequeue work --workers 64")]
    Work(WorkArgs),

    /// Enqueue, then work: the one command for the common case and for cron.
    ///
    /// Run it again with the same flags after any interruption: tasks
    /// already fetched are not fetched again.
    #[command(after_help = concat!(
        "Days that have not ended (UTC, plus --grace) wait as `not yet due`; a later run fetches them.\n\n",
        "A crontab line (hourly; quiet unless something is wrong):\n",
        "  5 * * * *  cd /srv/prices && pricequeue --quiet fetch -e all -s all --from -2d --to today --rate 5/s --deadline 50m\n\n",
        "Example:\n  pricequeue fetch --exchange all --symbol all --from 2020-03-01 --to 2020-03-31",
    ))]
    Fetch(FetchArgs),

    /// Task counts by state, overall and per (exchange, symbol), and the
    /// errors of failed tasks.
    #[command(after_help = "Example:\n  pricequeue status --format json")]
    Status(StatusArgs),

    /// Stored prices of a selection, then the missing report: every
    /// requested price that is not stored, with the reason.
    ///
    /// Reasons: `not queued` (never enqueued), `queued`, `in progress`,
    /// `not yet due` (the day has not ended), `failed: <error>`, `abandoned`
    /// (a failure given up on), `no data` (the server has no price for that day).
    /// Without --exchange or --symbol, those in the database; without
    /// --from, the first day in the database; without --to, the end of
    /// --from (`--from 2020-03` is March), or the last day in the database.
    ///
    /// With --interval below 1d, a row per candle (open_time in UTC), and
    /// the missing report a row per day without every candle, saying what
    /// it lacks: `1,437 of 1,440  no data 02:13-02:15 (no trades between
    /// the candles at 02:12 and 02:16)`, `not yet closed 14:00-23:00`,
    /// `failed: ...`; CSV and JSON a row per run of missing candles.
    #[command(after_help = concat!(
        "Examples:\n  pricequeue query --exchange bitstamp --symbol btc --from 2020-03-01 --to 2020-03-31 --format csv\n",
        "  pricequeue query --interval 1m --symbol BTCUSDT --from 2024-03 --missing",
    ))]
    Query(QueryArgs),

    /// Draw which days of each (exchange, symbol) have prices: a grid, in color.
    ///
    /// One row per (exchange, symbol), one column per day, week or month
    /// (whichever fits the width): prices, no data, failures, still queued,
    /// or never asked for. The missing report at a glance. Colors are off
    /// when stdout is not a terminal or NO_COLOR is set. With --interval
    /// below 1d, a day is all its candles summed up: partial where some
    /// are stored and the rest proven empty.
    #[command(after_help = concat!(
        "Example:\n  pricequeue coverage --symbol btc --from 2019 --to 2020"
    ))]
    Coverage(CoverageArgs),

    /// Draw the prices of one exchange and symbol over a range of days, to
    /// an SVG or PNG file.
    ///
    /// The close of each day as a line, or with --candles each day's open,
    /// high, low and close. A day without a price is a gap in the line,
    /// never bridged, banded in the colour of why it is missing (the reasons
    /// of `query`), with a legend of the reasons. In the SVG, hovering over
    /// a gap shows its day and reason. Days as in `query`. With --interval
    /// below 1d, the candles reduced to the chart's pixel columns (the
    /// first open, highest high, lowest low and last close of each), a
    /// column without any candle a gap: a year of minutes draws at once.
    #[command(after_help = concat!(
        "Example:\n  pricequeue chart --exchange bitstamp --symbol btc --from 2020-03 -o bitstamp-btc.svg"
    ))]
    Chart(ChartArgs),

    /// Queue failed tasks again, each with a fresh set of attempts.
    ///
    /// Without a selection, every failed task; `work` (or `fetch`) then
    /// fetches them.
    #[command(
        after_help = "Example:\n  pricequeue retry --exchange kraken --from 2020-03-01 --to 2020-03-31 && pricequeue work"
    )]
    Retry(RetryArgs),

    /// Remove the tasks of a selection from the queue, and their prices with --prices.
    ///
    /// For what should not have been queued (a typo'd year, a wrong
    /// symbol): the tasks go whatever their state; a worker that holds one
    /// writes nothing when it finishes. Prices are kept unless --prices is
    /// given. It says how many tasks and prices it will remove and asks
    /// first (y/N); --yes removes without asking, as a script must. Name
    /// what to remove: `--exchange all` alone is everything.
    #[command(after_help = concat!(
        "Examples:\n",
        "  pricequeue remove --from 2027 --to 2102            # tasks queued by a typo'd year\n",
        "  pricequeue remove --exchange kraken --symbol btc --prices --yes"
    ))]
    Remove(RemoveArgs),

    /// Run one read-only SQL statement against the database.
    ///
    /// Statements that could change the database (INSERT, UPDATE, DELETE,
    /// DROP, CREATE, ATTACH, PRAGMAs that set a value...) are refused.
    #[command(
        after_help = "Example:\n  pricequeue sql \"SELECT exchange, avg(close) FROM prices WHERE symbol = 'btc' GROUP BY exchange\""
    )]
    Sql(SqlArgs),

    /// Serve a web page to watch and steer a fetch, and to look at the prices.
    ///
    /// Live progress (tasks by state, the rate and the time left, a row per
    /// exchange and symbol), failures grouped by error with Retry buttons,
    /// the coverage grid, a chart of one pair's prices with its missing
    /// days, and a box for one read-only SQL statement. It serves on
    /// loopback unless told otherwise, and then only with a token.
    #[command(after_help = concat!(
        "Examples:\n",
        "  pricequeue ui                              # http://127.0.0.1:8090/\n",
        "  pricequeue ui --addr 0.0.0.0:8090 --read-only   # prints an address with a token"
    ))]
    Ui(UiArgs),

    /// Run the built-in price server: the price API over synthetic data.
    ///
    /// A dozen exchanges, three symbols, 2013-04-24 to 2020-12-08, each
    /// (exchange, symbol) with its own first and last day and some days
    /// absent; the same prices on every machine and every run.
    ///
    /// It also stands in for the built-in sources (binance, coinbase, kraken,
    /// bitstamp, bitfinex, okx) under their own paths, with candles at every
    /// interval each one's API serves (1m to 1d), its row caps and paging:
    /// minutes without trades, a maintenance window (2024-03-12 03:00-06:30
    /// UTC), pairs listed mid-range, up to the current, unclosed candle.
    ///
    /// Faults can be injected on demand (see --fault), and the request
    /// counts per path are served as JSON at /__pricequeue/requests.
    #[command(
        after_help = "Examples:\n  pricequeue serve --addr 127.0.0.1:8080 --latency 50ms\n  pricequeue --server http://127.0.0.1:8080 fetch --source binance --symbol BTCUSDT --interval 1m --from 2024-03-12\n  pricequeue serve --fault error=0.05 --fault 429=0.01 --retry-after 2 --fault reset=0.01"
    )]
    Serve(ServeArgs),

    /// Print a shell completion script.
    ///
    /// Load it in the current shell, or install it where your shell looks
    /// for completions.
    #[command(after_help = concat!(
        "Examples:\n",
        "  source <(pricequeue completions bash)\n",
        "  pricequeue completions zsh > ~/.zfunc/_pricequeue\n",
        "  pricequeue completions fish > ~/.config/fish/completions/pricequeue.fish"
    ))]
    Completions(CompletionsArgs),

    /// Print the man page (roff), made from the same definitions as --help.
    #[command(after_help = "Example:\n  pricequeue man > pricequeue.1 && man ./pricequeue.1")]
    Man(ManArgs),

    /// Fetch March 2020 from a built-in server into demo.db, and report.
    ///
    /// Starts the built-in price server on a free loopback port, fetches
    /// every exchange and symbol for March 2020 into a fresh database
    /// (demo.db unless --db says otherwise; replaced on every run), then
    /// prints the status and the query report. Needs nothing else.
    #[command(after_help = "Example:\n  pricequeue demo\n  sqlite3 demo.db 'SELECT * FROM prices LIMIT 5'")]
    Demo(DemoArgs),

    /// Copy tasks and prices from one database to another, either backend.
    ///
    /// SQLite to PostgreSQL when one machine is outgrown; PostgreSQL to a
    /// file for a snapshot to take along. Rows the destination lacks are
    /// added; a task it has is replaced by a more finished one (done, no
    /// data, failed, abandoned), a price by one fetched later. Tasks in
    /// progress arrive queued. Idempotent: stopped halfway, run it again.
    /// --db is not used.
    #[command(after_help = concat!(
        "Examples:\n",
        "  pricequeue copy --from prices.db --to postgres://prices@db.example:5432/prices\n",
        "  pricequeue copy --from postgres://prices@db.example:5432/prices --to snapshot.db"
    ))]
    Copy(CopyArgs),
}
