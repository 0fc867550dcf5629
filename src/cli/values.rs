//! Parsers of flag values: each refuses what cannot be meant, with a
//! message that says how to write it.

use std::time::Duration;

/// `--synchronous`: how hard SQLite pushes each commit to the disk (the
/// store's [`crate::store::Synchronous`], as the command line names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Synchronous {
    /// Survives a crash of pricequeue; a power loss may undo the last
    /// commits, whose tasks are then simply fetched again.
    #[default]
    Normal,
    /// Survives a power loss too, at the price of an fsync per commit.
    Full,
}

impl From<Synchronous> for crate::store::Synchronous {
    fn from(s: Synchronous) -> crate::store::Synchronous {
        match s {
            Synchronous::Normal => crate::store::Synchronous::Normal,
            Synchronous::Full => crate::store::Synchronous::Full,
        }
    }
}

/// Checks a price API base URL: http or https, with a host. A
/// `user:password@` in it is kept (sent as HTTP Basic authentication) and
/// never repeated: a message shows it masked.
pub fn parse_server(s: &str) -> Result<String, String> {
    let s = s.trim();
    let shown = crate::source::mask_userinfo(s);
    if s.len() > 1000 {
        return Err(format!("the URL is {} bytes long; give the API's base URL, like http://localhost:8080", s.len()));
    }
    let uri: ureq::http::Uri =
        s.parse().map_err(|e| format!("'{shown}' is not a URL ({e}); write it like http://localhost:8080"))?;
    match (uri.scheme_str(), uri.host()) {
        (Some("http" | "https"), Some(host)) if !host.is_empty() => {}
        _ => {
            return Err(format!(
                "'{shown}' is not an http:// or https:// URL with a host; write it like http://localhost:8080"
            ))
        }
    }
    if uri.query().is_some() {
        return Err(format!("'{shown}' has a query string; give the API's base URL, like http://localhost:8080"));
    }
    // Read as a URL, the user-info ends at the first / ? or #: an @ after
    // one is a password's that would be sent and shown as the path's.
    if crate::source::Url::parse(s).shown != shown {
        return Err(format!(
            "'{shown}' has an @ after a /, ? or #: percent-encode a / ? or # in the user name or password \
             (%2F, %3F, %23), or an @ in the path (%40)"
        ));
    }
    Ok(s.trim_end_matches('/').to_string())
}

/// Checks a database location: a file's path, or a PostgreSQL URL. What
/// starts like a PostgreSQL URL (`postgres:`, `postgresql:`) but lacks its
/// `//` would otherwise be taken for a file of that odd name and created.
pub fn parse_db(s: &str) -> Result<std::path::PathBuf, String> {
    let lower = s.trim_start().get(..11).unwrap_or(s).to_ascii_lowercase();
    let scheme = ["postgresql:", "postgres:"].into_iter().find(|p| lower.starts_with(p));
    if let Some(scheme) = scheme {
        if !s.trim_start()[scheme.len()..].starts_with("//") {
            return Err(format!(
                "'{s}' starts like a PostgreSQL URL but is not one: write it {scheme}//user@host/dbname, \
                 like postgres://postgres@127.0.0.1:5432/prices (for a file of that name, write ./{s})"
            ));
        }
    }
    Ok(std::path::PathBuf::from(s))
}

/// A request rate: requests per second, minute or hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Requests per `per`.
    pub n: f64,
    pub per: Duration,
}

impl Rate {
    /// The time between two requests.
    pub fn interval(&self) -> Duration {
        self.per.div_f64(self.n)
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.per.as_secs() {
            1 => "s",
            60 => "min",
            _ => "h",
        };
        write!(f, "{}/{unit}", self.n)
    }
}

/// Parses `--rate`: `5/s`, `100/min`, `0.5/s`, `1000/h`.
pub fn parse_rate(s: &str) -> Result<Rate, String> {
    let bad = |why: &str| format!("'{s}' is not a rate ({why}); write it like 5/s, 100/min or 1000/h");
    let (n, unit) = s.trim().split_once('/').ok_or_else(|| bad("no /"))?;
    let n: f64 = n.trim().parse().map_err(|_| bad("the count is not a number"))?;
    let per = match unit.trim() {
        "s" | "sec" | "second" => Duration::from_secs(1),
        "m" | "min" | "minute" => Duration::from_secs(60),
        "h" | "hour" => Duration::from_secs(3600),
        _ => return Err(bad("the unit is s, min or h")),
    };
    if !n.is_finite() || n <= 0.0 {
        return Err(bad("the count must be above 0"));
    }
    let rate = Rate { n, per };
    if rate.interval() < Duration::from_millis(1) {
        return Err(bad("more than 1000 requests a second"));
    }
    if rate.interval() > Duration::from_secs(86_400) {
        return Err(bad("fewer than one request a day"));
    }
    Ok(rate)
}

