//! How the built-in price server behaves, as `serve`'s flags or a test
//! ask: latency, faults, connections, the request log.

use std::time::Duration;

use super::faults::{self, FaultRule, RetryAfter};

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Wait this long before each price answer, like the reference
    /// server's `--sleep`: real fetches are latency-bound.
    pub latency: Duration,
    /// Add a random wait of up to this much to each price answer.
    pub latency_jitter: Duration,
    /// Answer HTTP/1.0-style, closing the connection after each response,
    /// as the reference server does.
    pub close_connections: bool,
    /// Faults to inject into price answers.
    pub faults: Vec<FaultRule>,
    /// `Retry-After` on 429 and 503 answers.
    pub retry_after: RetryAfter,
    /// How long a stalled answer hangs before the connection is closed.
    pub stall: Duration,
    /// Seed of the random draws (faults, jitter): the same seed, the same
    /// sequence of draws.
    pub seed: u64,
    /// Keep a log of every request with its arrival time, for tests.
    pub record: bool,
    /// Live mode: prices go on past the synthetic span to today, and a day's
    /// price is published this long after the day ends (UTC); before that,
    /// and for days to come, the answer is `null`.
    pub live: Option<Duration>,
    /// The stand-ins keep their sources' documented limits (Binance's
    /// request weight a minute, its 418 ban for a client that ignores its
    /// 429s).
    pub enforce_limits: bool,
    /// The Binance stand-in's request weight a minute (Binance: 6000).
    pub binance_weight: u32,
    /// How long the Binance stand-in bans an address that kept asking
    /// after its 429s (Binance: 2 minutes to 3 days).
    pub ban: Duration,
    /// `user:password`: every request without them (HTTP Basic) gets a 401.
    pub basic_auth: Option<String>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            close_connections: false,
            faults: Vec::new(),
            retry_after: RetryAfter::None,
            stall: faults::DEFAULT_STALL,
            seed: 0,
            record: false,
            live: None,
            enforce_limits: true,
            ban: Duration::from_secs(120),
            binance_weight: 6000,
            basic_auth: None,
        }
    }
}
