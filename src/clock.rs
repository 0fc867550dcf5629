//! The queue's clock: milliseconds since the Unix epoch, and arithmetic on
//! them that saturates instead of wrapping, since durations come from
//! outside (flags, `Retry-After` headers) and may be absurd.

use std::time::Duration;

use chrono::{NaiveDate, NaiveTime};

/// Milliseconds since the Unix epoch, now: this machine's clock, moved
/// ahead by [`AHEAD`] when it is set.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis().saturating_add(ahead())
}

/// For tests only: a duration (`3h`) the queue's clock runs ahead of this
/// machine's, so that a test sees a cool-down end without waiting for it.
/// PostgreSQL keeps the queue's times on its server's clock, which this
/// does not move.
pub const AHEAD: &str = "PRICEQUEUE_TEST_CLOCK_AHEAD";

/// [`AHEAD`] in ms, read once; 0 when unset or not a duration.
fn ahead() -> i64 {
    static AHEAD_MS: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *AHEAD_MS
        .get_or_init(|| std::env::var(AHEAD).ok().and_then(|v| humantime::parse_duration(v.trim()).ok()).map_or(0, ms))
}

/// A duration in whole milliseconds, saturating at `i64::MAX`.
pub fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// `at` plus `d`, saturating.
pub fn after(at: i64, d: Duration) -> i64 {
    at.saturating_add(ms(d))
}

/// When `day` ends (UTC): the first millisecond of the next day.
pub fn day_end(day: NaiveDate) -> i64 {
    day.succ_opt().unwrap_or(NaiveDate::MAX).and_time(NaiveTime::MIN).and_utc().timestamp_millis()
}

/// When `day` comes due: its end (UTC) plus `grace`.
pub fn due_at(day: NaiveDate, grace: Duration) -> i64 {
    after(day_end(day), grace)
}

/// `at` as people read it: `2026-11-25 00:10 UTC`.
pub fn show(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map_or_else(|| format!("{at} ms after the epoch"), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// `at` to the second: `2026-11-25 00:10:05 UTC`.
pub fn show_secs(at: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map_or_else(|| format!("{at} ms after the epoch"), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(ms(Duration::MAX), i64::MAX);
        assert_eq!(after(i64::MAX - 5, Duration::from_secs(1)), i64::MAX);
        assert_eq!(after(1_000, Duration::from_millis(500)), 1_500);
        let d = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
        assert_eq!(
            day_end(d),
            chrono::DateTime::parse_from_rfc3339("2020-03-02T00:00:00Z").unwrap().timestamp_millis()
        );
        assert_eq!(due_at(d, Duration::from_secs(60)), day_end(d) + 60_000);
        assert!(day_end(NaiveDate::MAX) > 0);
        assert_eq!(show(day_end(d)), "2020-03-02 00:00 UTC");
    }
}