/// A request or statement timeout: at least a millisecond.
pub(super) fn parse_timeout(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err(format!("a timeout of {s} lets nothing finish; give at least 1ms"));
    }
    Ok(d)
}

/// A lease: at least a second, or other runs could take tasks between renewals.
pub(super) fn parse_lease(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d < Duration::from_secs(1) {
        return Err(format!("a lease of {s} is too short: renewals could come too late; give 1s or more"));
    }
    Ok(d)
}

/// The longest duration any flag takes: longer is a mistake, and would
/// overflow the clocks it is added to.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 86_400);

/// Parses durations like `250ms`, `30s`, `10m`, `1h 30m`, up to a year.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("'{s}' is not a duration ({e}); write it like 500ms, 30s or 10m"))?;
    if d > MAX_DURATION {
        return Err(format!("'{s}' is longer than a year, the most any duration here may be"));
    }
    Ok(d)
}

/// Where `chart` writes, and so in which format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChartOutput {
    /// `-`: SVG on standard output.
    Stdout,
    /// A file whose name ends in `.svg`.
    Svg(std::path::PathBuf),
    /// A file whose name ends in `.png`.
    Png(std::path::PathBuf),
}

/// Parses `chart --output`: the extension of the file picks the format.
pub fn parse_output(s: &str) -> Result<ChartOutput, String> {
    if s == "-" {
        return Ok(ChartOutput::Stdout);
    }
    let path = std::path::PathBuf::from(s);
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("svg") => Ok(ChartOutput::Svg(path)),
        Some("png") => Ok(ChartOutput::Png(path)),
        _ => Err(format!(
            "'{s}' does not end in .svg or .png, which picks the format; name the file like chart.svg or \
             chart.png, or give - for SVG on standard output"
        )),
    }
}

/// Parses `chart --size`: `WIDTHxHEIGHT` in pixels, like `960x480`.
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = |why: &str| format!("'{s}' is not a size ({why}); write it as WIDTHxHEIGHT in pixels, like 960x480");
    let (width, height) = s.trim().split_once(['x', 'X']).ok_or_else(|| bad("no x between width and height"))?;
    let number = |n: &str| n.trim().parse::<u32>().map_err(|_| bad("not whole numbers"));
    let size = (number(width)?, number(height)?);
    crate::report::chart::check_size(size).map_err(|e| e.to_string())?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_rates_are_bounded() {
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("1000000000years").unwrap_err().contains("longer than a year"));
        assert!(parse_duration("366days").is_err());
        assert!(parse_timeout("0s").unwrap_err().contains("at least 1ms"));
        assert_eq!(parse_rate("5/s").unwrap().interval(), Duration::from_millis(200));
        assert_eq!(parse_rate("120/min").unwrap().interval(), Duration::from_millis(500));
        assert_eq!(parse_rate(" 0.5 / s ").unwrap().interval(), Duration::from_secs(2));
        for bad in ["5", "0/s", "-1/s", "inf/s", "NaN/s", "5/day", "2000/s", "1/h/h"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_chart_is_written_as_its_file_name_says_in_a_size_that_fits() {
        assert_eq!(parse_output("-"), Ok(ChartOutput::Stdout));
        assert_eq!(parse_output("out/btc.SVG"), Ok(ChartOutput::Svg("out/btc.SVG".into())));
        assert_eq!(parse_output("btc.png"), Ok(ChartOutput::Png("btc.png".into())));
        for bad in ["btc.jpg", "btc", "svg", ".svg.txt"] {
            assert!(parse_output(bad).unwrap_err().contains("does not end in .svg or .png"), "{bad}");
        }
        assert_eq!(parse_size("960x480"), Ok((960, 480)));
        assert_eq!(parse_size(" 1200X600 "), Ok((1200, 600)));
        assert!(parse_size("960").unwrap_err().contains("like 960x480"));
        assert!(parse_size("-5x480").unwrap_err().contains("not whole numbers"));
        assert!(parse_size("10x10").unwrap_err().contains("cannot be drawn"));
    }
}
