//! The source engine: any JSON or CSV price API, spoken from its
//! declaration. One request per batch of days (sent and classified in
//! `wire.rs`); its answer read by `rows`, proved by `prove`.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use super::answer::{parse_retry_after, BadPrice};
use super::declare::{Declaration, List, Order, Paging, WEIGHT_MARGIN};
use super::http::{agent, classify_status, classify_transport, mask_error, unauthorized};
use super::one;
use super::prove::{prove, Asked, Invalid};
use super::rows::{self, text, Unreadable};
use super::secrets::{Credentials, Url};
use super::template::{Into, Rendered, Secrets, Template, Values};
use super::{Answer, DayAnswer, FetchError, PriceSource, Timeouts, Unproven};

mod wire;

use wire::Request;

/// Bytes accepted in one answer unless the declaration says (`body_limit`):
/// 1000 daily rows of Binance are ~200 KB; anything near this is a broken
/// server, not data.
const BODY_LIMIT: u64 = 8 << 20;

/// The longest request URL sent.
const MAX_URL: usize = 3000;

/// A price API spoken from its declaration.
pub struct DeclaredSource {
    name: String,
    decl: Declaration,
    /// `{server}`: the base URL sent (its user-info taken out) and as shown.
    base: Rendered,
    /// The base URL's user-info, sent as HTTP Basic authentication.
    credentials: Option<Credentials>,
    agent: ureq::Agent,
    timeouts: Timeouts,
    secrets: Secrets,
    candles: Template,
    headers: Vec<(String, Template)>,
    /// The declaration has no `{exchange}`: the source is one exchange, named after it.
    one_exchange: bool,
    /// `base` is the declared address, not one --server gave.
    own_address: bool,
}

impl DeclaredSource {
    /// The source `name` as `decl` says, at `server` (or the declared one),
    /// with the values of its environment variables in `secrets`. A
    /// `user:password@` in the server's URL is sent as HTTP Basic authentication.
    pub fn new(
        name: &str,
        decl: &Declaration,
        server: Option<&str>,
        timeouts: Timeouts,
        connections: usize,
        mut secrets: Secrets,
    ) -> Result<DeclaredSource, String> {
        let candles = Template::parse(&decl.candles).map_err(|e| format!("{name}: candles: {e}"))?;
        let headers = decl
            .headers
            .iter()
            .map(|(k, v)| Template::parse(v).map(|t| (k.clone(), t)).map_err(|e| format!("{name}: headers.{k}: {e}")))
            .collect::<Result<_, _>>()?;
        // --server is taken as written; the declared server may name
        // environment variables (a password: `https://ann:{env:PASS}@host`).
        let base = match server {
            Some(s) => s.to_string(),
            None => {
                Template::parse(&decl.server)
                    .and_then(|t| t.render_env(&secrets))
                    .map_err(|e| format!("{name}: server: {e}"))?
                    .real
            }
        };
        let base = Url::parse(base.trim_end_matches('/'));
        if let Some(c) = &base.credentials {
            secrets.hide_credentials(c);
        }
        Ok(DeclaredSource {
            name: name.to_string(),
            one_exchange: !candles.has_exchange(),
            own_address: server.is_none(),
            decl: decl.clone(),
            base: Rendered { shown: secrets.mask(&base.shown), real: base.sent },
            credentials: base.credentials,
            agent: agent(timeouts, connections),
            timeouts,
            secrets,
            candles,
            headers,
        })
    }

    /// The environment variables the source was opened with.
    pub fn variables(&self) -> Vec<String> {
        self.secrets.names()
    }

