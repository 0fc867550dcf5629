//! The source engine: any JSON or CSV price API, spoken from its
//! declaration. One request per run of days; its answer read by `rows`,
//! settled by `settle`, its failures classified here.

use std::time::Duration;

use chrono::{DateTime, NaiveDate};
use serde_json::Value;

use super::answer::{parse_retry_after, quote};
use super::declare::{variables, Declaration, List, Order, Paging, WEIGHT_MARGIN};
use super::http::{agent, classify_status, classify_transport};
use super::rows::{self, text, Unreadable};
use super::settle::settle;
use super::template::{Into, Rendered, Secrets, Template, Values};
use super::{Answer, DayAnswer, FetchError, PriceSource, Timeouts};

/// Bytes accepted in one answer: 1000 daily rows of Binance are ~200 KB;
/// anything near this is a broken server, not data.
const BODY_LIMIT: u64 = 8 << 20;

/// The longest request URL sent.
const MAX_URL: usize = 3000;

/// A price API spoken from its declaration.
pub struct DeclaredSource {
    name: String,
    decl: Declaration,
    base: String,
    agent: ureq::Agent,
    timeouts: Timeouts,
    secrets: Secrets,
    candles: Template,
    headers: Vec<(String, Template)>,
    /// The declaration has no `{exchange}`: the source is one exchange, named after it.
    one_exchange: bool,
}

/// A request ready to send, and its display form.
struct Request {
    url: Rendered,
    headers: Vec<(String, Rendered)>,
}

impl Request {
    fn shown(&self) -> String {
        let mut s = format!("GET {}", self.url.shown);
        for (name, value) in &self.headers {
            s.push_str(&format!(" [{name}: {}]", value.shown));
        }
        s
    }
}

/// What came back with status 200.
struct Reply {
    body: Vec<u8>,
    used_weight: Option<u64>,
}

impl DeclaredSource {
    /// The source `name` as `decl` says, at `server` (or the declared one),
    /// with the values of its environment variables in `secrets`.
    pub fn new(
        name: &str,
        decl: &Declaration,
        server: Option<&str>,
        timeouts: Timeouts,
        connections: usize,
        secrets: Secrets,
    ) -> Result<DeclaredSource, String> {
        let candles = Template::parse(&decl.candles).map_err(|e| format!("{name}: candles: {e}"))?;
        let headers = decl
            .headers
            .iter()
            .map(|(k, v)| Template::parse(v).map(|t| (k.clone(), t)).map_err(|e| format!("{name}: headers.{k}: {e}")))
            .collect::<Result<_, _>>()?;
        let base = server.unwrap_or(&decl.server).trim_end_matches('/').to_string();
        Ok(DeclaredSource {
            name: name.to_string(),
            one_exchange: !candles.has_exchange(),
            decl: decl.clone(),
            base,
            agent: agent(timeouts, connections),
            timeouts,
            secrets,
            candles,
            headers,
        })
    }

