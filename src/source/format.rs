//! The declaration format: the TOML table of one price API, as serde
//! reads and writes it (`docs/sources.md`, "The keys"). `declare.rs`
//! checks a declaration and keeps the known ones.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::interval::Interval;

/// One source, as declared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declaration {
    /// The default base URL, `{server}` in the templates; `--server` replaces it.
    pub server: String,
    /// The URL of one request for consecutive days (candles, below a day).
    pub candles: String,
    /// The most days one request may ask for: the rows it returns at `1d`.
    pub max_days: u32,
    /// The most rows one request returns below a day [default: `max_days`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rows: Option<u32>,
    /// What `max_rows` caps below a day: the slots a request may name
    /// (`slots`, the default: Coinbase refuses a range of more than 300),
    /// or only the rows an answer holds (`rows`: Binance's `limit` counts
    /// the candles sent, and a range may name any number of slots, so a
    /// page runs on past minutes without trades and holds `max_rows`
    /// candles). Only with `paging = "forward"`.
    #[serde(default, skip_serializing_if = "Cap::is_slots")]
    pub cap: Cap,
    /// Which end of the range an answer starts from.
    pub paging: Paging,
    /// The order of the rows in an answer.
    pub order: Order,
    /// The shortest time between two requests (`"1s"`, `"50ms"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<String>,
    /// Or the requests allowed per minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_minute: Option<u32>,
    /// Only this many most recent days exist (today included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_days: Option<u32>,
    /// Only this many most recent candles exist at any interval below a
    /// day, the current one included (Kraken's 720) [default: `history_days`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_rows: Option<u32>,
    /// Request headers; values may hold `{env:NAME}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The intervals served, each as `{interval}` spells it (`"1h" =
    /// "3600"`); none: `1d` only, as the URL asks for it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub intervals: BTreeMap<String, String>,
    /// Where the rows are in an answer, and their fields.
    pub rows: RowLayout,
    /// How an error looks in an answer's body.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error: Vec<BodyError>,
    /// The list of the source's symbols.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbols: Option<List>,
    /// The list of its exchanges (for a declaration with `{exchange}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchanges: Option<List>,
    /// A header that tells the weight used of a per-minute budget (Binance's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_weight: Option<UsedWeight>,
    /// `all` is queued without a question: the source's lists are short
    /// (the reference API's handful), not a whole market.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ask_before_all: bool,
    /// What messages call the source where they would say "NAME at SERVER"
    /// (`"the price server"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called: Option<String>,
    /// Pauses and the pace are kept per server address, shared by whatever
    /// is asked there, not per source at that address.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pace_by_server: bool,
    /// The source `--source` defaults to: `enqueue` and the reports leave
    /// its name out while it is the only one in play.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unnamed: bool,
    /// The statuses that mean "unknown symbol" (a 400 or 404 from an
    /// exchange); any other is classified like every status.
    #[serde(default = "unknown_symbol_statuses", skip_serializing_if = "is_unknown_symbol_statuses")]
    pub unknown_symbol_status: Vec<u16>,
    /// An error answer's body is quoted in the error: off for a server whose
    /// error pages say nothing the status does not.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub quote_error_body: bool,
    /// Bytes accepted in one answer [default: 8 MiB].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_limit: Option<u64>,
}

impl Declaration {
    /// The intervals the source serves, shortest first, each with how
    /// `{interval}` spells it: `1d` alone (spelled as it is) without an
    /// `[intervals]` table. Keys that are no interval are refused when the
    /// declaration is read (`declare::validate`), so none is left out here.
    pub fn intervals(&self) -> Vec<(Interval, &str)> {
        if self.intervals.is_empty() {
            return vec![(Interval::D1, "1d")];
        }
        let mut all: Vec<(Interval, &str)> =
            self.intervals.iter().filter_map(|(k, v)| k.parse().ok().map(|i| (i, v.as_str()))).collect();
        all.sort_by_key(|(i, _)| *i);
        all
    }

    /// How `{interval}` spells `interval`, if the source serves it.
    pub fn spelled(&self, interval: Interval) -> Option<&str> {
        self.intervals().into_iter().find(|(i, _)| *i == interval).map(|(_, s)| s)
    }

    /// Whether a request below a day may name more slots than `max_rows`,
    /// the answer holding at most that many rows ([`Cap::Rows`]).
    pub fn pages_by_rows(&self, interval: Interval) -> bool {
        !interval.is_day() && self.cap == Cap::Rows && self.paging == Paging::Forward
    }

    /// The most rows one request returns at `interval`.
    pub fn max_rows(&self, interval: Interval) -> u32 {
        match interval.is_day() {
            true => self.max_days,
            false => self.max_rows.unwrap_or(self.max_days),
        }
    }

    /// How many of its latest candles at `interval` the source keeps (the
    /// current one included), when it keeps only those.
    pub fn history(&self, interval: Interval) -> Option<u32> {
        match interval.is_day() {
            true => self.history_days.or(self.history_rows),
            false => self.history_rows.or(self.history_days),
        }
    }

