//! URL and header templates: `{server}/v1/{symbol}?from={first:unix}&apikey={env:KEY}`.
//!
//! A template renders twice: the real text, sent, and the shown text,
//! where every `{env:NAME}` value reads `***`, for errors, `-v` and pages.

use chrono::{Days, NaiveDate, NaiveTime};

use super::answer::segment;
pub use super::secrets::Secrets;
use super::spelling::MASK;

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Server,
    Symbol,
    Exchange,
    Env(String),
    /// The number of days asked for, plus an offset (`{days-1}`).
    Days(i64),
    /// The first or last day asked for, moved by whole days, in a format.
    Day {
        last: bool,
        offset: i64,
        format: DayFormat,
    },
}

/// How a day is written.
#[derive(Debug, Clone, PartialEq)]
enum DayFormat {
    /// 2020-01-02
    Date,
    /// Unix seconds of the day's start.
    Unix,
    /// Milliseconds of the day's start.
    Ms,
    /// 2020-01-02T00:00:00Z
    Iso,
    /// 02-01-2020 (CoinGecko's `date=`)
    Dmy,
    /// 20200102 (Stooq's `d1=`)
    Ymd,
    /// A chrono format, like `%Y/%m/%d`.
    Custom(String),
}

/// Where a rendered value goes: into a URL (percent-encoded) or a header (as is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Into {
    Url,
    Header,
}

/// What a template is rendered with.
pub struct Values<'a> {
    /// `{server}`: the base URL sent, and as shown.
    pub server: &'a Rendered,
    pub symbol: &'a str,
    pub exchange: &'a str,
    pub first: NaiveDate,
    pub last: NaiveDate,
    pub secrets: &'a Secrets,
}

/// A rendered template: what is sent, and what may be shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub real: String,
    pub shown: String,
}

impl Template {
    /// Parses a template; the error says which placeholder is wrong and what to write.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(i) = rest.find(['{', '}']) {
            literal.push_str(&rest[..i]);
            let tail = &rest[i..];
            if tail.starts_with("{{") || tail.starts_with("}}") {
                literal.push_str(&tail[..1]);
                rest = &tail[2..];
                continue;
            }
            if tail.starts_with('}') {
                return Err(format!("a lone '}}' in {text:?}: write '}}}}' for a brace"));
            }
            let end = tail.find('}').ok_or_else(|| format!("a '{{' without its '}}' in {text:?}"))?;
            if !literal.is_empty() {
                parts.push(Part::Text(std::mem::take(&mut literal)));
            }
            parts.push(placeholder(&tail[1..end])?);
            rest = &tail[end + 1..];
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Text(literal));
        }
        Ok(Template { parts })
    }

    /// The environment variables the template names.
    pub fn variables(&self) -> Vec<String> {
        self.parts.iter().filter_map(|p| if let Part::Env(n) = p { Some(n.clone()) } else { None }).collect()
    }

    pub fn has_symbol(&self) -> bool {
        self.parts.contains(&Part::Symbol)
    }

    pub fn has_exchange(&self) -> bool {
        self.parts.contains(&Part::Exchange)
    }

    /// An error naming the first placeholder other than `{env:NAME}` (a
    /// declared `server` takes no other).
    pub fn only_env(&self) -> Result<(), String> {
        if let Some(other) = self.parts.iter().find(|p| !matches!(p, Part::Text(_) | Part::Env(_))) {
            let name = match other {
                Part::Server => "{server}",
                Part::Symbol => "{symbol}",
                Part::Exchange => "{exchange}",
                _ => "a day",
            };
            return Err(format!("{name} has no value here: only {{env:NAME}} may stand in it"));
        }
        Ok(())
    }

    /// The text, with its `{env:NAME}` values, to send and to show.
    pub fn render_env(&self, secrets: &Secrets) -> Result<Rendered, String> {
        self.only_env()?;
        let none = Rendered { real: String::new(), shown: String::new() };
        let day = NaiveDate::MIN;
        let v = Values { server: &none, symbol: "", exchange: "", first: day, last: day, secrets };
        self.render(&v, Into::Url)
    }

    /// Whether the request names its first day and its last (in any form):
    /// an end it does not name is left open, and the answer may run past it.
    pub fn bounds(&self) -> (bool, bool) {
        let names = |which: bool| self.parts.iter().any(|p| matches!(p, Part::Day { last, .. } if *last == which));
        (names(false), names(true))
    }

    /// The text to send and the text to show.
    pub fn render(&self, v: &Values, into: Into) -> Result<Rendered, String> {
        use std::borrow::Cow;
        // Written once per request: each part is pushed where it goes,
        // copied only where the shown text differs (a secret, the server).
        let encode = |s: &'_ str| -> String {
            if into == Into::Url {
                segment(s)
            } else {
                s.to_string()
            }
        };
        let mut out = Rendered { real: String::new(), shown: String::new() };
        for part in &self.parts {
            let (real, shown): (Cow<str>, Option<&str>) = match part {
                Part::Text(t) => (Cow::Borrowed(t.as_str()), None),
                Part::Server => (Cow::Borrowed(v.server.real.as_str()), Some(v.server.shown.as_str())),
                Part::Symbol => (Cow::Owned(encode(v.symbol)), None),
                Part::Exchange => (Cow::Owned(encode(v.exchange)), None),
                Part::Env(name) => {
                    let value = v.secrets.get(name).ok_or_else(|| format!("the variable {name} is not set"))?;
                    (Cow::Owned(encode(value)), Some(MASK))
                }
                Part::Days(offset) => {
                    let days = v.last.signed_duration_since(v.first).num_days() + 1 + offset;
                    (Cow::Owned(days.to_string()), None)
                }
                Part::Day { last, offset, format } => {
                    let day = if *last { v.last } else { v.first };
                    let day = shift(day, *offset).ok_or_else(|| {
                        let unit = if offset.abs() == 1 { "day" } else { "days" };
                        format!("{day} moved by {offset} {unit} is out of range")
                    })?;
                    (Cow::Owned(encode(&write_day(day, format))), None)
                }
            };
            out.shown.push_str(shown.unwrap_or(&real));
            out.real.push_str(&real);
        }
        Ok(out)
    }
}

