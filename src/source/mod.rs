//! The price source: the HTTP client for the price API (`docs/API.md`),
//! and the one place that decides which failures are worth retrying.
//!
//! `http` speaks to the server; `answer` reads what it says (prices,
//! `Retry-After`) and writes names into URLs.

mod answer;
mod http;

use std::time::Duration;

use chrono::NaiveDate;

use crate::price::Price;

pub use answer::{check_price, parse_price, parse_retry_after, parse_retry_after_at, segment, BadPrice, MAX_NAME};
pub use http::HttpSource;

/// Where prices come from. The workers see only this, so tests and
/// benchmarks can put something else behind it.
pub trait PriceSource: Send + Sync {
    /// Names the server (its base URL), for messages and shared pauses.
    fn server(&self) -> &str;
    /// The exchanges the server lists.
    fn exchanges(&self) -> Result<Vec<String>, FetchError>;
    /// The symbols the server lists.
    fn symbols(&self) -> Result<Vec<String>, FetchError>;
    /// One day's price; `Ok(None)` when the server has none for that day.
    fn price(&self, exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, FetchError>;
}

/// Why a request failed, classified by what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FetchError {
    /// Nothing answered at the server's address: refused, no such host,
    /// connect timeout. At the start of a run this ends the run.
    #[error("{0}")]
    Unreachable(String),
    /// Worth another attempt later: resets, 5xx, truncated bodies.
    #[error("{0}")]
    Transient(String),
    /// No answer within `--timeout`: worth another attempt later, but at the
    /// start of a run, a server that does not answer ends the run.
    #[error("{0}")]
    TimedOut(String),
    /// The server asked us to slow down (429, 503), maybe saying until when.
    #[error("{message}")]
    RateLimited { message: String, retry_after: Option<Duration> },
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
