//! The price API over HTTP: one connection pool shared by every worker,
//! its answers classified into [`FetchError`]s.

use std::time::Duration;

use chrono::NaiveDate;

use super::answer::{parse_price, parse_retry_after, segment, BadPrice};
use super::secrets::{Credentials, Secrets, Url, EXAMPLE_USERINFO};
use super::{Answer, DayAnswer, FetchError, PriceSource, Timeouts, Unproven};
use crate::price::Price;

/// Bytes accepted in one answer. A price is ~150 bytes and the name lists
/// are small; anything near this is a broken server, not data.
const BODY_LIMIT: u64 = 1 << 20;

/// The longest request URL this client sends (its request buffer holds it
/// with the headers).
const MAX_URL: usize = 3000;
/// The price API over HTTP, one connection pool shared by every worker.
pub struct HttpSource {
    agent: ureq::Agent,
    /// The base URL: sent without its user-info, shown with its password masked.
    base: Url,
    /// Its user and password, shown nowhere.
    secrets: Secrets,
    timeouts: Timeouts,
    /// `base` is the default address, not one --server gave.
    own_address: bool,
}

/// The HTTP client every source uses: `timeouts`, up to `connections`
/// idle connections kept for reuse, statuses left for the caller to classify.
pub(super) fn agent(timeouts: Timeouts, connections: usize) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_connect(Some(timeouts.connect.min(timeouts.request)))
        .timeout_global(Some(timeouts.request))
        // Statuses are classified by the source, not turned into opaque errors.
        .http_status_as_error(false)
        .max_idle_connections(connections.max(1))
        .max_idle_connections_per_host(connections.max(1))
        // ureq's 128 KiB buffers per connection would cost 128 MB at 512
        // workers; a price answer with its headers is well under 1 KiB, and
        // a range answer streams through the buffer into its body.
        .input_buffer_size(16 * 1024)
        .output_buffer_size(4 * 1024)
        .max_response_header_size(16 * 1024)
        .user_agent(concat!("pricequeue/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

impl HttpSource {
    /// A client for the server at `base` (like `http://localhost:8080`),
    /// keeping up to `connections` idle connections for reuse.
    /// A `user:password@` in `base` is sent as HTTP Basic authentication.
    pub fn new(base: &str, timeouts: Timeouts, connections: usize) -> HttpSource {
        let agent = agent(timeouts, connections);
        let base = Url::parse(base.trim_end_matches('/'));
        let mut secrets = Secrets::default();
        if let Some(c) = &base.credentials {
            secrets.hide_credentials(c);
        }
        HttpSource { agent, base, secrets, timeouts, own_address: false }
    }

    /// The same, its address being the default, not one --server gave.
    pub fn at_own_address(self) -> HttpSource {
        HttpSource { own_address: true, ..self }
    }

    /// The URL of a price as it may be shown, names percent-encoded as path segments.
    pub fn price_url(&self, exchange: &str, symbol: &str, day: NaiveDate) -> String {
        format!("{}{}", self.base.shown, price_path(exchange, symbol, day))
    }

    /// GETs `path` under the base URL; errors show the URL masked.
    fn get(&self, path: &str) -> Result<Vec<u8>, FetchError> {
        let url = format!("{}{path}", self.base.shown);
        self.send(&format!("{}{path}", self.base.sent), &url).map_err(|e| mask_error(&self.secrets, e))
    }

    fn send(&self, sent: &str, url: &str) -> Result<Vec<u8>, FetchError> {
        if sent.len() > MAX_URL {
            return Err(FetchError::Permanent(format!(
                "the request URL would be {} bytes, more than the {MAX_URL} this client sends; check the \
                 exchange and symbol names and --server",
                sent.len()
            )));
        }
        let mut call = self.agent.get(sent);
        if let Some(c) = &self.base.credentials {
            call = call.header("authorization", c.authorization());
        }
        let mut resp = call.call().map_err(|e| classify_transport(url, e, self.timeouts))?;
        let status = resp.status().as_u16();
        if status == 401 {
            return Err(unauthorized(&format!("GET {url}"), self.base.credentials.as_ref(), None));
        }
        if status != 200 {
            let retry_after =
                resp.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(parse_retry_after);
            return Err(classify_status(url, status, retry_after));
        }
        resp.body_mut()
            .with_config()
            .limit(BODY_LIMIT)
            .read_to_vec()
            .map_err(|e| classify_transport(url, e, self.timeouts))
    }

    fn names(&self, what: &str) -> Result<Vec<String>, FetchError> {
        let path = format!("/{what}");
        let body = self.get(&path)?;
        // A whole answer that is not a list of names (an HTML page, say) is
        // not the price API: asking again will not change that.
        serde_json::from_slice(&body).map_err(|e| {
            let (url, body) = (format!("{}{path}", self.base.shown), self.secrets.quote(&body));
            FetchError::Permanent(format!("GET {url}: the answer is not a JSON list of names ({e}): {body}"))
        })
    }
}

impl HttpSource {
    /// One day's price; `Ok(None)` when the server has none for that day.
    pub fn price(&self, exchange: &str, symbol: &str, day: NaiveDate) -> Result<Option<Price>, FetchError> {
        let body = self.get(&price_path(exchange, symbol, day))?;
        parse_price(&body, exchange, symbol, day).map_err(|e| {
            let (url, quoted) = (self.price_url(exchange, symbol, day), self.secrets.quote(&body));
            match e {
                BadPrice::Json(e) => FetchError::Transient(format!("GET {url}: malformed price JSON ({e}): {quoted}")),
                BadPrice::Refused(why) => {
                    FetchError::Permanent(format!("GET {url}: not a valid price ({why}): {quoted}"))
                }
            }
        })
    }
}

impl PriceSource for HttpSource {
    fn name(&self) -> &str {
        "cryptodb"
    }

    fn asks_before_all(&self) -> bool {
        false
    }

    fn own_address(&self) -> bool {
        self.own_address
    }

    fn server(&self) -> &str {
        &self.base.shown
    }

    fn exchanges(&self) -> Result<Vec<String>, FetchError> {
        self.names("exchanges")
    }

    fn symbols(&self) -> Result<Vec<String>, FetchError> {
        self.names("symbols")
    }

    /// The reference API serves one day per request: `first` is asked for,
    /// and any later day is left unanswered (`max_days` is 1, so none is).
    fn fetch(&self, exchange: &str, symbol: &str, first: NaiveDate, last: NaiveDate) -> Result<Answer, FetchError> {
        let day = match self.price(exchange, symbol, first)? {
            Some(price) => DayAnswer::Price(price),
            None => DayAnswer::NoData,
        };
        let mut days = vec![(first, day)];
        days.extend(
            first.iter_days().skip(1).take_while(|d| *d <= last).map(|d| (d, DayAnswer::Unanswered(Unproven::Cut))),
        );
        Ok(Answer { days, slow_down: None })
    }

    fn request(&self, exchange: &str, symbol: &str, first: NaiveDate, _last: NaiveDate) -> String {
        format!("GET {}", self.price_url(exchange, symbol, first))
    }

    fn mask(&self, text: &str) -> String {
        self.secrets.mask(text)
    }
}

/// The path of a price under the base URL, names percent-encoded as path segments.
fn price_path(exchange: &str, symbol: &str, day: NaiveDate) -> String {
    format!("/price/{}/{}/{day}", segment(exchange), segment(symbol))
}

/// `e` with `secrets` masked in its message.
pub(super) fn mask_error(secrets: &Secrets, e: FetchError) -> FetchError {
    let m = |s: String| secrets.mask(&s);
    match e {
        FetchError::Unreachable(s) => FetchError::Unreachable(m(s)),
        FetchError::UnknownHost(s) => FetchError::UnknownHost(m(s)),
        FetchError::Transient(s) => FetchError::Transient(m(s)),
        FetchError::TimedOut(s) => FetchError::TimedOut(m(s)),
        FetchError::Permanent(s) => FetchError::Permanent(m(s)),
        FetchError::RateLimited { message, retry_after } => {
            FetchError::RateLimited { message: m(message), retry_after }
        }
        FetchError::Banned { message, retry_after } => FetchError::Banned { message: m(message), retry_after },
    }
}

/// What a 401's message says, which [`super::server_trouble`] looks for.
pub(super) const UNAUTHORIZED: &str = "HTTP 401 Unauthorized";

/// A 401 to `request` (as shown): the server wants credentials, and says
/// what to do about the ones given (`None`: none) or the key a
/// declaration sends (`variables`).
pub(super) fn unauthorized(request: &str, given: Option<&Credentials>, variables: Option<&[String]>) -> FetchError {
    let advice = match (given, variables) {
        (Some(c), _) => format!(
            "the server refused the user name {:?} and the password given with the server's URL: check them",
            c.user
        ),
        (None, Some(vars)) if !vars.is_empty() => format!(
            "check the key the declaration sends from {}, or give a user name and password in --server, like \
             --server https://{EXAMPLE_USERINFO}@host (never stored: every run needs them)",
            vars.iter().map(|v| format!("{{env:{v}}}")).collect::<Vec<_>>().join(", ")
        ),
        _ => format!(
            "the server wants a user name and password: give them in --server, like \
             --server https://{EXAMPLE_USERINFO}@host (sent as HTTP Basic authentication and never stored: \
             give them to every run, or set PRICEQUEUE_SERVER)"
        ),
    };
    FetchError::Permanent(format!("{request}: {UNAUTHORIZED}: {advice}"))
}

/// A failed request, classified; `url` as it may be shown.
pub(super) fn classify_transport(url: &str, e: ureq::Error, timeouts: Timeouts) -> FetchError {
    use std::io::ErrorKind;
    use ureq::{Error, Timeout};
    let message = format!("GET {url}: {e}");
    match &e {
        Error::HostNotFound => FetchError::UnknownHost(format!("GET {url}: no host named '{}' was found", host(url))),
        // The system's resolver fails as an I/O error of no particular kind.
        Error::Io(io) if io.to_string().starts_with("failed to lookup address information") => {
            FetchError::UnknownHost(format!("GET {url}: no host named '{}' was found ({io})", host(url)))
        }
        Error::ConnectionFailed | Error::Timeout(Timeout::Connect | Timeout::Resolve) => {
            FetchError::Unreachable(message)
        }
        Error::Io(io) if matches!(io.kind(), ErrorKind::ConnectionRefused | ErrorKind::AddrNotAvailable) => {
            FetchError::Unreachable(message)
        }
        Error::Timeout(_) => FetchError::TimedOut(format!(
            "GET {url}: timed out: no answer within {} (--timeout)",
            humantime::format_duration(timeouts.request)
        )),
        Error::Io(io) if io.kind() == ErrorKind::TimedOut => FetchError::TimedOut(message),
        Error::BadUri(_) | Error::Protocol(_) => FetchError::Permanent(message),
        _ => FetchError::Transient(message),
    }
}

/// Whether an http(s) URL names this machine (`localhost`, a loopback
/// address): a server there is the user's to start.
pub(super) fn on_this_machine(url: &str) -> bool {
    let host = host(url).trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host name of an http(s) URL: what lies between the scheme and the
/// port or path.
fn host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if host.starts_with('[') {
        return host;
    }
    host.split(':').next().unwrap_or(host)
}

/// A status other than 200, classified; `url` as it may be shown.
///
/// A 429 is a limit, with a time or not: the server's pace, not the
/// request's fault. A 503 is a limit when it says when to come back;
/// without a time it is a server too busy to answer (RFC 9110: "overload
/// or scheduled maintenance", and how OKX, Binance and Bitfinex send their
/// busy codes), worth another attempt like any 5xx.
pub(super) fn classify_status(url: &str, status: u16, retry_after: Option<Duration>) -> FetchError {
    let message = format!("GET {url}: HTTP {status}");
    match status {
        429 => FetchError::RateLimited { message, retry_after },
        503 if retry_after.is_some() => FetchError::RateLimited { message, retry_after },
        408 | 500..=599 => FetchError::Transient(message),
        _ => FetchError::Permanent(message),
    }
}

#[cfg(test)]
mod wire_tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use super::*;
    use crate::source::PriceSource;

    /// A one-shot server that answers the first request with `response`.
    fn answer_once(response: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            if let Ok((mut conn, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(&response);
            }
        });
        url
    }

    #[test]
    fn a_body_over_the_limit_is_an_error_not_an_allocation() {
        let size = 64 << 20; // announced, never sent in full
        let mut response = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
        response.extend(std::iter::repeat_n(b' ', (BODY_LIMIT + 10) as usize));
        let source = HttpSource::new(&answer_once(response), Timeouts::default(), 1);
        let err = source.price("bitstamp", "btc", day()).unwrap_err();
        assert!(matches!(&err, FetchError::Transient(m) if m.contains("limit")), "{err:?}");
    }

    #[test]
    fn a_host_that_cannot_be_found_is_named() {
        // RFC 2606: `.invalid` never resolves, and asks no network.
        let source = HttpSource::new("http://prices.invalid:8080", Timeouts::default(), 1);
        let err = source.exchanges().unwrap_err();
        assert!(matches!(&err, FetchError::UnknownHost(m) if m.contains("no host named 'prices.invalid'")), "{err:?}");
        assert_eq!(host("https://u:p@api.example.com:443/v1?x"), "api.example.com");
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let source = HttpSource::new(&format!("http://127.0.0.1:{port}"), Timeouts::default(), 1);
        assert!(matches!(source.exchanges(), Err(FetchError::Unreachable(_))));
    }

    #[test]
    fn price_urls_hold_each_name_as_one_segment() {
        let s = HttpSource::new("http://127.0.0.1:9/", Timeouts::default(), 1);
        assert_eq!(s.price_url("a/b", "c d%", day()), "http://127.0.0.1:9/price/a%2Fb/c%20d%25/2020-03-12");
        assert_eq!(
            s.price_url("bit-stamp", "btc_usd.x~", day()),
            "http://127.0.0.1:9/price/bit-stamp/btc_usd.x~/2020-03-12"
        );
        assert_eq!(s.price_url("..", ".", day()), "http://127.0.0.1:9/price/%2E%2E/%2E/2020-03-12");
    }

    #[test]
    fn statuses_are_classified() {
        assert!(matches!(classify_status("u", 404, None), FetchError::Permanent(_)));
        assert!(matches!(classify_status("u", 400, None), FetchError::Permanent(_)));
        for s in [500, 502, 504, 408] {
            assert!(matches!(classify_status("u", s, None), FetchError::Transient(_)), "{s}");
        }
        let limited = classify_status("u", 429, Some(Duration::from_secs(3)));
        assert!(matches!(limited, FetchError::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(3)));
        // A limit with no time is still a limit; a 503 with none is busy.
        assert!(matches!(classify_status("u", 429, None), FetchError::RateLimited { retry_after: None, .. }));
        let paused = classify_status("u", 503, Some(Duration::from_secs(1)));
        assert!(matches!(paused, FetchError::RateLimited { retry_after: Some(_), .. }));
        assert!(matches!(classify_status("u", 503, None), FetchError::Transient(_)));
    }

    fn day() -> NaiveDate {
        NaiveDate::from_ymd_opt(2020, 3, 12).unwrap()
    }
}
