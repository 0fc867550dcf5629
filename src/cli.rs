//! The command line: every flag, its help text, and its defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};

use crate::dates::{parse_span, Span};
use crate::report::Format;
use crate::server::faults::{self, FaultRule};
use crate::store::Synchronous;

/// Durable, resumable price downloads: a job queue in SQLite.
///
/// `fetch` turns a request for prices (exchanges x symbols x days) into one
/// task per price in a SQLite database, then fetches them with worker
/// threads, writing each price back. Stop it any way you like and run the
/// same command again: it carries on where it stopped. The database is
/// yours to query with `pricequeue query`, `pricequeue sql` or `sqlite3`.
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
    /// The SQLite database holding the queue and the prices.
    #[arg(long, global = true, env = "PRICEQUEUE_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Base URL of the price API.
    #[arg(
        long,
        global = true,
        env = "PRICEQUEUE_SERVER",
        value_name = "URL",
        default_value = "http://localhost:8080",
        value_parser = parse_server
    )]
    pub server: String,

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
    #[command(after_help = concat!(
        "Example:\n  pricequeue query --exchange bitstamp --symbol btc --from 2020-03-01 --to 2020-03-31 --format csv",
    ))]
    Query(QueryArgs),

    /// Draw which days of each (exchange, symbol) have prices: a grid, in color.
    ///
    /// One row per (exchange, symbol), one column per day, week or month
    /// (whichever fits the width): prices, no data, failures, still queued,
    /// or never asked for. The missing report at a glance. Colors are off
    /// when stdout is not a terminal or NO_COLOR is set.
    #[command(after_help = concat!(
        "Example:\n  pricequeue coverage --symbol btc --from 2019 --to 2020"
    ))]
    Coverage(CoverageArgs),

    /// Queue failed tasks again, each with a fresh set of attempts.
    ///
    /// Without a selection, every failed task; `work` (or `fetch`) then
    /// fetches them.
    #[command(
        after_help = "Example:\n  pricequeue retry --exchange kraken --from 2020-03-01 --to 2020-03-31 && pricequeue work"
    )]
    Retry(RetryArgs),

    /// Run one read-only SQL statement against the database.
    ///
    /// Statements that could change the database (INSERT, UPDATE, DELETE,
    /// DROP, CREATE, ATTACH, PRAGMAs that set a value...) are refused.
    #[command(
        after_help = "Example:\n  pricequeue sql \"SELECT exchange, avg(close) FROM prices WHERE symbol = 'btc' GROUP BY exchange\""
    )]
    Sql(SqlArgs),

    /// Run the built-in price server: the price API over synthetic data.
    ///
    /// A dozen exchanges, three symbols, 2013-04-24 to 2020-12-08, each
    /// (exchange, symbol) with its own first and last day and some days
    /// absent; the same prices on every machine and every run.
    ///
    /// Faults can be injected on demand (see --fault), and the request
    /// counts per path are served as JSON at /__pricequeue/requests.
    #[command(
        after_help = "Examples:\n  pricequeue serve --addr 127.0.0.1:8080 --latency 50ms\n  pricequeue serve --fault error=0.05 --fault 429=0.01 --retry-after 2 --fault reset=0.01"
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
}

/// Which prices to queue: required names and days.
#[derive(Debug, Args)]
pub struct Selection {
    /// Exchanges: names (repeat the flag or separate with commas), or `all`
    /// for every exchange the server lists.
    #[arg(long = "exchange", short = 'e', value_name = "NAME", value_delimiter = ',', required = true)]
    pub exchanges: Vec<String>,

    /// Symbols: names (repeat the flag or separate with commas), or `all`
    /// for every symbol the server lists.
    #[arg(long = "symbol", short = 's', value_name = "NAME", value_delimiter = ',', required = true)]
    pub symbols: Vec<String>,

    /// First day: 2020-03-01, 2020-03 (a month), 2020 (a year), today,
    /// yesterday, or -7d (seven days ago; days are UTC). Alone, it is the
    /// whole range: `--from 2020-03` is March, `--from -7d` one day.
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub from: Span,

    /// Last day, included, written like --from (a month or year means its
    /// last day) [default: the end of --from: `--from 2020-03` is March].
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub to: Option<Span>,

    /// Take exchange and symbol names the server does not list, or that
    /// cannot be checked (the server is down), instead of stopping: the API
    /// answers "no data" for a name it does not know.
    #[arg(long)]
    pub allow_unknown: bool,
}

impl Selection {
    /// The first and last day asked for.
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.from.first, self.to.map_or(self.from.last, |t| t.last))
    }
}

