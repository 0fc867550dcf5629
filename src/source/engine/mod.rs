//! The source engine: any JSON or CSV price API, spoken from its
//! declaration. One request per batch of candles (days at `1d`): asked and
//! proved in `fetch.rs`, sent and classified in `wire.rs`; its answer read
//! by `rows`, proved by `prove`.

use std::time::Duration;

use chrono::NaiveDate;
use serde_json::Value;

use super::answer::{parse_retry_after, BadPrice};
use super::declare::{Declaration, List, Order, Paging, WEIGHT_MARGIN};
use super::http::{agent, classify_status, classify_transport, mask_error, unauthorized};
use super::one;
use super::prove::{prove, Asked, Invalid};
use super::rows::{self, show_slot, text, Unreadable};
use super::secrets::{Credentials, Url};
use super::template::{Into, Rendered, Secrets, Template, Values};
use super::{Answer, DayAnswer, FetchError, PriceSource, SlotAnswer, Timeouts, Unproven};
use crate::interval::Interval;

mod fetch;
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

    /// The request `url` makes for the slots `first..=last` at `interval`
    /// (spelled as `{interval}` writes it).
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        url: &Template,
        exchange: &str,
        symbol: &str,
        interval: Interval,
        spelled: &str,
        first: i64,
        last: i64,
    ) -> Result<Request, FetchError> {
        let v = Values { server: &self.base, symbol, exchange, interval, spelled, first, last, secrets: &self.secrets };
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
        let today = Interval::D1.slot_of_ms(crate::clock::now_ms());
        let req = self.build(&template, "", "", Interval::D1, "1d", today, today)?;
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

    fn intervals(&self) -> Vec<Interval> {
        self.decl.intervals().into_iter().map(|(i, _)| i).collect()
    }

    fn max_days(&self) -> u32 {
        self.decl.max_days
    }

    fn max_rows(&self, interval: Interval) -> u32 {
        self.decl.max_rows(interval)
    }

    fn history_start(&self, today: NaiveDate) -> Option<NaiveDate> {
        self.decl
            .history(Interval::D1)
            .and_then(|n| today.checked_sub_days(chrono::Days::new(u64::from(n).saturating_sub(1))))
    }

    fn oldest_slot(&self, interval: Interval, now_ms: i64) -> Option<i64> {
        self.oldest_kept(interval, now_ms)
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

    fn fetch_slots(
        &self,
        exchange: &str,
        symbol: &str,
        interval: Interval,
        first: i64,
        last: i64,
    ) -> Result<SlotAnswer, FetchError> {
        self.fetch_slots_at(exchange, symbol, interval, first, last, crate::clock::now_ms())
    }

    fn request(&self, exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> String {
        let day = Interval::D1;
        self.request_slots(exchange, symbol, day, day.first_slot(first), day.first_slot(last))
    }

    fn request_slots(&self, exchange: &str, symbol: &str, interval: Interval, first: i64, last: i64) -> String {
        let built = self
            .serves(interval)
            .and_then(|spelled| self.build(&self.candles, exchange, symbol, interval, spelled, first, last));
        match built {
            Ok(req) => req.shown(),
            Err(e) => self.secrets.mask(&e.to_string()),
        }
    }

    fn mask(&self, text: &str) -> String {
        self.secrets.mask(text)
    }
}
