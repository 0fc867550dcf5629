//! What the server counts and keeps: requests, prices and faults per path,
//! and the log of every request for tests.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::options::ServerOptions;
use super::response::{AnswerKind, Response};

/// Where the server reports its request counts, as JSON.
pub const STATS_PATH: &str = "/__pricequeue/requests";

/// Requests seen by one path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PathStats {
    /// Requests received.
    pub requests: u64,
    /// Answered with a price object.
    pub prices: u64,
    /// Answered with an injected fault.
    pub faults: u64,
}

/// One request, as the log keeps it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When its head had arrived (before any latency or stall).
    pub at: Instant,
    pub path: String,
    pub answer: AnswerKind,
}

/// The counts and the log, shared by the threads of every connection;
/// `rng` draws faults and jitter, `turn` takes server errors in turn.
pub(super) struct Stats {
    pub(super) total: AtomicU64,
    pub(super) by_path: Mutex<HashMap<String, PathStats>>,
    pub(super) log: Mutex<Vec<Seen>>,
    pub(super) rng: Mutex<fastrand::Rng>,
    pub(super) turn: AtomicU64,
    /// Binance's request weight this minute, as its stand-in counts it.
    pub(super) weight: Mutex<Weight>,
}

/// The Binance stand-in's budget: the minute (since the epoch) it counts,
/// the weight used in it, the 429s it answered in it, and a ban's end (s).
#[derive(Debug, Default)]
pub(super) struct Weight {
    pub minute: i64,
    pub used: u32,
    pub strikes: u32,
    pub banned_until: i64,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler thread must not take the counts down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts an answer that was a price or a fault for its path, and logs
/// the request when the options ask for a log.
pub(super) fn record(stats: &Stats, options: &ServerOptions, at: Instant, path: &str, response: &Response) {
    let answer = response.kind();
    {
        let mut by_path = lock(&stats.by_path);
        let entry = by_path.entry(path.to_string()).or_default();
        match answer {
            AnswerKind::Price => entry.prices += 1,
            AnswerKind::Fault(_) => entry.faults += 1,
            _ => {}
        }
    }
    if options.record {
        lock(&stats.log).push(Seen { at, path: path.to_string(), answer });
    }
}
