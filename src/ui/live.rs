//! The live progress: one reader of the counts for every open page, once a
//! second, and the rate and time left worked out from how the finished
//! count moves, whichever process or host does the work.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde::Serialize;
use tokio::sync::watch;

use super::App;
use crate::store::{StateCounts, Store};

/// How often the counts are read.
pub const EVERY: Duration = Duration::from_secs(1);
/// The rate is over this much of the recent past.
const WINDOW: Duration = Duration::from_secs(10);

/// What every open page is sent on each change.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub counts: StateCounts,
    pub total: u64,
    /// Tasks finished per second over the last few seconds.
    pub rate: f64,
    /// Seconds until the queue is empty at that rate, while work goes on.
    pub eta_secs: Option<u64>,
    /// Whether any `work` runs: tasks are in progress or finishing.
    pub working: bool,
    pub pairs: Vec<PairCounts>,
    /// Why the counts could not be read, if they could not.
    pub error: Option<String>,
}

/// One (exchange, symbol) and its counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PairCounts {
    pub exchange: String,
    pub symbol: String,
    /// The source its tasks are fetched from (`cryptodb`, `binance`, a
    /// declared one), when known.
    pub source: Option<String>,
    pub counts: StateCounts,
}

/// What the reader keeps between readings: the rate's past, and each
/// pair's source, read again only when a pair it has not seen appears
/// (a pair's source does not change while its tasks run).
#[derive(Default)]
pub struct Reader {
    rate: Rate,
    sources: HashMap<(String, String), Option<String>>,
}

/// The finished counts seen lately, for the rate.
#[derive(Default)]
pub struct Rate {
    seen: VecDeque<(Instant, u64)>,
}

impl Rate {
    /// Adds a reading; returns tasks per second over the window.
    pub fn add(&mut self, at: Instant, finished: u64) -> f64 {
        self.seen.push_back((at, finished));
        while self.seen.front().is_some_and(|(t, _)| at.duration_since(*t) > WINDOW) {
            self.seen.pop_front();
        }
        let (t0, n0) = self.seen.front().copied().unwrap_or((at, finished));
        let secs = at.duration_since(t0).as_secs_f64();
        // A retry or refresh moves tasks back: that is no negative rate.
        if secs <= 0.0 {
            0.0
        } else {
            finished.saturating_sub(n0) as f64 / secs
        }
    }
}

/// Reads the counts (`task_counts`, never the tasks) into a snapshot.
pub fn read(store: &Store, reader: &mut Reader, at: Instant) -> Snapshot {
    let mut read = || -> anyhow::Result<(StateCounts, Vec<PairCounts>)> {
        let counts = store.counts()?;
        let by_pair = store.counts_by_pair()?;
        if by_pair.iter().any(|(e, s, _)| !reader.sources.contains_key(&(e.clone(), s.clone()))) {
            reader.sources = store.pair_sources()?.into_iter().map(|(e, s, source)| ((e, s), Some(source))).collect();
            // A pair without tasks (prices only) has none: not asked again.
            for (e, s, _) in &by_pair {
                reader.sources.entry((e.clone(), s.clone())).or_insert(None);
            }
        }
        let pairs = by_pair
            .into_iter()
            .map(|(exchange, symbol, counts)| {
                let source = reader.sources.get(&(exchange.clone(), symbol.clone())).cloned().flatten();
                PairCounts { exchange, symbol, source, counts }
            })
            .collect();
        Ok((counts, pairs))
    };
    match read() {
        Ok((counts, pairs)) => {
            let rate = reader.rate.add(at, counts.finished());
            let left = counts.queued + counts.in_progress;
            let working = counts.in_progress > 0 || rate > 0.0;
            let eta_secs = (working && rate > 0.0).then(|| (left as f64 / rate).ceil() as u64);
            Snapshot { total: counts.total(), counts, rate, eta_secs, working, pairs, error: None }
        }
        Err(e) => Snapshot { error: Some(format!("{e:#}")), ..Snapshot::default() },
    }
}

/// Reads the counts every second until `stop`, publishing each change.
pub async fn poll(store: Arc<Store>, publish: watch::Sender<Snapshot>, mut stop: watch::Receiver<bool>) {
    let mut reader = Reader::default();
    loop {
        let store = store.clone();
        let mut taken = std::mem::take(&mut reader);
        let read = tokio::task::spawn_blocking(move || {
            let snapshot = read(&store, &mut taken, Instant::now());
            (snapshot, taken)
        })
        .await;
        if let Ok((snapshot, r)) = read {
            reader = r;
            publish.send_if_modified(|old| {
                let changed = *old != snapshot;
                *old = snapshot;
                changed
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

/// `GET /events`: the snapshot now, then each new one, as server-sent
/// events, until the page goes or the server stops.
pub async fn events(State(app): State<App>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = (app.live.clone(), app.stop.clone(), true);
    let stream = futures_util::stream::unfold(start, |(mut live, mut stop, first)| async move {
        if !first {
            tokio::select! {
                changed = live.changed() => changed.ok()?,
                _ = stop.changed() => return None,
            }
        }
        let json = serde_json::to_string(&*live.borrow_and_update()).ok()?;
        Some((Ok(Event::default().event("counts").data(json)), (live, stop, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_over_the_last_ten_seconds_and_never_negative() {
        let t = Instant::now();
        let mut r = Rate::default();
        assert_eq!(r.add(t, 100), 0.0);
        assert_eq!(r.add(t + Duration::from_secs(2), 300), 100.0);
        assert_eq!(r.add(t + Duration::from_secs(4), 500), 100.0);
        // The first reading leaves the window: the rate is of the last 10 s.
        assert_eq!(r.add(t + Duration::from_secs(12), 1500), 1200.0 / 10.0);
        // `retry` queued some finished tasks again.
        assert_eq!(r.add(t + Duration::from_secs(13), 10), 0.0);
    }
}
