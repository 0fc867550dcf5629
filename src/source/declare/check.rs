//! What serde cannot check in a declaration: templates, pointers, the
//! intervals, and the keys that go together.

use std::collections::BTreeMap;

use super::super::secrets::userinfo;
use super::super::template::Template;
use super::{Cap, Declaration, Paging, RowLayout};
use crate::interval::Interval;

/// A key of a declaration that breaks a rule serde cannot check.
#[derive(Debug)]
pub(super) struct Invalid {
    /// Its path in the source's table: `rows.close`, `error[1].at`.
    pub(super) key: String,
    why: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "key `{}`: {}", self.key, self.why)
    }
}

/// Checks what serde cannot: templates, pointers, and the keys that go together.
pub(super) fn validate(d: &Declaration) -> Result<(), Invalid> {
    let key = |k: &str, why: String| Invalid { key: k.to_string(), why };
    if !(d.server.starts_with("http://") || d.server.starts_with("https://")) {
        return Err(key("server", format!("{:?} is not an http:// or https:// URL", d.server)));
    }
    Template::parse(&d.server).and_then(|t| t.only_env()).map_err(|e| key("server", e))?;
    check_userinfo(&d.server).map_err(|e| key("server", e))?;
    let candles = Template::parse(&d.candles).map_err(|e| key("candles", e))?;
    if !d.candles.starts_with("{server}") {
        return Err(key("candles", "start the URL with {server}, which --server replaces".into()));
    }
    if !candles.has_symbol() {
        return Err(key("candles", "the URL must hold {symbol}".into()));
    }
    for (name, value) in &d.headers {
        Template::parse(value).map_err(|e| key(&format!("headers.{name}"), e))?;
    }
    if d.max_days == 0 || (d.rows.one && d.max_days != 1) {
        let why = if d.rows.one { "1: an answer of one row (rows.one) is for one day" } else { "at least 1" };
        return Err(key("max_days", why.into()));
    }
    match (&d.pace, d.per_minute) {
        (Some(_), Some(_)) => return Err(key("pace", "give pace or per_minute, not both".into())),
        (Some(p), None) => {
            humantime::parse_duration(p)
                .map_err(|e| key("pace", format!("{p:?} is not a duration ({e}); write \"1s\" or \"250ms\"")))?;
        }
        (None, Some(0)) => return Err(key("per_minute", "at least 1".into())),
        _ => {}
    }
    if d.history_days == Some(0) {
        return Err(key("history_days", "at least 1, or leave it out".into()));
    }
    for (k, n) in [("max_rows", d.max_rows), ("history_rows", d.history_rows)] {
        if n == Some(0) {
            return Err(key(k, "at least 1, or leave it out".into()));
        }
    }
    if d.cap == Cap::Rows && d.paging != Paging::Forward {
        return Err(key(
            "cap",
            "\"rows\" is for a source paging forward (an answer from the first slot asked, up to max_rows rows); \
             leave it out"
                .into(),
        ));
    }
    validate_intervals(d, &candles).map_err(|(k, e)| key(&k, e))?;
    validate_rows(&d.rows).map_err(|(k, e)| key(&format!("rows.{k}"), e))?;
    d.check_answer_keys().map_err(|(k, e)| key(k, e))?;
    for (i, e) in d.error.iter().enumerate() {
        pointer(&e.at).map_err(|m| key(&format!("error[{i}].at"), m))?;
        if let Some(m) = &e.message {
            pointer(m).map_err(|m| key(&format!("error[{i}].message"), m))?;
        }
    }
    for (k, list) in [("symbols", &d.symbols), ("exchanges", &d.exchanges)] {
        if let Some(l) = list {
            Template::parse(&l.url).map_err(|e| key(&format!("{k}.url"), e))?;
            if userinfo(&l.url).is_some() {
                return Err(key(
                    &format!("{k}.url"),
                    "a user name or password goes in `server`: start the URL with {server}".into(),
                ));
            }
            pointer(&l.names).map_err(|e| key(&format!("{k}.names"), e))?;
        }
    }
    if let Some(w) = &d.used_weight {
        if w.limit == 0 {
            return Err(key("used_weight.limit", "at least 1".into()));
        }
    }
    Ok(())
}

