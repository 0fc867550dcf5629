//! URL and header templates: `{server}/v1/{symbol}?from={first:unix}&apikey={env:KEY}`.
//!
//! A template renders twice: the real text, sent, and the shown text,
//! where every `{env:NAME}` value reads `***`, for errors, `-v` and pages.
//!
//! A request asks for consecutive candles (slots) at one interval: at `1d`
//! they are days, and `{first}`, `{last}` and `{days}` are what they have
//! always been. Below a day, `{first:ms}` is the first candle's open,
//! `{last_end:ms}` the last one's close, `{first-1:...}` one candle
//! earlier, `{days}` (or `{count}`) the number of candles, and
//! `{interval}` the interval as the source spells it (its `[NAME.intervals]`).

use chrono::DateTime;

use crate::interval::Interval;

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
    /// The number of candles (days at `1d`) asked for, plus an offset (`{days-1}`).
    Days(i64),
    /// The interval, as the declaration's `[NAME.intervals]` spells it.
    Interval,
    /// The open of the first or last candle asked for, moved by whole
    /// candles (`offset`) and then by `seconds` (`{last_end-1s:iso}`: the
    /// last second of the last candle), in a format.
    Day {
        last: bool,
        offset: i64,
        seconds: i64,
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
    /// The interval asked for, and how the source spells it (`{interval}`).
    pub interval: Interval,
    pub spelled: &'a str,
    /// The first and last slot asked for, at `interval`.
    pub first: i64,
    pub last: i64,
    /// At most this many rows are asked for (`{count}`, `{days}`): the
    /// slots from `first` to `last`, or fewer where the source caps the
    /// rows of an answer but not the range (`cap = "rows"`).
    pub rows: Option<i64>,
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

    pub fn has_interval(&self) -> bool {
        self.parts.contains(&Part::Interval)
    }

    /// An error naming the first placeholder other than `{env:NAME}` (a
    /// declared `server` takes no other).
    pub fn only_env(&self) -> Result<(), String> {
        if let Some(other) = self.parts.iter().find(|p| !matches!(p, Part::Text(_) | Part::Env(_))) {
            let name = match other {
                Part::Server => "{server}",
                Part::Symbol => "{symbol}",
                Part::Exchange => "{exchange}",
                Part::Interval => "{interval}",
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
        let v = Values {
            server: &none,
            symbol: "",
            exchange: "",
            interval: Interval::D1,
            spelled: "",
            first: 0,
            last: 0,
            rows: None,
            secrets,
        };
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
                    let slots = v.last - v.first + 1;
                    (Cow::Owned((v.rows.map_or(slots, |r| r.min(slots)) + offset).to_string()), None)
                }
                Part::Interval => (Cow::Owned(encode(v.spelled)), None),
                Part::Day { last, offset, seconds, format } => {
                    let slot = if *last { v.last } else { v.first };
                    let at = slot
                        .checked_add(*offset)
                        .and_then(|s| s.checked_mul(v.interval.ms()))
                        .and_then(|ms| ms.checked_add(seconds.checked_mul(1000)?))
                        .and_then(DateTime::from_timestamp_millis)
                        .ok_or_else(|| {
                            let unit = if offset.abs() == 1 { "candle" } else { "candles" };
                            format!("the {} candle asked moved by {offset} {unit} is out of range", v.interval)
                        })?;
                    (Cow::Owned(encode(&write_day(at, format))), None)
                }
            };
            out.shown.push_str(shown.unwrap_or(&real));
            out.real.push_str(&real);
        }
        Ok(out)
    }
}

/// A time as `format` writes it; the date forms write the day it falls in.
fn write_day(start: DateTime<chrono::Utc>, format: &DayFormat) -> String {
    let day = start.date_naive();
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

const PLACEHOLDERS: &str = "{server}, {symbol}, {exchange}, {env:NAME}, {interval}, {days}, {count}, {days-1}, \
     {first:FORMAT}, {last:FORMAT}, {last_end:FORMAT}, {first-1:FORMAT}, {last_end-1s:FORMAT} \
     (FORMAT: date, unix, ms, iso, dmy, ymd or a %-format)";

fn placeholder(inside: &str) -> Result<Part, String> {
    let unknown = || format!("{{{inside}}} is not a placeholder; the placeholders are {PLACEHOLDERS}");
    match inside {
        "server" => return Ok(Part::Server),
        "symbol" => return Ok(Part::Symbol),
        "exchange" => return Ok(Part::Exchange),
        "interval" => return Ok(Part::Interval),
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
    // An offset in candles (`-1`), or in seconds (`-1s`).
    let (name, offset, seconds) = match head.find(['+', '-']) {
        Some(i) => {
            let (number, in_seconds) = match head[i + 1..].strip_suffix('s') {
                Some(n) => (n, true),
                None => (&head[i + 1..], false),
            };
            let n: i64 = number.parse().map_err(|_| unknown())?;
            let n = if &head[i..i + 1] == "-" { -n } else { n };
            if in_seconds {
                (&head[..i], 0, n)
            } else {
                (&head[..i], n, 0)
            }
        }
        None => (head, 0, 0),
    };
    if name == "days" || name == "count" {
        return match (format, seconds) {
            (None, 0) => Ok(Part::Days(offset)),
            (None, _) => Err(format!("{{{inside}}}: {{{name}}} is a number of candles, moved by candles, not seconds")),
            _ => Err(format!("{{{inside}}}: {{{name}}} is a number, it takes no format")),
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
    Ok(Part::Day { last, offset, seconds, format })
}

#[cfg(test)]
mod tests;
