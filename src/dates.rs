//! Days as the command line takes them, and ranges of days.

use anyhow::{bail, Result};
use chrono::{Datelike, Duration, NaiveDate};

/// What a day written on the command line stands for: one day, or a whole
/// month or year. `--from` takes its first day, `--to` its last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Span {
    fn day(d: NaiveDate) -> Span {
        Span { first: d, last: d }
    }
}

/// Parses a day as people write them, for clap: `2020-03-01`, `2020-03`
/// (the whole month), `2020` (the whole year), `today`, `yesterday`, or a
/// day counted back from today: `-7d` (seven days ago), `-2w` (two weeks),
/// `-6m` (six months) or `-3y` (three years). Today is the UTC date.
pub fn parse_span(s: &str) -> Result<Span, String> {
    parse_span_at(s, chrono::Utc::now().date_naive())
}

/// [`parse_span`] with the day it is read on.
pub fn parse_span_at(s: &str, today: NaiveDate) -> Result<Span, String> {
    let t = s.trim();
    let bad = |why: &str| {
        format!(
            "'{s}' is not a day ({why}); write YYYY-MM-DD (2020-03-01), YYYY-MM (a month), YYYY (a year), \
             today, yesterday, or -Nd, -Nw, -Nm, -Ny (N days, weeks, months or years ago)"
        )
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    match t {
        "today" => return Ok(Span::day(today)),
        "yesterday" => return Ok(Span::day(today - Duration::days(1))),
        _ => {}
    }
    if let Some(ago) = t.strip_prefix('-') {
        return days_ago(ago, today).map(Span::day).map_err(|why| bad(&why));
    }
    let parts: Vec<&str> = t.split('-').collect();
    match parts[..] {
        [y] if y.len() == 4 && digits(y) => {
            let year: i32 = y.parse().map_err(|_| bad("not a year"))?;
            let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| bad("not a year"))?;
            let last = NaiveDate::from_ymd_opt(year, 12, 31).ok_or_else(|| bad("not a year"))?;
            Ok(Span { first, last })
        }
        [y, m] if y.len() == 4 && m.len() == 2 && digits(y) && digits(m) => {
            let (year, month): (i32, u32) =
                (y.parse().map_err(|_| bad("not a month"))?, m.parse().map_err(|_| bad("not a month"))?);
            let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| bad("no such month"))?;
            let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1) } else { first.with_month(month + 1) };
            let last = next.ok_or_else(|| bad("no such month"))? - Duration::days(1);
            Ok(Span { first, last })
        }
        // The input as given, so that the error quotes what the user wrote.
        [_, _, _] => parse_day(s).map(Span::day),
        _ => Err(bad("not in any of these forms")),
    }
}

/// The day `ago` (like `7d`, `2w`, `6m`, `3y`) before `today`. A month or
/// a year back from a day its month lacks (the 31st, the 29th of February)
/// is the last day of that month, as people count: `-1m` on 31 March is
/// 29 February in a leap year.
fn days_ago(ago: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let unit = ago.chars().last().ok_or("-N takes a unit: d, w, m or y")?;
    let (count, per) = match unit {
        'd' => ("days", 1),
        'w' => ("weeks", 7),
        'm' => ("months", 0),
        'y' => ("years", 0),
        _ => return Err("-N takes a unit: d (days), w (weeks), m (months) or y (years)".into()),
    };
    // At most about a hundred years back, as the longest range is.
    let most = match unit {
        'd' => 100_000,
        'w' => 100_000 / 7,
        'm' => 12 * 300,
        _ => 300,
    };
    let digits = &ago[..ago.len() - 1];
    let n: u32 = Some(digits)
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .filter(|n| *n <= most)
        .ok_or_else(|| format!("-N{unit} takes a whole number of {count}, at most {most}"))?;
    let months = match unit {
        'm' => Some(n),
        'y' => Some(12 * n),
        _ => None,
    };
    match months {
        Some(m) => today.checked_sub_months(chrono::Months::new(m)),
        None => today.checked_sub_signed(Duration::days(i64::from(n) * per)),
    }
    .ok_or_else(|| format!("{n} {count} before {today} is not a day this program can count"))
}

/// Parses a day written `YYYY-MM-DD`, for clap.
pub fn parse_day(s: &str) -> Result<NaiveDate, String> {
    let t = s.trim();
    // chrono's %Y also takes "+12020" and "20200": insist on the plain form.
    let shaped = t.len() == 10
        && t.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    let why = if shaped {
        match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(day) => return Ok(day),
            Err(e) => e.to_string(),
        }
    } else {
        "not in the form YYYY-MM-DD".to_string()
    };
    Err(format!("'{s}' is not a day ({why}); write days as YYYY-MM-DD, like 2020-03-01"))
}