/// The `[intervals]` table and `{interval}` go together: every key an
/// interval, once, spelled somehow.
fn validate_intervals(d: &Declaration, candles: &Template) -> Result<(), (String, String)> {
    let named =
        candles.has_interval() || d.headers.values().any(|h| Template::parse(h).is_ok_and(|t| t.has_interval()));
    if d.intervals.is_empty() {
        if named {
            return Err((
                "intervals".into(),
                "{interval} needs an [NAME.intervals] table saying how the source spells each interval it \
                 serves, like \"1h\" = \"3600\""
                    .into(),
            ));
        }
        return Ok(());
    }
    if !named {
        return Err((
            "intervals".into(),
            "the table says how {interval} is spelled, and the candles URL holds no {interval}: put it where \
             the request names the interval"
                .into(),
        ));
    }
    if d.rows.one {
        return Err(("intervals".into(), "an answer of one row (rows.one) is for one day: 1d only".into()));
    }
    let mut seen: BTreeMap<Interval, &str> = BTreeMap::new();
    for (k, v) in &d.intervals {
        let at = format!("intervals.{k}");
        let i: Interval = k.parse().map_err(|_| {
            (at.clone(), format!("{k:?} is not an interval: the intervals are {}", Interval::list(&Interval::ALL)))
        })?;
        if let Some(other) = seen.insert(i, k) {
            return Err((at, format!("{k:?} is the interval {other:?} is: keep one of them")));
        }
        if v.trim().is_empty() {
            return Err((at, format!("say how the source spells {i}, like \"{i}\"")));
        }
    }
    Ok(())
}

fn validate_rows(r: &RowLayout) -> Result<(), (&'static str, String)> {
    let places = [r.json.is_some(), r.keyed.is_some(), r.csv].iter().filter(|b| **b).count();
    if places != 1 {
        return Err((
            "json",
            "say where the rows are with exactly one of json = \"/pointer\", keyed = \"/pointer\" or csv = true".into(),
        ));
    }
    if let Some(p) = &r.json {
        pointer(p).map_err(|e| ("json", e))?;
    }
    if let Some(p) = &r.keyed {
        pointer(p).map_err(|e| ("keyed", e))?;
    }
    if r.one_member_except.is_some() && r.json.is_none() {
        return Err(("one_member_except", "goes with json = \"/pointer to the object\"".into()));
    }
    match (&r.time, r.keyed.is_some()) {
        (None, false) => {
            return Err(("time", "say which field holds the time: time = 0 or time = \"timestamp\"".into()))
        }
        (Some(_), true) => return Err(("time", "a keyed object's keys are the times: leave time out".into())),
        _ => {}
    }
    super::super::format::check_time_format(&r.time_format).map_err(|e| ("time_format", e))?;
    let ohl = [r.open.is_some(), r.high.is_some(), r.low.is_some()];
    if r.close_only && ohl.iter().any(|b| *b) {
        return Err(("close_only", "a close-only source has no open, high or low: leave them out".into()));
    }
    if !r.close_only && !ohl.iter().all(|b| *b) {
        return Err((
            "open",
            "give open, high and low (or close_only = true for a source with one price a day)".into(),
        ));
    }
    if r.closed.is_some() != r.closed_when.is_some() {
        return Err((
            "closed",
            "give closed (the field) and closed_when (its value for a closed candle) together".into(),
        ));
    }
    Ok(())
}

/// A declaration is kept in the database and shown (`sources`, the page's
/// SQL box): the password of its server, or a user given alone (a token),
/// must be `{env:NAME}`, read from each host's environment, never written in.
fn check_userinfo(url: &str) -> Result<(), String> {
    let Some(info) = userinfo(url) else { return Ok(()) };
    let secret = info.split_once(':').map_or(info, |(_, password)| password);
    let mut literal = secret.to_string();
    while let Some(start) = literal.find("{env:") {
        let end = literal[start..].find('}').map_or(literal.len(), |e| start + e + 1);
        literal.replace_range(start..end, "");
    }
    if literal.is_empty() && !secret.is_empty() {
        return Ok(());
    }
    Err("a password written into a declaration would be stored in the database with it: write it as \
         {env:NAME}, like \"https://ann:{env:MY_PASSWORD}@api.example.com\", and set MY_PASSWORD where \
         pricequeue runs; or give it in --server, which is never stored"
        .into())
}

/// Checks a JSON pointer's shape: empty, or `/` and segments.
fn pointer(p: &str) -> Result<(), String> {
    if p.is_empty() || p.starts_with('/') {
        Ok(())
    } else {
        Err(format!("{p:?} is not a JSON pointer: write \"\" for the whole answer or \"/{p}\""))
    }
}