    fn build(
        &self,
        url: &Template,
        exchange: &str,
        symbol: &str,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Request, FetchError> {
        let v = Values { server: &self.base, symbol, exchange, first, last, secrets: &self.secrets };
        let bad = |e: String| FetchError::Permanent(format!("{}: cannot write the request: {e}", self.name));
        let url = url.render(&v, Into::Url).map_err(bad)?;
        let headers = self
            .headers
            .iter()
            .map(|(k, t)| t.render(&v, Into::Header).map(|r| (k.clone(), r)))
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        Ok(Request { url, headers })
    }

    fn names(&self, list: &List) -> Result<Vec<String>, FetchError> {
        let template = Template::parse(&list.url).map_err(FetchError::Permanent)?;
        let today = chrono::Utc::now().date_naive();
        let req = self.build(&template, "", "", today, today)?;
        let reply = self.get(&req, "")?;
        let shown = req.shown();
        // A whole answer that is not JSON (an HTML page, say) is not the
        // API: asking again will not change that.
        let doc: Value = serde_json::from_slice(&reply.body).map_err(|e| {
            FetchError::Permanent(format!(
                "{shown}: the answer is not a JSON list of names ({e}): {}",
                self.secrets.quote(&reply.body)
            ))
        })?;
        let prefix = list.prefix.as_deref().unwrap_or("");
        let names: Vec<String> = select(&doc, &list.names)
            .into_iter()
            .map(text)
            .filter(|n| !n.is_empty())
            .map(|n| format!("{prefix}{n}"))
            .collect();
        if names.is_empty() {
            return Err(FetchError::Permanent(self.secrets.mask(&format!(
                "{shown}: no names at {:?} in the answer: {}",
                list.names,
                self.secrets.quote(&reply.body)
            ))));
        }
        Ok(names)
    }

    /// [`PriceSource::fetch`] at the time `now_ms`.
    pub fn fetch_at(
        &self,
        exchange: &str,
        symbol: &str,
        first: NaiveDate,
        last: NaiveDate,
        now_ms: i64,
    ) -> Result<Answer, FetchError> {
        if self.one_exchange && exchange != self.name {
            return Err(FetchError::Permanent(format!("{} serves one exchange, {0}, not {exchange:?}", self.name)));
        }
        if self.decl.rows.one {
            return self.fetch_one(exchange, symbol, first, last, now_ms);
        }
        let asked: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let today = DateTime::from_timestamp_millis(now_ms).map_or(last, |t| t.date_naive());
        let oldest = self.history_start(today);
        let mut days: Vec<(NaiveDate, DayAnswer)> = Vec::with_capacity(asked.len());
        let mut ask: Vec<NaiveDate> = Vec::new();
        for d in asked {
            if oldest.is_some_and(|o| d < o) {
                days.push((d, DayAnswer::OutsideHistory));
            } else {
                ask.push(d);
            }
        }
        let (Some(&from), Some(&to)) = (ask.first(), ask.last()) else {
            return Ok(Answer { days, slow_down: None });
        };
        // More days than one request may ask for: ask for the anchored end, leave the rest.
        let max = self.decl.max_days as usize;
        let (from, to, spill) = if ask.len() <= max {
            (from, to, Vec::new())
        } else if self.decl.paging == Paging::Forward {
            (ask[0], ask[max - 1], ask[max..].to_vec())
        } else {
            (ask[ask.len() - max], to, ask[..ask.len() - max].to_vec())
        };
        let req = self.build(&self.candles, exchange, symbol, from, to)?;
        let reply = self.get(&req, symbol)?;
        let shown = req.shown();
        let rows = rows::read(&reply.body, &self.decl.rows).map_err(|e| {
            self.mask_error(match e {
                Unreadable::Garbled(m) => {
                    FetchError::Transient(format!("{shown}: {m}: {}", self.secrets.quote(&reply.body)))
                }
                Unreadable::Shape(m) => {
                    FetchError::Permanent(format!("{shown}: the answer is not as {} is declared: {m}", self.name))
                }
            })
        })?;
        let asked = Asked::new(&self.decl, &self.candles, from, to);
        let proved = prove(&rows, &asked, now_ms).map_err(|e| self.mask_error(self.invalid(&shown, &asked, e)))?;
        let spilled = spill.into_iter().map(|d| (d, DayAnswer::Unanswered(Unproven::Cut)));
        days.extend(proved);
        days.extend(spilled);
        days.sort_by_key(|(d, _)| *d);
        Ok(Answer { days, slow_down: self.slow_down(reply.used_weight, now_ms) })
    }

    /// [`DeclaredSource::fetch_at`] for a source that answers one row a
    /// request (`rows.one`): `first` is asked for, any later day left
    /// unanswered (`max_days` is 1, so none is).
    fn fetch_one(
        &self,
        exchange: &str,
        symbol: &str,
        first: NaiveDate,
        last: NaiveDate,
        now_ms: i64,
    ) -> Result<Answer, FetchError> {
        let req = self.build(&self.candles, exchange, symbol, first, first)?;
        let reply = self.get(&req, symbol)?;
        let day = one::read(&reply.body, &self.decl.rows, exchange, symbol, first).map_err(|e| {
            let (shown, quoted) = (req.shown(), self.secrets.quote(&reply.body));
            self.mask_error(match e {
                BadPrice::Json(e) => FetchError::Transient(format!("{shown}: malformed price JSON ({e}): {quoted}")),
                BadPrice::Refused(why) => {
                    FetchError::Permanent(format!("{shown}: not a valid price ({why}): {quoted}"))
                }
            })
        })?;
        let mut days = vec![(first, day.map_or(DayAnswer::NoData, DayAnswer::Price))];
        days.extend(
            first.iter_days().skip(1).take_while(|d| *d <= last).map(|d| (d, DayAnswer::Unanswered(Unproven::Cut))),
        );
        Ok(Answer { days, slow_down: self.slow_down(reply.used_weight, now_ms) })
    }

    /// Why an answer is refused: a permanent error, since asking again
    /// gets the same from a server that ignores what it is asked, or from a
    /// declaration that misreads it; a person is needed.
    fn invalid(&self, shown: &str, asked: &Asked, e: Invalid) -> FetchError {
        let name = &self.name;
        FetchError::Permanent(match e {
            Invalid::Order => format!(
                "{shown}: the rows are not {} as {name} is declared (order = ...): the declaration or the request is wrong",
                match self.decl.order {
                    Order::OldestFirst => "oldest first",
                    Order::NewestFirst => "newest first",
                },
            ),
            Invalid::Outside { rows, first, last, unit } => {
                let (from, to) = (asked.first, asked.last);
                let all = if rows == 1 { "the answer's one row, at".to_string() } else { format!("all {rows} rows of the answer, from") };
                let span = if rows == 1 { first } else { format!("{first} to {last}") };
                let why = match unit {
                    Some(u) => format!("{}: check time_format (\"{}\")", u.advice(), self.decl.rows.time_format),
                    None => format!("the server ignored the days asked, or {name}'s declaration is wrong"),
                };
                format!("{shown}: {all} {span}, fall outside the days asked ({from} to {to}); {why}")
            }
        })
    }

    /// Near the weight budget: no request until the next minute.
    fn slow_down(&self, used: Option<u64>, now_ms: i64) -> Option<Duration> {
        let w = self.decl.used_weight.as_ref()?;
        let used = used?;
        if (used as f64) < f64::from(w.limit) * WEIGHT_MARGIN {
            return None;
        }
        let into_minute = now_ms.rem_euclid(60_000);
        Some(Duration::from_millis((60_000 - into_minute) as u64))
    }
}

/// The values a JSON pointer names, where a `*` segment takes every member.
fn select<'a>(v: &'a Value, pointer: &str) -> Vec<&'a Value> {
    let mut current = vec![v];
    let Some(path) = pointer.strip_prefix('/') else { return current };
    for segment in path.split('/') {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        current = current
            .into_iter()
            .flat_map(|v| -> Vec<&Value> {
                match (v, segment.as_str()) {
                    (Value::Array(a), "*") => a.iter().collect(),
                    (Value::Object(o), "*") => o.values().collect(),
                    (Value::Object(o), s) => o.get(s).into_iter().collect(),
                    (Value::Array(a), s) => s.parse::<usize>().ok().and_then(|i| a.get(i)).into_iter().collect(),
                    _ => Vec::new(),
                }
            })
            .collect();
    }
    current
}