/// Every day from `from` to `to`, both included; an error names a reversed range.
pub fn days(from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>> {
    check_range(from, to)?;
    Ok(from.iter_days().take_while(|d| *d <= to).collect())
}

/// The longest range of days a command takes: longer is a typo, and
/// would queue hundreds of millions of tasks.
pub const MAX_DAYS: i64 = 100 * 366;

/// Refuses a range whose end comes before its start, or that is absurdly long.
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from {
        bail!(crate::error::Usage(format!(
            "--to {to} is before --from {from}; the range is inclusive, so give --to on or after --from"
        )));
    }
    let days = (to - from).num_days() + 1;
    if days > MAX_DAYS {
        bail!(crate::error::Usage(format!(
            "--from {from} --to {to} is {days} days, more than a hundred years; is one of them a typo?"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iso_days_and_names_bad_ones() {
        assert_eq!(parse_day("2020-03-01"), Ok(NaiveDate::from_ymd_opt(2020, 3, 1).unwrap()));
        let err = parse_day("2020-02-30").unwrap_err();
        assert!(err.contains("'2020-02-30' is not a day"), "{err}");
        assert!(parse_day("03/01/2020").is_err());
        assert!(parse_day("+12020-01-01").is_err());
        assert!(parse_day("2020-3-1").is_err());
    }

    #[test]
    fn spans_cover_days_months_years_and_relative_days() {
        let today = NaiveDate::from_ymd_opt(2024, 3, 10).unwrap();
        let d = |s| parse_day(s).unwrap();
        let span = |s| parse_span_at(s, today).unwrap();
        assert_eq!(span("2020-03-05"), Span { first: d("2020-03-05"), last: d("2020-03-05") });
        assert_eq!(span("2020-02"), Span { first: d("2020-02-01"), last: d("2020-02-29") });
        assert_eq!(span("2019-12"), Span { first: d("2019-12-01"), last: d("2019-12-31") });
        assert_eq!(span("2020"), Span { first: d("2020-01-01"), last: d("2020-12-31") });
        assert_eq!(span("today").first, today);
        assert_eq!(span("yesterday").first, d("2024-03-09"));
        assert_eq!(span("-7d").first, d("2024-03-03"));
        assert_eq!(span("-0d").first, today);
        for bad in [
            "2020-13",
            "2020-1",
            "20",
            "-7",
            "7d",
            "-xd",
            "tomorrow",
            "2020-02-30",
            "-3q",
            "-",
            "--3y",
            "-1.5y",
            "-+3y",
            "-y",
        ] {
            let err = parse_span_at(bad, today).unwrap_err();
            assert!(err.contains(&format!("'{bad}' is not a day")), "{bad}: {err}");
        }
        assert!(parse_span_at("2020-13", today).unwrap_err().contains("YYYY-MM (a month)"));
        // The error quotes what was written, spaces and all (found by the `dates` fuzz target).
        assert!(parse_span_at(" 2020-02-30", today).unwrap_err().contains("' 2020-02-30'"));
    }

    #[test]
    fn weeks_months_and_years_count_back_as_people_do() {
        let d = |s| parse_day(s).unwrap();
        let ago = |s, today| parse_span_at(s, d(today)).unwrap();
        assert_eq!(ago("-3y", "2024-03-10"), Span { first: d("2021-03-10"), last: d("2021-03-10") });
        assert_eq!(ago("-6m", "2024-03-10").first, d("2023-09-10"));
        assert_eq!(ago("-2w", "2024-03-10").first, d("2024-02-25"));
        assert_eq!(ago("-0y", "2024-03-10").first, d("2024-03-10"));
        assert_eq!(ago("-18m", "2024-03-10").first, d("2022-09-10"));
        // A day the month lacks is its last day.
        assert_eq!(ago("-1m", "2024-03-31").first, d("2024-02-29"));
        assert_eq!(ago("-1m", "2023-03-31").first, d("2023-02-28"));
        assert_eq!(ago("-1y", "2024-02-29").first, d("2023-02-28"));
        assert_eq!(ago("-4y", "2024-02-29").first, d("2020-02-29"));
        // The error says which units there are, and the bounds.
        let err = parse_span_at("-3q", d("2024-03-10")).unwrap_err();
        assert!(err.contains("'-3q' is not a day") && err.contains("y (years)"), "{err}");
        let err = parse_span_at("-301y", d("2024-03-10")).unwrap_err();
        assert!(err.contains("at most 300"), "{err}");
    }

    #[test]
    fn ranges_are_inclusive_and_ordered() {
        let d = |s| parse_day(s).unwrap();
        assert_eq!(days(d("2020-02-28"), d("2020-03-01")).unwrap().len(), 3); // leap year
        assert_eq!(days(d("2020-03-01"), d("2020-03-01")).unwrap(), vec![d("2020-03-01")]);
        let err = days(d("2020-03-02"), d("2020-03-01")).unwrap_err().to_string();
        assert!(err.contains("before --from"), "{err}");
        let err = check_range(d("0001-01-01"), d("9999-12-31")).unwrap_err().to_string();
        assert!(err.contains("more than a hundred years"), "{err}");
        assert!(check_range(d("1970-01-01"), d("2069-12-31")).is_ok());
    }
}
