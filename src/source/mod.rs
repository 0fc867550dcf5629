//! The price source: the HTTP clients for the price APIs, and the one
//! place that decides which failures are worth retrying.
//!
//! Every API, the reference API (`docs/API.md`) among them, is spoken by
//! `engine` from a declaration (`format`, checked and kept by `declare`,
//! the built-ins in `builtin/*.toml`) over `http`: `template` writes its
//! requests, `rows` reads its answers (`one` an answer of one row) and
//! `prove` decides what they say about each slot (a day at `1d`, a candle
//! below); `answer` reads what a
//! server says (prices, `Retry-After`) and writes names into URLs. `secrets`
//! keeps API keys and passwords out of every text shown. `open` opens a
//! source by name.

mod answer;
mod declare;
mod engine;
mod format;
mod http;
mod meant;
mod one;
mod open;
mod prove;
mod rows;
mod secrets;
mod spelling;
mod template;
#[cfg(test)]
mod tests;

use std::time::Duration;

use chrono::NaiveDate;

use crate::interval::Interval;
use crate::price::Price;

pub use answer::{check_price, parse_retry_after, parse_retry_after_at, segment, BadPrice, MAX_NAME};
pub use declare::Declarations;
pub use engine::DeclaredSource;
pub use meant::{sources_writing, Meant};
pub use one::read as read_one_row;
pub use open::{open, OpenError};
pub use secrets::{mask_read, mask_userinfo, Credentials, Url};
pub use spelling::MASK;

