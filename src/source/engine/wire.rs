//! The engine on the wire: a request ready to send, sending it, and what
//! comes back classified, an error in a 200 body included; every message
//! with the source's secrets masked.

use super::*;

/// A request ready to send, and its display form.
pub(super) struct Request {
    pub(super) url: Rendered,
    pub(super) headers: Vec<(String, Rendered)>,
}

impl Request {
    pub(super) fn shown(&self) -> String {
        let mut s = format!("GET {}", self.url.shown);
        for (name, value) in &self.headers {
            s.push_str(&format!(" [{name}: {}]", value.shown));
        }
        s
    }
}

/// What came back with status 200.
pub(super) struct Reply {
    pub(super) body: Vec<u8>,
    pub(super) used_weight: Option<u64>,
}

impl DeclaredSource {
    pub(super) fn mask_error(&self, e: FetchError) -> FetchError {
        mask_error(&self.secrets, e)
    }

    /// Sends `req`; an answer other than a 200 without an error in its body is an error.
    pub(super) fn get(&self, req: &Request, symbol: &str) -> Result<Reply, FetchError> {
        self.send(req, symbol).map_err(|e| self.mask_error(e))
    }

    fn send(&self, req: &Request, symbol: &str) -> Result<Reply, FetchError> {
        // Written out only for an error: most requests need none.
        let shown = || req.shown();
        if req.url.real.len() > MAX_URL {
            return Err(FetchError::Permanent(format!(
                "{}: the URL would be {} bytes, more than the {MAX_URL} this client sends; check the symbol and --server",
                shown(),
                req.url.real.len()
            )));
        }
        let mut call = self.agent.get(&req.url.real);
        for (name, value) in &req.headers {
            call = call.header(name, &value.real);
        }
        // A header the declaration gives says more than the server's user-info.
        if let Some(c) = self.credentials.as_ref().filter(|_| !req.headers.iter().any(|(n, _)| is_authorization(n))) {
            call = call.header("authorization", c.authorization());
        }
        let mut resp = call.call().map_err(|e| classify_transport(&req.url.shown, e, self.timeouts))?;
        let status = resp.status().as_u16();
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let retry_after = header("retry-after").and_then(|v| parse_retry_after(&v));
        let used_weight =
            self.decl.used_weight.as_ref().and_then(|w| header(&w.header)).and_then(|v| v.trim().parse().ok());
        let body = resp.body_mut().with_config().limit(self.decl.body_limit.unwrap_or(BODY_LIMIT)).read_to_vec();
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
        let said = match body.is_empty() || !self.decl.quote_error_body {
            true => String::new(),
            false => format!(": {}", self.secrets.quote(&body)),
        };
        Err(match status {
            // Binance's ban for going on after 429s, "from 2 minutes to 3 days"
            // (https://developers.binance.com/docs/binance-spot-api-docs/rest-api/limits).
            418 => FetchError::Banned {
                message: format!("{}: HTTP 418, this address is banned{said}", shown()),
                retry_after,
            },
            401 => match unauthorized(&shown(), self.credentials.as_ref(), Some(&self.variables())) {
                FetchError::Permanent(m) => FetchError::Permanent(format!("{m}{said}")),
                other => other,
            },
            s if self.decl.unknown_symbol_status.contains(&s) => FetchError::Permanent(format!(
                "{}: HTTP {status}{said} (is {symbol:?} a symbol {} knows? its list of symbols has them all)",
                shown(),
                self.name
            )),
            // `classify_status` writes the GET itself: not twice.
            _ => match classify_status(shown().strip_prefix("GET ").unwrap_or(&shown()), status, retry_after) {
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
        shown: &dyn Fn() -> String,
        symbol: &str,
        retry_after: Option<Duration>,
    ) -> Option<(bool, FetchError)> {
        if self.decl.error.is_empty() {
            return None;
        }
        let doc: Value = serde_json::from_slice(body).ok()?;
        let shown = shown();
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
}

fn is_authorization(header: &str) -> bool {
    header.eq_ignore_ascii_case("authorization")
}
