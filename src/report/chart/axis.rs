//! The days the x axis names: as many as fit, at steps a reader expects
//! (days, weeks, month starts, year starts).

use chrono::{Datelike, Months, NaiveDate};

/// How wide one day label ("2020-03-01") is given, room around it included.
pub(super) const LABEL_WIDTH: u32 = 90;

/// At most `max` days from `from` to `to` to label: every day, every 2nd,
/// 7th or 14th day from `from`, or the first days of every 1, 2, 3 or 6
/// months, or of every 1, 2, 5, 10, 20 or 50 years, the finest that fits.
pub(super) fn ticks(from: NaiveDate, to: NaiveDate, max: usize) -> Vec<NaiveDate> {
    let max = max.max(1);
    for step in [1, 2, 7, 14] {
        let days: Vec<NaiveDate> = from.iter_days().step_by(step).take_while(|d| *d <= to).take(max + 1).collect();
        if days.len() <= max {
            return days;
        }
    }
    for months in [1, 2, 3, 6, 12, 24, 60, 120, 240, 600] {
        let days = starts(from, to, months, max);
        if days.len() <= max {
            return days;
        }
    }
    vec![from]
}

/// The first days of months from `from` to `to`, every `months` months
/// (counted from January, so a step of 3 falls on quarters), at most
/// `max + 1` of them.
fn starts(from: NaiveDate, to: NaiveDate, months: u32, max: usize) -> Vec<NaiveDate> {
    let index = |d: NaiveDate| (d.year() * 12) as i64 + i64::from(d.month0());
    let first = index(from) + i64::from(from.day() != 1);
    let first = (first + i64::from(months) - 1).div_euclid(i64::from(months)) * i64::from(months);
    let Some(base) = NaiveDate::from_ymd_opt(first.div_euclid(12) as i32, first.rem_euclid(12) as u32 + 1, 1) else {
        return Vec::new();
    };
    (0..)
        .map_while(|k: u32| base.checked_add_months(Months::new(k.checked_mul(months)?)))
        .take_while(|d| *d <= to)
        .take(max + 1)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_short_range_names_every_day_a_long_one_steps_by_weeks_months_or_years() {
        let days = ticks(d("2020-03-01"), d("2020-03-05"), 10);
        assert_eq!(days.len(), 5);
        assert_eq!(ticks(d("2020-03-01"), d("2020-03-31"), 10)[..2], [d("2020-03-01"), d("2020-03-08")]);
        assert_eq!(
            ticks(d("2020-01-15"), d("2020-12-31"), 10)[..3],
            [d("2020-03-01"), d("2020-05-01"), d("2020-07-01")],
            "every 2 months, from the first whole month"
        );
        let years = ticks(d("2013-04-24"), d("2020-12-08"), 10);
        assert_eq!(years.first(), Some(&d("2014-01-01")));
        assert!(years.len() <= 10 && years.iter().all(|t| t.month() == 1 && t.day() == 1), "{years:?}");
        assert_eq!(ticks(d("2020-03-01"), d("2020-03-01"), 0), [d("2020-03-01")]);
    }
}