impl PriceSource for DeclaredSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn server(&self) -> &str {
        &self.base.shown
    }

    fn own_address(&self) -> bool {
        self.own_address
    }

    fn called(&self) -> String {
        match &self.decl.called {
            Some(called) => called.clone(),
            None => format!("{} at {}", self.name, self.base.shown),
        }
    }

    fn lane(&self) -> String {
        match self.decl.pace_by_server {
            true => self.base.shown.clone(),
            false => format!("{} {}", self.name, self.base.shown),
        }
    }

    fn asks_before_all(&self) -> bool {
        self.decl.ask_before_all
    }

    fn exchange(&self) -> Option<&str> {
        self.one_exchange.then_some(self.name.as_str())
    }

    fn max_days(&self) -> u32 {
        self.decl.max_days
    }

    fn history_start(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.decl.history_days.and_then(|n| today.checked_sub_days(chrono::Days::new(u64::from(n).saturating_sub(1))))
    }

    fn pace(&self) -> Option<Duration> {
        match (&self.decl.pace, self.decl.per_minute) {
            (Some(p), _) => humantime::parse_duration(p).ok(),
            (None, Some(n)) => Some(Duration::from_secs(60) / n.max(1)),
            (None, None) => None,
        }
    }

    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        match &self.decl.exchanges {
            _ if self.one_exchange => Ok(vec![self.name.clone()]),
            Some(list) => self.names(list),
            None => Err(FetchError::Permanent(format!(
                "{} declares no list of exchanges ([{0}.exchanges]): name the exchanges yourself",
                self.name
            ))),
        }
    }

    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        match &self.decl.symbols {
            Some(list) => self.names(list),
            None => Err(FetchError::Permanent(format!(
                "{} declares no list of symbols ([{0}.symbols]): name the symbols yourself",
                self.name
            ))),
        }
    }

    fn fetch(&self, exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> Result<Answer, FetchError> {
        self.fetch_at(exchange, symbol, first, last, crate::clock::now_ms())
    }

    fn request(&self, exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> String {
        match self.build(&self.candles, exchange, symbol, first, last) {
            Ok(req) => req.shown(),
            Err(e) => self.secrets.mask(&e.to_string()),
        }
    }

    fn mask(&self, text: &str) -> String {
        self.secrets.mask(text)
    }
}
