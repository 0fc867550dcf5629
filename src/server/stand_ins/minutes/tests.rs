//! The minutes and the candles made of them: the same every time, gaps
//! where the module's doc says, the maintenance window, the listing, the
//! current candle, and the caps of a range.

use chrono::NaiveDate;

use super::super::data::{candle, minute_of_day, Candle};
use super::super::series::Series;
use super::{listed_at, MAINTENANCE};
use crate::interval::Interval::{self, *};
use crate::source::check_price;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A series standing at `now` (a Unix minute).
fn at<'a>(source: &'a str, symbol: &'a str, iv: Interval, now: i64) -> Series<'a> {
    Series { now_ms: now * 60_000, ..Series::new(source, symbol, iv) }
}

/// The slots of a UTC day at `iv`.
fn slots(iv: Interval, d: &str) -> std::ops::Range<i64> {
    iv.day_slots(day(d))
}

#[test]
fn the_same_candles_every_time_in_any_order_and_any_range() {
    let now = minute_of_day(day("2024-06-01"));
    for iv in [M1, M5, H1, H12] {
        let s = at("binance", "BTCUSDT", iv, now);
        let (first, last) = (iv.first_slot(day("2024-05-20")), iv.first_slot(day("2024-05-22")));
        let whole = s.range(first, last, usize::MAX, false);
        assert_eq!(whole, s.range(first, last, usize::MAX, false), "{iv}");
        let one_by_one: Vec<Candle> = (first..=last).filter_map(|x| s.candle(x)).collect();
        assert_eq!(whole, one_by_one, "{iv}");
        let backward = s.range(first, last, usize::MAX, true);
        assert_eq!(whole, backward, "{iv}: newest first, then turned, is the same");
        // Another pair, another path.
        assert_ne!(whole, at("binance", "ETHUSDT", iv, now).range(first, last, usize::MAX, false), "{iv}");
        for c in &whole {
            check_price(&c.price()).unwrap_or_else(|e| panic!("{iv} {c:?}: {e}"));
            assert_eq!(c.at % (iv.minutes() * 60), 0, "{iv}: {c:?} off the interval's edges");
        }
    }
}

#[test]
fn a_day_whose_minutes_all_traded_adds_up_to_its_daily_candle() {
    let mut whole_days = 0;
    let mut d = day("2021-01-01");
    while d < day("2022-01-01") {
        let s = at("binance", "BTCUSDT", M1, minute_of_day(day("2023-01-01")));
        let minutes = s.range(M1.first_slot(d), M1.first_slot(d) + 1439, usize::MAX, false);
        let daily = candle("binance", "BTCUSDT", d).unwrap();
        for c in &minutes {
            assert!(daily.low <= c.low && c.high <= daily.high, "{d}: {c:?} outside {daily:?}");
        }
        if minutes.len() == 1440 {
            whole_days += 1;
            let high = minutes.iter().map(|c| c.high).max().unwrap();
            let low = minutes.iter().map(|c| c.low).min().unwrap();
            let volume: i64 = minutes.iter().map(|c| c.volume).sum();
            let sum = (minutes[0].open, high, low, minutes[1439].close, volume);
            assert_eq!(sum, (daily.open, daily.high, daily.low, daily.close, daily.volume), "{d}");
        }
        d = d.succ_opt().unwrap();
    }
    assert!(whole_days > 0, "no day of 2021 traded every minute");
}

#[test]
fn quiet_minutes_are_rare_fewer_at_longer_intervals_and_more_for_the_gappy_pairs() {
    let now = minute_of_day(day("2023-01-01"));
    let missing = |symbol: &str, iv: Interval| {
        let s = at("binance", symbol, iv, now);
        let (first, last) = (iv.first_slot(day("2022-01-01")), iv.first_slot(day("2022-01-31")) - 1);
        let got = s.range(first, last, usize::MAX, false).len() as i64;
        (last - first + 1 - got) as f64 / (last - first + 1) as f64
    };
    let m1 = missing("BTCUSDT", M1);
    let m5 = missing("BTCUSDT", M5);
    assert!((0.003..0.03).contains(&m1), "{m1} of the minutes of January 2022 have no candle");
    assert!(m5 > 0.0 && m5 < m1, "{m5} of the 5m candles are missing, {m1} of the 1m");
    assert_eq!(missing("BTCUSDT", M15), 0.0, "a quiet run is shorter than 15 minutes");
    assert_eq!(missing("BTCUSDT", H1), 0.0);
    // ZECUSDT has days without trades, and more quiet minutes.
    assert!(missing("ZECUSDT", M1) > 2.0 * m1);
}