/// Where prices come from. The workers see only this, so tests and
/// benchmarks can put something else behind it.
///
/// A source answers for consecutive days of one pair in one
/// request ([`PriceSource::fetch`]), at most [`PriceSource::max_days`] of
/// them; a source that serves one day per request (the reference API,
/// `cryptodb`) has `max_days` 1. Below a day it answers for consecutive
/// candles ([`PriceSource::fetch_slots`]) at the intervals it serves
/// ([`PriceSource::intervals`]), at most [`PriceSource::max_rows`] of them.
pub trait PriceSource: Send + Sync {
    /// The source's name, as `--source` and the `tasks.source` column spell it.
    fn name(&self) -> &str;
    /// Names the server (its base URL), for messages.
    fn server(&self) -> &str;
    /// What messages call the source where they would name it with its
    /// server: "binance at https://api.binance.com", "the price server".
    fn called(&self) -> String {
        format!("{} at {}", self.name(), self.server())
    }
    /// The key its pauses and pace are kept under in the database, shared
    /// by every worker of every process: the source at its server.
    fn lane(&self) -> String {
        format!("{} {}", self.name(), self.server())
    }
    /// Whether [`PriceSource::server`] is the source's own address (its
    /// declaration's, or the reference API's default), not one --server
    /// (or PRICEQUEUE_SERVER) gave: what a failure to reach it should point
    /// at. False unless the source knows.
    fn own_address(&self) -> bool {
        false
    }
    /// The exchange this source is, when it is one (`binance`): its prices
    /// are stored under this name. `None` for a source that serves several
    /// exchanges (`cryptodb`, a declaration with `{exchange}`).
    fn exchange(&self) -> Option<&str> {
        None
    }
    /// The intervals the source serves, shortest first: `1d` unless its
    /// declaration lists others.
    fn intervals(&self) -> Vec<Interval> {
        vec![Interval::D1]
    }
    /// The most days one request may ask for.
    fn max_days(&self) -> u32 {
        1
    }
    /// The oldest day the source still serves on `today`, when it keeps
    /// only its latest days (Kraken: 720 candles, today's included): older
    /// ones are outside its history, never asked for, so a run may start
    /// before it without costing a request for them.
    fn history_start(&self, today: NaiveDate) -> Option<NaiveDate> {
        let _ = today;
        None
    }
    /// The oldest slot at `interval` the source still serves at the time
    /// `now_ms`, when it keeps only its latest candles (Kraken: 720 at any
    /// interval, the current one included): older slots are outside its
    /// history, answered so by [`PriceSource::fetch_slots`] without a
    /// request. At `1d` it is [`PriceSource::history_start`]'s first slot.
    fn oldest_slot(&self, interval: Interval, now_ms: i64) -> Option<i64> {
        let today = chrono::DateTime::from_timestamp_millis(now_ms)?.date_naive();
        interval.is_day().then(|| self.history_start(today)).flatten().map(|d| interval.first_slot(d))
    }
    /// The documented pace: the shortest time between two requests, over
    /// every worker of every process on the database, unless `--rate` says
    /// otherwise. `None` for no documented limit.
    fn pace(&self) -> Option<Duration> {
        None
    }
    /// Whether `all` is worth a question before it is queued: an
    /// exchange's list is its whole market (hundreds of pairs, each a task a
    /// day), a declared API's may be thousands. The reference API's lists
    /// are the price API's own handful, fetched with `all` by the README,
    /// the demo and existing crontabs, and it says no.
    fn asks_before_all(&self) -> bool {
        true
    }
    /// The exchanges the source lists (for a one-exchange source, its own name).
    fn exchanges(&self) -> Result<Vec<String>, FetchError>;
    /// The symbols the source lists.
    fn symbols(&self) -> Result<Vec<String>, FetchError>;
    /// Asks, in one request, for the days `first..=last` of one pair, and
    /// says what the answer means for each of them: the result holds every
    /// day of the range once, in order.
    fn fetch(&self, exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> Result<Answer, FetchError>;
    /// The most candles one request returns at `interval` (Binance 1000,
    /// Coinbase 300, OKX 100, ...): how far one request reaches. At `1d`
    /// it is [`PriceSource::max_days`].
    fn max_rows(&self, interval: Interval) -> u32 {
        let _ = interval;
        self.max_days()
    }
    /// Asks, in one request, for the candles at `interval` in the slots
    /// `first..=last` (numbered as [`Interval::slot_of_ms`] numbers them)
    /// of one pair, and says what the answer means for each slot: the
    /// result holds every slot of the range once, in order, by the rule of
    /// `prove` (a slot is `NoData` only when the answer's rows reach past
    /// it on both sides). At most [`PriceSource::max_rows`] slots are
    /// asked, from the end the source anchors its pages at; the rest are
    /// `Unanswered(Cut)`, to ask on from the first of them. Slots older
    /// than [`PriceSource::oldest_slot`] are `OutsideHistory`, and those
    /// after the current one (not open yet) `NotClosed`, without a request.
    /// An interval the source lacks is a `Permanent` error naming those it
    /// has. At `1d` a slot is a day, and this is [`PriceSource::fetch`].
    fn fetch_slots(
        &self,
        exchange: &str,
        symbol: &str,
        interval: Interval,
        first: i64,
        last: i64,
    ) -> Result<SlotAnswer, FetchError> {
        if !interval.is_day() {
            let served = Interval::list(&self.intervals());
            return Err(FetchError::Permanent(format!(
                "{} serves no {interval} candles: it serves {served}",
                self.name()
            )));
        }
        let answer = self.fetch(exchange, symbol, interval.day_of_slot(first), interval.day_of_slot(last))?;
        let slots = answer.days.into_iter().map(|(d, a)| (interval.first_slot(d), a)).collect();
        Ok(SlotAnswer { slots, slow_down: answer.slow_down })
    }
    /// The request [`PriceSource::fetch`] sends for these days, as it may be
    /// shown (`-v`, errors, pages): secrets read `***`.
    fn request(&self, exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> String {
        let _ = (exchange, symbol, first, last);
        format!("GET {}", self.server())
    }
    /// The request [`PriceSource::fetch_slots`] sends for these slots, as it
    /// may be shown (`-v`, errors, pages): secrets read `***`. At `1d` it
    /// is [`PriceSource::request`].
    fn request_slots(&self, exchange: &str, symbol: &str, interval: Interval, first: i64, last: i64) -> String {
        self.request(exchange, symbol, interval.day_of_slot(first), interval.day_of_slot(last))
    }
    /// `text` (a message, a URL) with every secret the source holds masked.
    fn mask(&self, text: &str) -> String {
        text.to_string()
    }
}

/// What one request told about each day it asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Every day asked for, in order, once.
    pub days: Vec<(NaiveDate, DayAnswer)>,
    /// The source said it is near its limit (Binance's
    /// `X-MBX-USED-WEIGHT-1M`): no request to it for this long.
    pub slow_down: Option<Duration>,
}

/// What one request told about each slot (candle) it asked for, at an
/// interval below a day or at `1d`. The slots past the most one request
/// returns ([`PriceSource::max_rows`]) at the end the source does not
/// anchor its pages at are `Unanswered(Cut)`: ask on from the first of them.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotAnswer {
    /// Every slot asked for, in order, once; a `Price` is its candle.
    pub slots: Vec<(i64, DayAnswer)>,
    /// As [`Answer::slow_down`].
    pub slow_down: Option<Duration>,
}