fn shift(day: NaiveDate, offset: i64) -> Option<NaiveDate> {
    let n = Days::new(offset.unsigned_abs());
    if offset >= 0 {
        day.checked_add_days(n)
    } else {
        day.checked_sub_days(n)
    }
}

fn write_day(day: NaiveDate, format: &DayFormat) -> String {
    let start = day.and_time(NaiveTime::MIN).and_utc();
    match format {
        // Display writes the same as "%Y-%m-%d", without parsing a format each time.
        DayFormat::Date => day.to_string(),
        DayFormat::Unix => start.timestamp().to_string(),
        DayFormat::Ms => start.timestamp_millis().to_string(),
        DayFormat::Iso => start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        DayFormat::Dmy => day.format("%d-%m-%Y").to_string(),
        DayFormat::Ymd => day.format("%Y%m%d").to_string(),
        DayFormat::Custom(f) => start.format(f).to_string(),
    }
}

const PLACEHOLDERS: &str = "{server}, {symbol}, {exchange}, {env:NAME}, {days}, {days-1}, \
     {first:FORMAT}, {last:FORMAT}, {last_end:FORMAT}, {first-1:FORMAT} (FORMAT: date, unix, ms, iso, dmy, ymd or a %-format)";

fn placeholder(inside: &str) -> Result<Part, String> {
    let unknown = || format!("{{{inside}}} is not a placeholder; the placeholders are {PLACEHOLDERS}");
    match inside {
        "server" => return Ok(Part::Server),
        "symbol" => return Ok(Part::Symbol),
        "exchange" => return Ok(Part::Exchange),
        _ => {}
    }
    if let Some(name) = inside.strip_prefix("env:") {
        let ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        return if ok {
            Ok(Part::Env(name.to_string()))
        } else {
            Err(format!("{{{inside}}}: name a variable like {{env:MY_API_KEY}}"))
        };
    }
    let (head, format) = match inside.split_once(':') {
        Some((h, f)) => (h, Some(f)),
        None => (inside, None),
    };
    let (name, offset) = match head.find(['+', '-']) {
        Some(i) => {
            let n: i64 = head[i + 1..].parse().map_err(|_| unknown())?;
            (&head[..i], if &head[i..i + 1] == "-" { -n } else { n })
        }
        None => (head, 0),
    };
    if name == "days" {
        return if format.is_none() {
            Ok(Part::Days(offset))
        } else {
            Err(format!("{{{inside}}}: {{days}} is a number, it takes no format"))
        };
    }
    let (last, offset) = match name {
        "first" => (false, offset),
        "last" => (true, offset),
        "first_end" => (false, offset + 1),
        "last_end" => (true, offset + 1),
        _ => return Err(unknown()),
    };
    let format = match format.unwrap_or("date") {
        "date" => DayFormat::Date,
        "unix" | "s" => DayFormat::Unix,
        "ms" => DayFormat::Ms,
        "iso" => DayFormat::Iso,
        "dmy" => DayFormat::Dmy,
        "ymd" => DayFormat::Ymd,
        f if f.contains('%') => {
            if chrono::format::StrftimeItems::new(f).parse().is_err() {
                return Err(format!("{{{inside}}}: {f:?} is not a valid %-format"));
            }
            DayFormat::Custom(f.to_string())
        }
        f => {
            return Err(format!(
                "{{{inside}}}: {f:?} is not a day format: use date, unix, ms, iso, dmy, ymd or a %-format"
            ))
        }
    };
    Ok(Part::Day { last, offset, format })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn render(t: &str, secrets: &Secrets) -> Rendered {
        let server = Rendered { real: "http://h:1".into(), shown: "http://h:1".into() };
        let v = Values {
            server: &server,
            symbol: "BTC/USD",
            exchange: "x",
            first: day("2020-01-01"),
            last: day("2020-01-03"),
            secrets,
        };
        Template::parse(t).unwrap().render(&v, Into::Url).unwrap()
    }

    #[test]
    fn days_are_written_in_each_form() {
        let s = Secrets::default();
        let r =
            render("{server}/p/{symbol}?a={first}&b={first:unix}&c={last:ms}&d={last_end:ms}&e={days}&f={days-1}", &s);
        assert_eq!(r.real, "http://h:1/p/BTC%2FUSD?a=2020-01-01&b=1577836800&c=1578009600000&d=1578096000000&e=3&f=2");
        let r = render("{first:iso}|{first:dmy}|{last:ymd}|{first-1:unix}|{last+1:date}|{first:%Y.%m}|{{x}}", &s);
        assert_eq!(r.real, "2020-01-01T00%3A00%3A00Z|01-01-2020|20200103|1577750400|2020-01-04|2020.01|{x}");
    }

    #[test]
    fn secrets_are_sent_and_never_shown() {
        let s = Secrets::from_lookup(&["KEY".into()], |_| Some("s3cr3t/+".into())).unwrap();
        let r = render("{server}/q?apikey={env:KEY}&s={symbol}", &s);
        assert_eq!(r.real, "http://h:1/q?apikey=s3cr3t%2F%2B&s=BTC%2FUSD");
        assert_eq!(r.shown, "http://h:1/q?apikey=***&s=BTC%2FUSD");
        assert_eq!(
            s.mask("GET http://h:1/q?apikey=s3cr3t%2F%2B: failed, key s3cr3t/+"),
            "GET http://h:1/q?apikey=***: failed, key ***"
        );
        assert!(!format!("{s:?}").contains("s3cr3t"), "Debug shows names only");
        assert_eq!(
            Secrets::from_lookup(&["A".into(), "B".into()], |n| (n == "A").then(|| "1".into())).unwrap_err(),
            "B"
        );
    }

    #[test]
    fn bad_placeholders_say_what_to_write() {
        for (t, says) in [
            ("{server}/{sym}", "the placeholders are"),
            ("{first:epoch}", "not a day format"),
            ("{days:ms}", "takes no format"),
            ("{env:}", "name a variable"),
            ("{server", "without its '}'"),
            ("a}b", "lone '}'"),
        ] {
            let e = Template::parse(t).unwrap_err();
            assert!(e.contains(says), "{t}: {e}");
        }
    }
}