#[test]
fn nothing_trades_in_the_maintenance_window_at_any_interval_below_a_day() {
    let d = "2024-03-12";
    assert_eq!(minute_of_day(day(d)) + 180, MAINTENANCE.0, "03:00 UTC");
    assert_eq!(MAINTENANCE.1 - MAINTENANCE.0, 210, "to 06:30 UTC");
    let now = minute_of_day(day("2024-04-01"));
    for iv in Interval::ALL {
        let s = at("coinbase", "BTC-USD", iv, now);
        let rows = s.range(slots(iv, d).start, slots(iv, d).end - 1, usize::MAX, false);
        for c in &rows {
            let (from, to) = (c.at / 60, c.at / 60 + iv.minutes());
            let inside = MAINTENANCE.0 <= from && to <= MAINTENANCE.1;
            assert!(!inside, "{iv}: a candle at {} inside the window", c.at);
        }
        if iv.is_day() {
            assert_eq!(rows.len(), 1, "the day's candle stays");
        }
    }
    let hours: Vec<i64> = at("binance", "BTCUSDT", H1, now)
        .range(slots(H1, d).start, slots(H1, d).end - 1, usize::MAX, false)
        .iter()
        .map(|c| (c.at / 60 - minute_of_day(day(d))) / 60)
        .collect();
    let want: Vec<i64> = (0..24).filter(|h| !(3..6).contains(h)).collect();
    assert_eq!(hours, want, "03:00 to 05:00 have no candle; 06:00 has (06:30 to 07:00 trade)");
}

#[test]
fn a_pair_listed_mid_range_starts_at_its_listing_hour() {
    let listed = listed_at("binance", "DOTUSDT").unwrap();
    let first = day("2020-08-18");
    assert!((minute_of_day(first)..minute_of_day(first) + 1440).contains(&listed));
    assert_eq!(listed % 60, 0, "a whole hour");
    let s = at("binance", "DOTUSDT", H1, minute_of_day(day("2021-01-01")));
    let rows = s.range(0, H1.first_slot(day("2020-08-20")), usize::MAX, false);
    assert_eq!(rows[0].at, listed * 60, "the first 1h candle is the listing hour's");
    let m1 = at("binance", "DOTUSDT", M1, minute_of_day(day("2021-01-01")));
    assert_eq!(m1.range(0, listed - 1, usize::MAX, false), [], "nothing before the listing");
    assert_eq!(m1.first_slot(), Some(listed));
    assert!(candle("binance", "DOTUSDT", first).is_some(), "the listing day's daily candle is there");
}

#[test]
fn the_current_candle_changes_and_closed_ones_do_not() {
    let hour = H1.first_slot(day("2024-06-01")) + 10;
    let minute = hour * 60;
    let early = at("binance", "BTCUSDT", H1, minute + 5);
    let late = at("binance", "BTCUSDT", H1, minute + 50);
    assert_eq!(early.now_slot(), hour);
    let (a, b) = (early.candle(hour).unwrap(), late.candle(hour).unwrap());
    assert_ne!(a, b, "the current candle goes on trading");
    assert!(b.volume > a.volume);
    assert_eq!(early.candle(hour + 1), None, "nothing after now");
    let later = at("binance", "BTCUSDT", H1, minute + 24 * 60 * 3);
    for past in hour - 30..hour {
        assert_eq!(early.candle(past), later.candle(past), "a closed candle is the same later");
        assert!(early.closed(past));
    }
    assert!(!early.closed(hour));
    // The minute in progress: from its open towards its close.
    let s = Series { now_ms: minute * 60_000 + 30_000, ..Series::new("binance", "BTCUSDT", M1) };
    let half = s.candle(minute);
    let whole = at("binance", "BTCUSDT", M1, minute + 1).candle(minute);
    if let (Some(half), Some(whole)) = (half, whole) {
        assert_eq!(half.open, whole.open);
        assert!(half.volume < whole.volume || whole.volume == 0);
    }
}

#[test]
fn a_range_keeps_to_its_limit_from_the_end_asked() {
    let s = at("bitfinex", "tBTCUSD", M1, minute_of_day(day("2024-01-01")));
    let (first, last) = (M1.first_slot(day("2023-06-01")), M1.first_slot(day("2023-06-30")));
    let oldest = s.range(first, last, 1000, false);
    let newest = s.range(first, last, 1000, true);
    assert_eq!((oldest.len(), newest.len()), (1000, 1000));
    assert!(oldest[0].at / 60 - first < 20, "from the first slot (but a quiet run)");
    assert!(last - newest[999].at / 60 < 20, "up to the last slot (but a quiet run)");
    assert!(oldest.windows(2).all(|w| w[0].at < w[1].at) && newest.windows(2).all(|w| w[0].at < w[1].at));
    // Before the listing and after now there is nothing, and asking costs nothing.
    let young = at("bitfinex", "tDOTUSD", M1, minute_of_day(day("2024-01-01")));
    let page = young.range(0, i64::MAX, 1000, false);
    assert_eq!(page[0].at / 60, young.first_slot().unwrap());
    assert_eq!(young.range(i64::MIN / 2, i64::MAX, 3, true).last().unwrap().at / 60, young.now_slot());
}