/// What an answer says about one day.
#[derive(Debug, Clone, PartialEq)]
pub enum DayAnswer {
    /// A row for the day, closed, on the UTC day's boundary, passing [`check_price`].
    Price(Price),
    /// The answer proves the day empty: no row for it, and rows of the
    /// window asked on both sides of it, or no row at all in that window
    /// (`prove`): no data, unless the day ended so recently it may not be
    /// published yet.
    NoData,
    /// The answer does not prove the day either way: ask again, as
    /// [`Unproven`] says.
    Unanswered(Unproven),
    /// The day's candle is not closed yet (today's, Kraken's last row, OKX
    /// `confirm = 0`): ask again once it is.
    NotClosed,
    /// The source cannot serve this day at all (older than Kraken's 720
    /// candles, or before the first row such a source still has): "outside
    /// the source's history", not "no data".
    OutsideHistory,
    /// A row for the day breaks a rule (two different rows for the day, a
    /// time off the UTC day, a price that breaks [`check_price`]): the task
    /// fails with this error.
    Refused(String),
}

/// Why an answer proves nothing about a day, and what asking again is for.
#[derive(Debug, Clone, PartialEq)]
pub enum Unproven {
    /// Not asked for (past the most days, or candles, one request asks), or past where
    /// the answer's rows stop at the end its source cuts pages at (a cap):
    /// asked on from there, as one page follows another.
    Cut,
    /// Asked for and not shown: no row for it, and the answer's rows do not
    /// reach past it on both sides (a page cut at the end its source does
    /// not cut, a young pair, rows off the day's boundaries). Its stretch is
    /// asked once more; if that answer does not prove it either, the task
    /// fails with `why` (what the answer lacked) and is asked again later,
    /// or, with `history_ends`, the day is outside the source's history: a
    /// source that keeps only its latest candles answered from a later
    /// first row, up to the end of what was asked.
    Lacking { why: String, history_ends: bool },
}

/// Why a request failed, classified by what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered at the server's address: refused,
    /// connect timeout. At the start of a run this ends the run.
    #[error("{0}")]
    Unreachable(String),
    /// The server's host name could not be looked up (DNS): most likely a
    /// typo in the address, which waiting does not mend. Mid-run it counts
    /// as unreachable.
    #[error("{0}")]
    UnknownHost(String),
    /// Worth another attempt later: resets, 5xx, truncated bodies.
    #[error("{0}")]
    Transient(String),
    /// No answer within `--timeout`: worth another attempt later, but at the
    /// start of a run, a server that does not answer ends the run.
    #[error("{0}")]
    TimedOut(String),
    /// The server asked us to slow down (a 429, a 503 with `Retry-After`,
    /// a limit said in a body), maybe saying until when.
    #[error("{message}")]
    RateLimited { message: String, retry_after: Option<Duration> },
    /// The source banned this address (Binance's 418) until `retry_after`:
    /// every worker on the source stops until then.
    #[error("{message}")]
    Banned { message: String, retry_after: Option<Duration> },
    /// Retrying cannot help: 404 and the other 4xx, or a wrong answer.
    #[error("{0}")]
    Permanent(String),
}

