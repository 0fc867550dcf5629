//! How claimed tasks are cut into batches, each one fetcher's work:
//! consecutive days of one pair at one interval, as many as fill the
//! source's requests.

use super::{Batch, Lane};
use crate::clock::now_ms;
use crate::interval::Interval;
use crate::source::PriceSource;
use crate::store::Task;

/// The most days one batch spans below a day, and the most candles it
/// holds: a batch's slots and candles are kept in memory until each day
/// settles, and a batch is one fetcher's work, so other fetchers need
/// batches of their own.
const MAX_DAYS: i64 = 366;
const MAX_CANDLES: i64 = 200_000;
/// The same for a source whose pages are capped by the candles they hold
/// ([`PriceSource::caps_rows`]): its days settle page by page, so a batch
/// holds at most a page's candles and each day's slots (a byte each).
const MAX_ROWS_CANDLES: i64 = 366 * 1440;

/// How many days a batch of `source` spans at `interval`: at `1d` what
/// one request serves; below a day, days whose slots fill whole requests
/// of `max_rows(interval)` candles where that takes few enough days
/// (Binance's 1000 at 1m: 25 days, 36 requests; at 1h: 125 days, 3), so
/// that a pair's requests stay at ceil(candles / max_rows) + 1 however
/// its days are cut into batches; else as many days as fit under the
/// bounds in whole requests.
pub(super) fn batch_days(source: &dyn PriceSource, interval: Interval) -> i64 {
    if interval.is_day() {
        return i64::from(source.max_days().max(1));
    }
    let rows = i64::from(source.max_rows(interval).max(1));
    let per_day = interval.per_day();
    if source.caps_rows(interval) {
        // Pages of whole answers run on through a batch whatever its days,
        // and every batch ends in a page of its own: the fewer batches a
        // pair's days are, the fewer requests. A year of 1m is one.
        return MAX_DAYS.min(MAX_ROWS_CANDLES / per_day).max(1);
    }
    let bound = MAX_DAYS.min(MAX_CANDLES / per_day).max(1);
    let aligned = rows / gcd(rows, per_day);
    if aligned <= bound {
        return aligned;
    }
    // Whole requests' worth of slots, as many as fit: each batch then
    // leaves less than a day's slots of one request unused.
    let requests = (bound * per_day / rows).max(1);
    (requests * rows / per_day).clamp(1, bound)
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Cuts claimed tasks into batches: the tasks of one pair at one interval
/// from one source, in day order, each batch spanning at most
/// [`batch_days`] (at `1d` as many days as its source serves in one
/// request, not counting days older than it keeps, never asked for). A
/// task whose source is not among `lanes` (cannot be: claims ask for
/// theirs only) goes alone to the first lane, which hands it back.
pub(super) fn batches(mut tasks: Vec<Task>, lanes: &[std::sync::Arc<Lane>]) -> Vec<Batch> {
    tasks.sort_by(|a, b| {
        (&a.source, &a.exchange, &a.symbol, a.interval, a.day).cmp(&(
            &b.source,
            &b.exchange,
            &b.symbol,
            b.interval,
            b.day,
        ))
    });
    // The queue's clock, as the source's own answers are judged by.
    let today = chrono::DateTime::from_timestamp_millis(now_ms()).map_or(chrono::NaiveDate::MAX, |t| t.date_naive());
    let mut batches: Vec<Batch> = Vec::new();
    for task in tasks {
        let lane = lanes.iter().position(|l| l.source.name() == task.source);
        let span = lane.map_or(1, |i| batch_days(lanes[i].source.as_ref(), task.interval));
        let kept = lane.filter(|_| task.interval.is_day()).and_then(|i| lanes[i].source.history_start(today));
        let lane = lane.unwrap_or(0);
        if let Some(batch) = batches.last_mut() {
            let head = &batch.tasks[0];
            let from = kept.map_or(head.day, |k| head.day.max(k));
            if batch.lane == lane
                && head.source == task.source
                && head.exchange == task.exchange
                && head.symbol == task.symbol
                && head.interval == task.interval
                && (task.day - from).num_days() < span
            {
                batch.tasks.push(task);
                continue;
            }
        }
        batches.push(Batch { lane, tasks: vec![task] });
    }
    batches
}