    /// The environment variables the declaration needs.
    pub fn variables(&self) -> Vec<String> {
        variables(&self.decl)
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

    fn mask_error(&self, e: FetchError) -> FetchError {
        let m = |s: String| self.secrets.mask(&s);
        match e {
            FetchError::Unreachable(s) => FetchError::Unreachable(m(s)),
            FetchError::Transient(s) => FetchError::Transient(m(s)),
            FetchError::TimedOut(s) => FetchError::TimedOut(m(s)),
            FetchError::Permanent(s) => FetchError::Permanent(m(s)),
            FetchError::RateLimited { message, retry_after } => {
                FetchError::RateLimited { message: m(message), retry_after }
            }
            FetchError::Banned { message, retry_after } => FetchError::Banned { message: m(message), retry_after },
        }
    }

    /// Sends `req`; an answer other than a 200 without an error in its body is an error.
    fn get(&self, req: &Request, symbol: &str) -> Result<Reply, FetchError> {
        self.send(req, symbol).map_err(|e| self.mask_error(e))
    }

    fn send(&self, req: &Request, symbol: &str) -> Result<Reply, FetchError> {
        let shown = req.shown();
        if req.url.real.len() > MAX_URL {
            return Err(FetchError::Permanent(format!(
                "{shown}: the URL would be {} bytes, more than the {MAX_URL} this client sends; check the symbol and --server",
                req.url.real.len()
            )));
        }
        let mut call = self.agent.get(&req.url.real);
        for (name, value) in &req.headers {
            call = call.header(name, &value.real);
        }
        let mut resp = call.call().map_err(|e| classify_transport(&req.url.shown, e, self.timeouts))?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let used_weight =
            self.decl.used_weight.as_ref().and_then(|w| header(&w.header)).and_then(|v| v.trim().parse().ok());
        let body = resp.body_mut().with_config().limit(BODY_LIMIT).read_to_vec();
        if status == 200 {
            let body = body.map_err(|e| classify_transport(&req.url.shown, e, self.timeouts))?;
            if let Some((_, e)) = self.body_error(&body, &shown, symbol, retry_after) {
                return Err(e);
            }
            return Ok(Reply { body, used_weight });
        }
        let body = body.unwrap_or_default();
        // A body that names the trouble (a rate limit, an unknown symbol) says
        // more than the status; any other error in it leaves the status to decide.
        if let Some((true, e)) = self.body_error(&body, &shown, symbol, retry_after) {
            if status != 418 {
                return Err(e);
            }
        }
        let said = if body.is_empty() { String::new() } else { format!(": {}", quote(&body)) };
        Err(match status {
            // Binance's ban for going on after 429s, "from 2 minutes to 3 days"
            // (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
            418 => {
                FetchError::Banned { message: format!("{shown}: HTTP 418, this address is banned{said}"), retry_after }
            }
            400 | 404 => FetchError::Permanent(format!(
                "{shown}: HTTP {status}{said} (is {symbol:?} a symbol {} knows? its list of symbols has them all)",
                self.name
            )),
            _ => match classify_status(&shown, status, retry_after) {
                FetchError::Permanent(m) => FetchError::Permanent(format!("{m}{said}")),
                FetchError::Transient(m) => FetchError::Transient(format!("{m}{said}")),
                other => other,
            },
        })
    }

    /// The error an answer's body reports, as the declaration's `[[error]]`
    /// tables say, and whether one of their patterns named it.
    fn body_error(
        &self,
        body: &[u8],
        shown: &str,
        symbol: &str,
        retry_after: Option<Duration>,
    ) -> Option<(bool, FetchError)> {
        if self.decl.error.is_empty() {
            return None;
        }
        let doc: Value = serde_json::from_slice(body).ok()?;
        for rule in &self.decl.error {
            let Some(v) = doc.pointer(&rule.at) else { continue };
            let t = text(v);
            let is_error = match &rule.equals {
                Some(e) => t == *e,
                None => !t.is_empty() && !rule.ok.contains(&t),
            };
            if !is_error {
                continue;
            }
            let message = rule.message.as_ref().and_then(|m| doc.pointer(m)).map(text);
            let said = match message {
                Some(m) if !m.is_empty() && m != t => format!("{t}: {m}"),
                _ => t,
            };
            let any = |patterns: &[String]| patterns.iter().any(|p| said.contains(p.as_str()));
            return Some(if any(&rule.rate_limit) {
                (
                    true,
                    FetchError::RateLimited {
                        message: format!("{shown}: {} asks to slow down: {said}", self.name),
                        retry_after,
                    },
                )
            } else if any(&rule.unknown_symbol) {
                let message = format!(
                    "{shown}: {} does not know the symbol {symbol:?} ({said}); its list of symbols has the names it knows",
                    self.name
                );
                (true, FetchError::Permanent(message))
            } else if any(&rule.transient) {
                (true, FetchError::Transient(format!("{shown}: {} says {said}", self.name)))
            } else {
                (false, FetchError::Permanent(format!("{shown}: {} says {said}", self.name)))
            });
        }
        None
    }

    fn names(&self, list: &List) -> Result<Vec<String>, FetchError> {
        let template = Template::parse(&list.url).map_err(FetchError::Permanent)?;
        let today = chrono::Utc::now().date_naive();
        let req = self.build(&template, "", "", today, today)?;
        let reply = self.get(&req, "")?;
        let shown = req.shown();
        let doc = rows::json(&reply.body).map_err(|e| match e {
            Unreadable::Garbled(m) => FetchError::Transient(format!("{shown}: {m}: {}", quote(&reply.body))),
            Unreadable::Shape(m) => FetchError::Permanent(format!("{shown}: {m}")),
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
                quote(&reply.body)
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
        let asked: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
        let today = DateTime::from_timestamp_millis(now_ms).map_or(last, |t| t.date_naive());
        // The oldest day the source still has (Kraken: the latest 720 candles, today's included).
        let oldest = self.decl.history_days.and_then(|n| today.checked_sub_days(chrono::Days::new(u64::from(n) - 1)));
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
                Unreadable::Garbled(m) => FetchError::Transient(format!("{shown}: {m}: {}", quote(&reply.body))),
                Unreadable::Shape(m) => {
                    FetchError::Permanent(format!("{shown}: the answer is not as {} is declared: {m}", self.name))
                }
            })
        })?;
        let ordered = rows.windows(2).all(|w| match self.decl.order {
            Order::OldestFirst => w[0].at_ms <= w[1].at_ms,
            Order::NewestFirst => w[0].at_ms >= w[1].at_ms,
        });
        if !ordered {
            return Err(self.mask_error(FetchError::Permanent(format!(
                "{shown}: the rows are not {} as {} is declared (order = ...): the declaration or the request is wrong",
                match self.decl.order {
                    Order::OldestFirst => "oldest first",
                    Order::NewestFirst => "newest first",
                },
                self.name
            ))));
        }
        let settled = settle(&rows, from, to, self.decl.paging, now_ms);
        let spilled = spill.into_iter().map(|d| (d, DayAnswer::Unanswered));
        days.extend(settled);
        days.extend(spilled);
        days.sort_by_key(|(d, _)| *d);
        Ok(Answer { days, slow_down: self.slow_down(reply.used_weight, now_ms) })
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
        &self.base
    }

    fn exchange(&self) -> Option<&str> {
        self.one_exchange.then_some(self.name.as_str())
    }

    fn max_days(&self) -> u32 {
        self.decl.max_days
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
