//! The flags of each command, with their help text and defaults.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{
    parse_duration, parse_lease, parse_output, parse_rate, parse_size, ChartOutput, QueueSelectionArgs, Rate,
    ReportSelectionArgs,
};
use crate::report::Format;
use crate::server::faults::{self, FaultRule};

#[derive(Debug, Args)]
pub struct EnqueueArgs {
    #[command(flatten)]
    pub selection: QueueSelectionArgs,

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
    /// is final once the day ended this long ago. A candle still not closed
    /// this long after its day fails the task as transient (it cools down).
    #[arg(long, value_name = "DURATION", default_value = "2d", value_parser = parse_duration)]
    pub settle: Duration,

    /// Delay before the first retry of a failed request; it doubles with
    /// each attempt, up to a minute, with random jitter. Also the first
    /// pause after a rate limit that gives no time, doubling while refused.
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub retry_delay: Duration,

    /// How long a claimed task stays this run's without renewal. A run
    /// renews its leases while it works; the tasks of a run that died on
    /// another machine come back to the queue when theirs run out (on this
    /// machine, at once).
    #[arg(long, value_name = "DURATION", default_value = "20s", value_parser = parse_lease)]
    pub lease: Duration,

    /// The longest this run waits when a server asks it to slow down (a
    /// Retry-After, a 429, a limit in a body), in one pause or all together;
    /// past it the run stops, exit 1, the rest left queued for the next run.
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
    pub synchronous: super::values::Synchronous,

    /// The run's summary is lines on standard error; with `json` (or
    /// `ndjson`, the same) it is also one JSON object on standard output,
    /// for scripts (the guide lists its fields).
    #[arg(long, short = 'f', value_enum, default_value_t, value_name = "FORMAT")]
    pub format: SummaryFormat,
}

/// How `work` and `fetch` print the summary of their run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SummaryFormat {
    /// Lines for people, on standard error, only.
    #[default]
    Text,
    /// One JSON object, on one line of standard output.
    Json,
    /// The same object: one summary is one line.
    Ndjson,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    #[command(flatten)]
    pub selection: QueueSelectionArgs,

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

    /// Only the pairs whose tasks are fetched from these sources (cryptodb,
    /// binance, ..., repeat or separate with commas) [default: every pair].
    #[arg(id = "source", long = "source", value_name = "NAME", value_delimiter = ',')]
    pub sources: Vec<String>,

    /// Only the tasks of this interval (1m ... 1d) [default: every interval].
    #[arg(long, env = "PRICEQUEUE_INTERVAL", value_name = "INTERVAL")]
    pub interval: Option<crate::interval::Interval>,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub selection: ReportSelectionArgs,

    /// Output format. CSV holds the prices (or, with --missing, the missing
    /// report); table, JSON and NDJSON hold both.
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,

    /// Print only the missing report.
    #[arg(long)]
    pub missing: bool,

    /// List each missing day on a row of its own, instead of a row per run
    /// of consecutive days of a pair with the same reason.
    #[arg(long)]
    pub each_day: bool,
}

#[derive(Debug, Args)]
pub struct CoverageArgs {
    #[command(flatten)]
    pub selection: ReportSelectionArgs,

    /// Columns to fit the grid in [default: the terminal's width, or 100].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(40..=1000))]
    pub width: Option<u16>,
}

/// `chart`'s selection is a report's, with help that says it draws one pair.
#[derive(Debug, Args)]
#[command(mut_arg("exchanges", |a| a.help(CHART_EXCHANGE)))]
#[command(mut_arg("symbols", |a| a.help(CHART_SYMBOL)))]
#[command(mut_arg("source", |a| a.help(CHART_SOURCE)))]
pub struct ChartArgs {
    #[command(flatten)]
    pub selection: ReportSelectionArgs,

    /// Draw each day as a candle (open, high, low, close) instead of a
    /// line through the closes.
    #[arg(long)]
    pub candles: bool,

    /// The file to write: its name's ending, .svg or .png, picks the
    /// format; - writes SVG to standard output.
    #[arg(long, short = 'o', value_name = "FILE", value_parser = parse_output, allow_hyphen_values = true)]
    pub output: ChartOutput,

    /// The chart's width and height in pixels [default: 960x480].
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,

    /// Exit as query does once the chart is written: 3 when some day of the
    /// range is still to be fetched, 5 when some day has no price for good.
    /// Without it, a written chart exits 0: missing days are drawn in it.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub selection: ReportSelectionArgs,

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
pub struct UiArgs {
    /// Address to serve the page on; port 0 picks a free one. Any address
    /// but loopback needs a token (--token, or one is made and printed).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8090")]
    pub addr: SocketAddr,

    /// A secret every request must carry (in the address printed, then a
    /// cookie, or as `Authorization: Bearer TOKEN`).
    #[arg(long, value_name = "TOKEN", env = "PRICEQUEUE_UI_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Only look: no Retry buttons, and every change refused.
    #[arg(long)]
    pub read_only: bool,
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
    /// malformed, truncated, oversized; on the stand-ins' candle paths also
    /// short-page, off-utc, duplicate, ban, body-limit, busy (the
    /// exchange's "busy" code), unclosed (candles not closed yet), and range
    /// answers that prove less than they seem: ignore-range, cut-start,
    /// cut-end, wrong-unit, off-utc-early. Repeat for several.
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

    /// Answer 401 to every request without this user name and password
    /// (HTTP Basic authentication), as an API behind a password does: a
    /// client gives them in its URL, `--server http://USER:PASSWORD@host`.
    #[arg(long, value_name = "USER:PASSWORD")]
    pub basic_auth: Option<String>,
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
pub struct CopyArgs {
    /// The database to copy from (a file or a postgres:// URL); read only.
    #[arg(long, value_name = "PATH|URL", value_parser = super::parse_db)]
    pub from: PathBuf,

    /// The database to copy into (made if missing).
    #[arg(long, value_name = "PATH|URL", value_parser = super::parse_db)]
    pub to: PathBuf,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The source the built-in server stands in for: `cryptodb` (the
    /// reference API) or a built-in exchange (binance, coinbase, kraken,
    /// bitstamp, bitfinex, okx).
    #[arg(long, env = "PRICEQUEUE_SOURCE", value_name = "NAME", default_value = "cryptodb")]
    pub source: String,

    /// The candles' interval (1m .. 1d), one the source serves: the
    /// reference API serves days only; `--source binance --interval 1h`
    /// fetches March 2020 by the hour.
    #[arg(long, env = "PRICEQUEUE_INTERVAL", value_name = "INTERVAL", default_value = "1d")]
    pub interval: crate::interval::Interval,

    /// Worker threads [default: min(32, cores + 4)].
    #[arg(long, short = 'w', value_name = "N", value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub workers: Option<u16>,
}

const CHART_EXCHANGE: &str =
    "The exchange whose prices to draw [default: that of the one pair with tasks the other flags leave]";
const CHART_SYMBOL: &str = "The symbol whose prices to draw [default: that of the one pair with tasks the other flags leave]: `--symbol BTCUSDT` alone is enough where one exchange has tasks for it";
const CHART_SOURCE: &str = "Only a pair whose tasks are fetched from this source (binance, ...) [default: any source]";
