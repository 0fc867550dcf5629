//! HTTP for every source: the client (one connection pool shared by every
//! worker), and failed requests classified into [`FetchError`]s.

use std::time::Duration;

use super::secrets::{Credentials, Secrets, EXAMPLE_USERINFO};
use super::{FetchError, Timeouts};

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
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    use chrono::NaiveDate;

    use super::*;
    use crate::source::{open, Declarations, PriceSource};

    /// The reference API's source at `url`.
    fn cryptodb(url: &str) -> std::sync::Arc<dyn PriceSource> {
        open("cryptodb", Some(url), &Declarations::builtin(), Timeouts::default(), 1).unwrap()
    }

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
        response.extend(std::iter::repeat_n(b' ', (1 << 20) + 10));
        let source = cryptodb(&answer_once(response));
        let err = source.fetch("bitstamp", "btc", day(), day()).unwrap_err();
        assert!(matches!(&err, FetchError::Transient(m) if m.contains("limit")), "{err:?}");
    }

    #[test]
    fn a_host_that_cannot_be_found_is_named() {
        // RFC 2606: `.invalid` never resolves, and asks no network.
        let source = cryptodb("http://prices.invalid:8080");
        let err = source.exchanges().unwrap_err();
        assert!(matches!(&err, FetchError::UnknownHost(m) if m.contains("no host named 'prices.invalid'")), "{err:?}");
        assert_eq!(host("https://u:p@api.example.com:443/v1?x"), "api.example.com");
    }

    #[test]
    fn a_refused_connection_is_unreachable() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let source = cryptodb(&format!("http://127.0.0.1:{port}"));
        assert!(matches!(source.exchanges(), Err(FetchError::Unreachable(_))));
    }

    #[test]
    fn price_urls_hold_each_name_as_one_segment() {
        let s = cryptodb("http://127.0.0.1:9/");
        let url = |exchange: &str, symbol: &str| s.request(exchange, symbol, day(), day());
        assert_eq!(url("a/b", "c d%"), "GET http://127.0.0.1:9/price/a%2Fb/c%20d%25/2020-03-12");
        assert_eq!(url("bit-stamp", "btc_usd.x~"), "GET http://127.0.0.1:9/price/bit-stamp/btc_usd.x~/2020-03-12");
        assert_eq!(url("..", "."), "GET http://127.0.0.1:9/price/%2E%2E/%2E/2020-03-12");
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
