//! The interval of a candle: one minute to one day, as `--interval`, the
//! `tasks.interval` column and every declaration spell it (`1m`, `1h`,
//! `1d`). Every interval divides a UTC day, and the Unix epoch starts one,
//! so a candle's slot is its open time divided by the interval: no
//! calendar is needed below a day.

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// A candle's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Interval {
    M1,
    M3,
    M5,
    M15,
    M30,
    H1,
    H2,
    H3,
    H4,
    H6,
    H8,
    H12,
    /// A UTC day: what pricequeue stored before candles below a day, and
    /// the default everywhere.
    #[default]
    D1,
}

impl Interval {
    /// Every interval, shortest first.
    pub const ALL: [Interval; 13] = [
        Interval::M1,
        Interval::M3,
        Interval::M5,
        Interval::M15,
        Interval::M30,
        Interval::H1,
        Interval::H2,
        Interval::H3,
        Interval::H4,
        Interval::H6,
        Interval::H8,
        Interval::H12,
        Interval::D1,
    ];

    /// Minutes one candle spans.
    pub const fn minutes(self) -> i64 {
        match self {
            Interval::M1 => 1,
            Interval::M3 => 3,
            Interval::M5 => 5,
            Interval::M15 => 15,
            Interval::M30 => 30,
            Interval::H1 => 60,
            Interval::H2 => 120,
            Interval::H3 => 180,
            Interval::H4 => 240,
            Interval::H6 => 360,
            Interval::H8 => 480,
            Interval::H12 => 720,
            Interval::D1 => 1440,
        }
    }

    /// Milliseconds one candle spans.
    pub const fn ms(self) -> i64 {
        self.minutes() * 60_000
    }

    /// How the interval is written: `1m`, `4h`, `1d`.
    pub const fn name(self) -> &'static str {
        match self {
            Interval::M1 => "1m",
            Interval::M3 => "3m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
            Interval::H2 => "2h",
            Interval::H3 => "3h",
            Interval::H4 => "4h",
            Interval::H6 => "6h",
            Interval::H8 => "8h",
            Interval::H12 => "12h",
            Interval::D1 => "1d",
        }
    }

    /// Candles in a UTC day: 1440 at `1m`, 1 at `1d`.
    pub const fn per_day(self) -> i64 {
        1440 / self.minutes()
    }

    /// Whether this is the day itself (`1d`), whose candles are `prices`.
    pub const fn is_day(self) -> bool {
        matches!(self, Interval::D1)
    }

    /// The slot a time (ms since the epoch) falls in: its candle's number
    /// since the epoch.
    pub const fn slot_of_ms(self, ms: i64) -> i64 {
        ms.div_euclid(self.ms())
    }

    /// When slot `slot` opens, in ms since the epoch.
    pub const fn slot_start_ms(self, slot: i64) -> i64 {
        slot * self.ms()
    }

    /// The first slot of a UTC day.
    pub fn first_slot(self, day: NaiveDate) -> i64 {
        self.slot_of_ms(day.and_time(NaiveTime::MIN).and_utc().timestamp_millis())
    }

    /// The slots of a UTC day, in order.
    pub fn day_slots(self, day: NaiveDate) -> std::ops::Range<i64> {
        let first = self.first_slot(day);
        first..first + self.per_day()
    }

    /// The UTC day slot `slot` falls in.
    pub fn day_of_slot(self, slot: i64) -> NaiveDate {
        let days = (slot * self.minutes()).div_euclid(1440);
        NaiveDate::from_num_days_from_ce_opt((days + 719_163) as i32).unwrap_or(NaiveDate::MAX)
    }

    /// The names, as an error lists them: "1m, 3m, ..., 1d".
    pub fn list(intervals: &[Interval]) -> String {
        intervals.iter().map(|i| i.name()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl FromStr for Interval {
    type Err = String;

    /// `1m` to `1d` as listed; `60m`, `24h` and upper-case letters too
    /// (`1H`, `1D`, as some APIs write them), read as the same interval.
    fn from_str(s: &str) -> Result<Interval, String> {
        let t = s.trim();
        let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
        let n: i64 = digits.parse().unwrap_or(0);
        let minutes = match unit.to_ascii_lowercase().as_str() {
            "m" | "min" => Some(n),
            "h" => Some(n * 60),
            "d" => Some(n * 1440),
            _ => None,
        };
        minutes
            .and_then(|m| Interval::ALL.into_iter().find(|i| i.minutes() == m))
            .ok_or_else(|| format!("{s:?} is not an interval: write one of {}", Interval::list(&Interval::ALL)))
    }
}

impl TryFrom<String> for Interval {
    type Error = String;
    fn try_from(s: String) -> Result<Interval, String> {
        s.parse()
    }
}

impl From<Interval> for String {
    fn from(i: Interval) -> String {
        i.name().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_interval_reads_back_from_its_name_and_divides_a_day() {
        for i in Interval::ALL {
            assert_eq!(i.name().parse::<Interval>(), Ok(i));
            assert_eq!(1440 % i.minutes(), 0, "{i}");
            assert_eq!(i.per_day() * i.minutes(), 1440, "{i}");
        }
        assert_eq!("60m".parse(), Ok(Interval::H1));
        assert_eq!("1D".parse(), Ok(Interval::D1));
        assert_eq!("24h".parse(), Ok(Interval::D1));
        let e = "7m".parse::<Interval>().unwrap_err();
        assert!(e.contains("\"7m\" is not an interval") && e.contains("1m, 3m, 5m"), "{e}");
        assert!(
            "1w".parse::<Interval>().is_err() && "".parse::<Interval>().is_err() && "m".parse::<Interval>().is_err()
        );
    }

    #[test]
    fn slots_map_to_their_day_and_back() {
        let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
        for i in Interval::ALL {
            let slots = i.day_slots(day);
            assert_eq!(slots.end - slots.start, i.per_day());
            assert_eq!(i.day_of_slot(slots.start), day, "{i}");
            assert_eq!(i.day_of_slot(slots.end - 1), day, "{i}");
            assert_eq!(i.day_of_slot(slots.end), day.succ_opt().unwrap(), "{i}");
            assert_eq!(i.slot_of_ms(i.slot_start_ms(slots.start) + i.ms() - 1), slots.start);
        }
        assert_eq!(Interval::D1.first_slot(NaiveDate::from_ymd_opt(1970, 1, 2).unwrap()), 1);
        assert_eq!(Interval::M1.day_of_slot(-1), NaiveDate::from_ymd_opt(1969, 12, 31).unwrap());
    }
}