/// Which stored prices to report: everything is optional.
#[derive(Debug, Args)]
pub struct Filter {
    /// Exchanges (repeat or separate with commas) [default: those in the database].
    #[arg(long = "exchange", short = 'e', value_name = "NAME", value_delimiter = ',')]
    pub exchanges: Vec<String>,

    /// Symbols (repeat or separate with commas) [default: those in the database].
    #[arg(long = "symbol", short = 's', value_name = "NAME", value_delimiter = ',')]
    pub symbols: Vec<String>,

    /// First day, written like 2020-03-01, 2020-03, 2020, today, yesterday
    /// or -7d [default: the first day in the database].
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub from: Option<Span>,

    /// Last day, included, written like --from [default: the end of --from
    /// (`--from 2020-03` is March), or without --from the last day in the
    /// database].
    #[arg(long, value_name = "DAY", value_parser = parse_span, allow_hyphen_values = true)]
    pub to: Option<Span>,
}

impl Filter {
    /// The first day asked for, if any.
    pub fn first_day(&self) -> Option<NaiveDate> {
        self.from.map(|s| s.first)
    }

    /// The last day asked for, if any: `--to`, or the end of `--from`'s
    /// span, as in `fetch` (`--from 2020-03` alone is March).
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.to.or(self.from).map(|s| s.last)
    }
}

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// A day is fetched only once it has ended (UTC) and this much more has
    /// passed; until then its task waits as `not yet due`.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub grace: Duration,
}

/// How workers run.
#[derive(Debug, Args)]
pub struct WorkArgs {
    /// Worker threads, each with one request in flight [default: min(32, cores + 4)].
    #[arg(long, short = 'w', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub workers: Option<u16>,

    /// Attempts per task before it is marked failed.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_attempts: u32,

    /// At most this many price requests to the server, from every worker of
    /// every process on this database together: N/s, N/min or N/h (like 5/s).
    /// Without it, as fast as the workers go.
    #[arg(long, value_name = "N/s", value_parser = parse_rate)]
    pub rate: Option<Rate>,

    /// A day is fetched only once it has ended (UTC) and this much more has
    /// passed; until then its task waits as `not yet due`.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub grace: Duration,

    /// A "no price" answer for a day that ended less than this long ago may
    /// only mean the server has not published it yet: the day waits as `not
    /// yet due` and is asked again later (after 1 h, doubling), and the answer
    /// is final once the day ended this long ago.
    #[arg(long, value_name = "DURATION", default_value = "2d", value_parser = parse_duration)]
    pub settle: Duration,

    /// Delay before the first retry of a failed request; it doubles with
    /// each attempt, up to a minute, with random jitter.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub retry_delay: Duration,

    /// How long a claimed task stays this run's without renewal. A run
    /// renews its leases while it works; the tasks of a run that died on
    /// another machine come back to the queue when theirs run out (on this
    /// machine, at once).
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_lease)]
    pub lease: Duration,

    /// The longest this run waits when the server asks it to (Retry-After),
    /// in one pause or all together; past it the run stops, exit 1, the
    /// rest left queued for the next run.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    pub max_pause: Duration,

    /// Stop claiming after this long (like 10m), let what is in flight
    /// finish, and exit; the next run carries on. Exit code 3 if tasks
    /// were left.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<Duration>,

    /// How hard each commit is pushed to disk: `normal` survives a crash of
    /// pricequeue, `full` a power loss too, at a cost in speed.
    #[arg(long, value_enum, default_value_t)]
    pub synchronous: Synchronous,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// Fetch the last N days of the selection again, even those already
    /// fetched: a day that is not over yet (or was corrected) changes.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub refresh_days: u32,
    #[command(flatten)]
    pub work: WorkArgs,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,

    /// Count the tasks afresh first (needed only after changing the tasks
    /// table by hand: pricequeue keeps the counts itself).
    #[arg(long)]
    pub recount: bool,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub filter: Filter,

    /// Output format. CSV holds the prices (or, with --missing, the missing
    /// report); table, JSON and NDJSON hold both.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,

    /// Print only the missing report.
    #[arg(long)]
    pub missing: bool,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub filter: Filter,

    /// Columns to fit the grid in [default: the terminal's width, or 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub filter: Filter,

    /// Give up on the failed tasks for good instead: they keep their error,
    /// show as `abandoned`, and no longer make `fetch` exit 4 or `query`
    /// exit 3 (`retry --abandoned` brings them back).
    #[arg(long, conflicts_with = "abandoned")]
    pub never: bool,

    /// Queue abandoned tasks again too.
    #[arg(long)]
    pub abandoned: bool,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One read-only SQL statement.
    #[arg(value_name = "STATEMENT")]
    pub statement: String,

    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,

    /// Wait this long before answering each price request (like 50ms).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub latency: Duration,

    /// Add a random wait of up to this much to each price answer.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_duration)]
    pub latency_jitter: Duration,

    /// Close the connection after each answer, as the reference server does.
    #[arg(long)]
    pub close_connections: bool,

    /// Inject a fault into price answers: NAME=RATE for a random share
    /// (error=0.05), or NAME=first:N for the first N requests of every
    /// price. Names: error (500/502/504), 429, 503, stall, reset,
    /// malformed, truncated, oversized. Repeat for several.
    #[arg(long = "fault", value_name = "NAME=RATE", value_parser = faults::parse_rule)]
    pub faults: Vec<FaultRule>,

    /// Seconds to ask for in `Retry-After` on 429 and 503 answers [default: no header].
    #[arg(long, value_name = "SECONDS")]
    pub retry_after: Option<u64>,

    /// Write `Retry-After` as an HTTP date instead of seconds.
    #[arg(long, requires = "retry_after")]
    pub retry_after_date: bool,

    /// How long a stalled answer hangs before the server closes it.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub stall: Duration,

    /// Seed of the random draws (faults, jitter), for repeatable runs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,

    /// Serve recent days too, as a live price API does: every day up to
    /// yesterday, each published this long after it ends (UTC).
    #[arg(long, value_name = "DELAY", value_parser = parse_duration)]
    pub live: Option<Duration>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Worker threads [default: min(32, cores + 4)].
    #[arg(long, short = 'w', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub workers: Option<u16>,
}

