//! Days as the command line takes them, and ranges of days.

use anyhow::{bail, Result};
use chrono::NaiveDate;

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

/// Refuses a range whose end comes before its start.
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if to < from {
        bail!(crate::error::Usage(format!(
            "--to {to} is before --from {from}; the range is inclusive, so give --to on or after --from"
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
    fn ranges_are_inclusive_and_ordered() {
        let d = |s| parse_day(s).unwrap();
        assert_eq!(days(d("2020-02-28"), d("2020-03-01")).unwrap().len(), 3); // leap year
        assert_eq!(days(d("2020-03-01"), d("2020-03-01")).unwrap(), vec![d("2020-03-01")]);
        let err = days(d("2020-03-02"), d("2020-03-01")).unwrap_err().to_string();
        assert!(err.contains("before --from"), "{err}");
    }
}