    /// Checks the keys of how answers are taken that serde cannot: the
    /// statuses, the limit, and what goes only with `rows.one`.
    pub(super) fn check_answer_keys(&self) -> Result<(), (&'static str, String)> {
        if let Some(s) = self.unknown_symbol_status.iter().find(|s| !(400..=599).contains(*s)) {
            return Err((
                "unknown_symbol_status",
                format!("{s} is not an error status: give statuses from 400 to 599"),
            ));
        }
        if self.body_limit == Some(0) {
            return Err(("body_limit", "at least 1 (bytes), or leave it out".into()));
        }
        let r = &self.rows;
        if !r.one && (r.echo.is_some() || r.strict_numbers) {
            let k = if r.echo.is_some() { "rows.echo" } else { "rows.strict_numbers" };
            return Err((k, "goes with one = true (an answer of one row)".into()));
        }
        if r.one && r.json.is_none() {
            return Err((
                "rows.json",
                "an answer of one row (one = true) is JSON: json = \"\" for the whole answer".into(),
            ));
        }
        Ok(())
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

fn unknown_symbol_statuses() -> Vec<u16> {
    vec![400, 404]
}

fn is_unknown_symbol_statuses(s: &[u16]) -> bool {
    s == [400, 404]
}

/// What a request's `max_rows` caps below a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cap {
    /// The slots the request names: a range holds at most `max_rows` slots.
    #[default]
    Slots,
    /// The rows the answer holds: the range may be longer, the rows are not.
    Rows,
}

impl Cap {
    fn is_slots(&self) -> bool {
        *self == Cap::Slots
    }
}

/// Which end of the range an answer is anchored at: the other end may be cut short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Paging {
    /// The answer starts at the first day asked; it may stop before the last.
    Forward,
    /// The answer ends at the last day asked; it may start after the first.
    Backward,
}

/// The order of the rows in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    OldestFirst,
    NewestFirst,
}

/// Where the rows are and what their fields mean.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Serde's errors name the type (`expected struct ...`): the user wrote
// `[x.rows]`, so they keep the name they had, the table's.
#[serde(deny_unknown_fields, expecting = "struct Rows")]
pub struct RowLayout {
    /// A JSON pointer (RFC 6901) to the array of rows; `""` for the whole answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<String>,
    /// With `json`: that pointer names an object, and the rows are its one
    /// member not named this (Kraken keys its rows by its own pair name, beside `last`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_member_except: Option<String>,
    /// A JSON pointer to an object keyed by time, a row per key (Alpha Vantage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyed: Option<String>,
    /// The answer is CSV with a header row.
    #[serde(default, skip_serializing_if = "is_false")]
    pub csv: bool,
    /// The time field (not for `keyed`, whose keys are the times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Field>,
    /// `s`, `ms`, `date` (2024-01-02), `iso` (RFC 3339) or a chrono format like `%d-%m-%Y`.
    pub time_format: String,
    /// Whether the time is the start of the row's day or its end.
    #[serde(default, skip_serializing_if = "TimeMarks::is_start")]
    pub time_marks: TimeMarks,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<Field>,
    pub close: Field,
    /// Without it, the volume is stored as 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume: Option<Field>,
    /// Rows carry one price: open, high and low are stored equal to it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub close_only: bool,
    /// A field that says whether the candle is closed (OKX `confirm`)...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed: Option<Field>,
    /// ...and the value it has when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_when: Option<String>,
    /// The newest row is the current candle, not closed whatever its time
    /// says (Kraken: "the last entry ... is for the current,
    /// not-yet-committed timeframe").
    #[serde(default, skip_serializing_if = "is_false")]
    pub last_open: bool,
    /// The answer is one row, an object (`json` points at it), or `null`:
    /// no data for the one day asked (`max_days = 1`). A row that is not
    /// the one asked for, or not a price, fails the task for good.
    #[serde(default, skip_serializing_if = "is_false")]
    pub one: bool,
    /// Numbers are JSON numbers: a number written as text is refused.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict_numbers: bool,
    /// Fields that repeat what was asked for: a row whose value differs is
    /// for another cell, and refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<Echo>,
}

/// The fields of a row that repeat the names asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Echo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Field>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<Field>,
}

/// A field of a row: its index in an array row, or its name in an object row
/// (or a CSV column).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Field {
    Index(usize),
    Name(String),
}

/// What a row's time marks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeMarks {
    /// The first instant of the row's UTC day.
    #[default]
    Start,
    /// The first instant of the next UTC day: the row's day ends there.
    End,
}

impl TimeMarks {
    fn is_start(&self) -> bool {
        *self == TimeMarks::Start
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// An error reported in an answer's body (often with status 200).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyError {
    /// A JSON pointer to the value that signals the error: any value there
    /// that is not empty (`null`, `""`, `[]`, `{}`) and not in `ok`...
    pub at: String,
    /// ...or, when given, only this value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    /// Values at `at` that mean success (OKX's `code` "0").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ok: Vec<String>,
    /// A JSON pointer to the error's message, shown with the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Texts (in the value or the message) that mark a rate limit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rate_limit: Vec<String>,
    /// Texts that mark an unknown symbol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_symbol: Vec<String>,
    /// Texts that mark a passing trouble worth another attempt.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transient: Vec<String>,
}

/// A list of names: its URL and where the names are in the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct List {
    pub url: String,
    /// A JSON pointer whose `*` segments take every member (`/symbols/*/symbol`).
    pub names: String,
    /// Put before each name (Bitfinex lists `BTCUSD` for the symbol `tBTCUSD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A response header carrying the weight used of a per-minute budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsedWeight {
    pub header: String,
    /// The budget per minute; at 90% of it the source is left alone until the next minute.
    pub limit: u32,
}

/// The fraction of a weight budget after which requests stop until the next minute.
pub const WEIGHT_MARGIN: f64 = 0.9;

/// Checks a `time_format`.
pub fn check_time_format(f: &str) -> Result<(), String> {
    match f {
        "s" | "ms" | "date" | "iso" => Ok(()),
        f if f.contains('%') && chrono::format::StrftimeItems::new(f).parse().is_ok() => Ok(()),
        f => Err(format!(
            "{f:?} is not a time format: use \"s\", \"ms\", \"date\", \"iso\" or a format like \"%Y-%m-%d\""
        )),
    }
}
