//! The span of time one column stands for, and which column a day falls in.

use chrono::{Datelike, NaiveDate};

/// The span of time one column stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// Calendar months, `n` at a time, aligned on year 0 (so 3 months are
    /// quarters, 12 a year, 120 a decade).
    Months(u32),
}

impl Bucket {
    /// The finest bucket that draws `from..=to` in at most `room` columns.
    /// Past months come 2, 3 and 6 months, then 1, 2, 5, 10, 20... years,
    /// so any range fits.
    pub fn choose(from: NaiveDate, to: NaiveDate, room: usize) -> Bucket {
        let room = room.max(2) as i64; // two buckets hold any range of one bucket's length
        let mut bucket = Bucket::Day;
        while bucket.columns(from, to) as i64 > room {
            bucket = bucket.coarser();
        }
        bucket
    }

    fn coarser(self) -> Bucket {
        match self {
            Bucket::Day => Bucket::Week,
            Bucket::Week => Bucket::Months(1),
            Bucket::Months(n @ (1 | 2)) => Bucket::Months(n + 1),
            Bucket::Months(n @ (3 | 6)) => Bucket::Months(n * 2),
            // Years in a 1, 2, 5 series.
            Bucket::Months(n) => {
                let years = (n / 12).max(1);
                let lead = years / 10u32.pow(years.ilog10());
                let next = if lead == 2 { years / 2 * 5 } else { years.saturating_mul(2) };
                Bucket::Months(next.saturating_mul(12))
            }
        }
    }

    /// The number of the bucket holding `day`, counted from some fixed
    /// origin: consecutive buckets have consecutive numbers.
    pub fn index(self, day: NaiveDate) -> i64 {
        match self {
            Bucket::Day => day.num_days_from_ce().into(),
            // Day 1 of the common era was a Monday.
            Bucket::Week => (i64::from(day.num_days_from_ce()) - 1).div_euclid(7),
            Bucket::Months(n) => (i64::from(day.year()) * 12 + i64::from(day.month0())).div_euclid(n.into()),
        }
    }

    /// How many columns `from..=to` takes.
    pub fn columns(self, from: NaiveDate, to: NaiveDate) -> usize {
        (self.index(to) - self.index(from) + 1).max(0) as usize
    }

    /// "one column per day", "... per 3 months", "... per 2 years".
    pub fn describe(self) -> String {
        match self {
            Bucket::Day => "one column per day".into(),
            Bucket::Week => "one column per ISO week (Monday to Sunday)".into(),
            Bucket::Months(1) => "one column per month".into(),
            Bucket::Months(12) => "one column per year".into(),
            Bucket::Months(n) if n % 12 == 0 => format!("one column per {} years", n / 12),
            Bucket::Months(n) => format!("one column per {n} months"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::coverage::test_day as d;

    #[test]
    fn weeks_run_monday_to_sunday() {
        // 2020-03-01 was a Sunday, 2020-03-02 a Monday.
        assert_eq!(Bucket::Week.columns(d("2020-03-01"), d("2020-03-02")), 2);
        assert_eq!(Bucket::Week.columns(d("2020-03-02"), d("2020-03-08")), 1);
        assert_eq!(Bucket::Week.columns(d("2020-03-01"), d("2020-03-31")), 6);
        assert_eq!(Bucket::Months(1).columns(d("2019-12-31"), d("2020-01-01")), 2);
        assert_eq!(Bucket::Months(3).columns(d("2020-01-01"), d("2020-12-31")), 4);
        assert_eq!(Bucket::Months(12).columns(d("2013-04-24"), d("2020-12-08")), 8);
    }

    #[test]
    fn the_finest_bucket_that_fits_is_chosen() {
        assert_eq!(Bucket::choose(d("2020-03-01"), d("2020-03-31"), 31), Bucket::Day);
        assert_eq!(Bucket::choose(d("2020-03-01"), d("2020-03-31"), 30), Bucket::Week);
        assert_eq!(Bucket::choose(d("2020-01-01"), d("2020-12-31"), 80), Bucket::Week);
        assert_eq!(Bucket::choose(d("2019-01-01"), d("2020-12-31"), 80), Bucket::Months(1));
        assert_eq!(Bucket::choose(d("2013-04-24"), d("2020-12-08"), 60), Bucket::Months(2));
        assert_eq!(Bucket::choose(d("2013-04-24"), d("2020-12-08"), 20), Bucket::Months(6));
        // Past years: 2, 5, 10... years a column.
        let (from, to) = (d("1900-01-01"), d("2020-12-31"));
        assert_eq!(Bucket::choose(from, to, 100), Bucket::Months(24));
        assert_eq!(Bucket::choose(from, to, 20), Bucket::Months(120));
        assert!(Bucket::Months(120).columns(from, to) <= 20);
        assert_eq!(Bucket::Months(120).describe(), "one column per 10 years");
        let (from, to) = (NaiveDate::MIN, NaiveDate::MAX);
        assert!(Bucket::choose(from, to, 12).columns(from, to) <= 12);
    }
}