/// Checks a price API base URL: http or https, with a host.
pub fn parse_server(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() > 1000 {
        return Err(format!("the URL is {} bytes long; give the API's base URL, like http://localhost:8080", s.len()));
    }
    let uri: ureq::http::Uri =
        s.parse().map_err(|e| format!("'{s}' is not a URL ({e}); write it like http://localhost:8080"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => {}
        _ => {
            return Err(format!(
                "'{s}' is not an http:// or https:// URL with a host; write it like http://localhost:8080"
            ))
        }
    }
    if uri.query().is_some() {
        return Err(format!("'{s}' has a query string; give the API's base URL, like http://localhost:8080"));
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// A request rate: requests per second, minute or hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per `per`.
    pub n: f64,
    pub per: Duration,
}

impl Rate {
    /// The time between two requests.
    pub fn interval(&self) -> Duration {
        self.per.div_f64(self.n)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.n)
    }
}

/// Parses `--rate`: `5/s`, `100/min`, `0.5/s`, `1000/h`.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let bad = |why: &str| format!("'{s}' is not a rate ({why}); write it like 5/s, 100/min or 1000/h");
    let (n, unit) = s.trim().split_once('/').ok_or_else(|| bad("no /"))?;
    let n: f64 = n.trim().parse().map_err(|_| bad("the count is not a number"))?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err(bad("the unit is s, min or h")),
    };
    if !n.is_finite() || n <= 0.0 {
        return Err(bad("the count must be above 0"));
    }
    let rate = Rate { n, per };
    if rate.interval() < Duration::from_millis(1) {
        return Err(bad("more than 1000 requests a second"));
    }
    if rate.interval() > Duration::from_secs(86_400) {
        return Err(bad("fewer than one request a day"));
    }
    Ok(rate)
}

/// A request or statement timeout: at least a millisecond.
fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("a timeout of {s} lets nothing finish; give at least 1ms"));
    }
    Ok(d)
}

/// A lease: at least a second, or other runs could take tasks between renewals.
fn parse_lease(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!("a lease of {s} is too short: renewals could come too late; give 1s or more"));
    }
    Ok(d)
}

/// The longest duration any flag takes: longer is a mistake, and would
/// overflow the clocks it is added to.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// Parses durations like `250ms`, `30s`, `10m`, `1h 30m`, up to a year.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration ({e}); write it like 500ms, 30s or 10m"))?;
    if d > MAX_DURATION {
        return Err(format!("'{s}' is longer than a year, the most any duration here may be"));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_are_bounded() {
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("1000000000years").unwrap_err().contains("longer than a year"));
        assert!(parse_duration("366days").is_err());
        assert!(parse_timeout("0s").unwrap_err().contains("at least 1ms"));
        assert_eq!(parse_rate("5/s").unwrap().interval(), Duration::from_millis(200));
        assert_eq!(parse_rate("120/min").unwrap().interval(), Duration::from_millis(500));
        assert_eq!(parse_rate(" 0.5 / s ").unwrap().interval(), Duration::from_secs(2));
        for bad in ["5", "0/s", "-1/s", "inf/s", "NaN/s", "5/day", "2000/s", "1/h/h"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }
}