/// Timeouts of the HTTP client.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// To open a connection.
    pub connect: Duration,
    /// For a whole request, answer included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: Duration::from_secs(5), request: Duration::from_secs(30) }
    }
}

/// What a failed first request to `source`'s server says, and what to do.
/// An address --server gave is checked there; the source's own address is
/// not the user's typo, so no flag they never gave is blamed for it.
pub fn server_trouble(source: &dyn PriceSource, e: &FetchError) -> String {
    let server = source.server();
    if source.own_address() {
        if let Some(said) = own_address_trouble(source, e) {
            return said;
        }
    }
    match e {
        FetchError::Unreachable(e) => {
            format!("cannot reach the price server: {e}. Is it running? `pricequeue serve` starts one")
        }
        FetchError::UnknownHost(e) => format!(
            "cannot find the price server: {e}. Check the host name in --server {server} for a typo; \
             running the command again will not help"
        ),
        FetchError::TimedOut(e) => format!(
            "the price server at {server} did not answer: {e}. Is it the right --server, and up? \
             Try again later, or give a longer --timeout"
        ),
        FetchError::Transient(e) | FetchError::RateLimited { message: e, .. } => {
            format!("the price server at {server} is in trouble ({e}); run the same command again later")
        }
        FetchError::Banned { message, .. } => format!(
            "the price server at {server} has banned this address for now ({message}); run the same command \
             again after the ban"
        ),
        FetchError::Permanent(e) if e.contains(http::UNAUTHORIZED) => {
            format!("the price server at {server} turned the request down: {e}")
        }
        FetchError::Permanent(e) => format!(
            "{server} does not answer like the price API ({e}); check --server: it is the API's base \
             URL, like http://localhost:8080"
        ),
    }
}

/// [`server_trouble`] for a source at its own address (no --server given),
/// where it differs: `None` where the advice is the same either way.
fn own_address_trouble(source: &dyn PriceSource, e: &FetchError) -> Option<String> {
    let (name, server) = (source.name(), source.server());
    // A default address on this machine (the reference API's) is a server
    // the user starts; one elsewhere is the source's.
    let local = http::on_this_machine(server);
    Some(match e {
        FetchError::Unreachable(e) if local => format!(
            "cannot reach the price server at {server}, {name}'s own address: {e}. Is it running? \
             `pricequeue serve` starts one there; --server gives another address"
        ),
        FetchError::Unreachable(e) => format!(
            "cannot reach {name} at its own address, {server}: {e}. Check this machine's network (a \
             firewall or a proxy in the way?); --server points {name} at another address, like a stand-in \
             (`pricequeue serve`)"
        ),
        FetchError::UnknownHost(e) => format!(
            "cannot find {name}'s server: {e}. The address is {name}'s own ({server}), not a typo of yours: \
             this machine cannot look the name up (no DNS, or no network). Run the command again once it \
             can; --server points {name} at another address, like a stand-in (`pricequeue serve`)"
        ),
        FetchError::TimedOut(e) => format!(
            "{name} did not answer at its own address, {server}: {e}. Try again later, or give a longer --timeout"
        ),
        FetchError::Permanent(e) => format!(
            "{server}, {name}'s own address, does not answer like {name}'s API ({e}): is something (a proxy, \
             a captive portal) answering for it? --server points {name} at another address"
        ),
        _ => return None,
    })
}
