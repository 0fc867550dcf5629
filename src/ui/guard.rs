//! Who may use the page, and how: every request passes here first.
//!
//! - On a loopback address without a token, only requests that name the
//!   page by a loopback host are served (a web page elsewhere that points
//!   a name of its own at 127.0.0.1, DNS rebinding, gets 403).
//! - With a token (required off loopback), every request carries it: as
//!   `Authorization: Bearer TOKEN`, or as the cookie the first visit with
//!   `?token=TOKEN` sets (an EventSource cannot send headers).
//! - A change is a POST with this run's CSRF token in `X-CSRF-Token`, from
//!   the page's own origin; `--read-only` refuses every change.
//! - Every answer says, in its Content-Security-Policy, that the page runs
//!   only its own script and loads nothing from elsewhere.

use std::net::SocketAddr;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::App;

/// Nothing but the page's own script, styles, pictures and connections.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
                       require-trusted-types-for 'script'";

/// What a request must show.
pub struct Guard {
    /// Required of every request when set.
    pub token: Option<String>,
    /// Required of every change.
    pub csrf: String,
    pub read_only: bool,
    /// Whether a request must name a loopback host (the page is on
    /// loopback without a token); otherwise any name goes, the token decides.
    loopback_only: bool,
    /// The cookie the token is kept in, named for the port (cookies do not
    /// tell ports apart).
    pub cookie: String,
}

impl Guard {
    pub fn new(addr: SocketAddr, token: Option<String>, read_only: bool) -> Guard {
        let loopback_only = token.is_none() && addr.ip().is_loopback();
        Guard {
            token,
            csrf: random_token(),
            read_only,
            loopback_only,
            cookie: format!("pricequeue_ui_{}", addr.port()),
        }
    }

    /// Whether `presented` is the token, in time that does not depend on
    /// how much of it matches.
    fn is_token(&self, presented: &str) -> bool {
        self.token.as_deref().is_some_and(|t| same(t.as_bytes(), presented.as_bytes()))
    }

    /// The token the request carries, from its header or its cookie.
    fn carried<'a>(&self, headers: &'a HeaderMap) -> Option<&'a str> {
        let bearer =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        bearer.or_else(|| {
            headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
                |pair| {
                    let (name, value) = pair.trim().split_once('=')?;
                    (name == self.cookie).then_some(value)
                },
            )
        })
    }
}

/// Compares two byte strings in time that depends only on their lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 random bytes from the operating system, as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random numbers");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The middleware: refuses what the rules above refuse, and adds the
/// security headers to every answer.
pub async fn check(State(app): State<App>, request: Request, next: Next) -> Response {
    let mut response = match refuse(&app.guard, &request) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    headers.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    response
}

/// The answer for a request the rules refuse, or `None` to serve it.
fn refuse(guard: &Guard, request: &Request) -> Option<Response> {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if guard.loopback_only && !is_loopback_name(host) {
        return Some(denied(StatusCode::FORBIDDEN, "this page answers only to 127.0.0.1, localhost or [::1]"));
    }
    if guard.token.is_some() && !guard.carried(headers).is_some_and(|t| guard.is_token(t)) {
        // The first visit brings the token in the address: keep it in a
        // cookie and show the same page without it.
        let query = request.uri().query().unwrap_or("");
        let from_query = query.split('&').find_map(|p| p.strip_prefix("token="));
        if request.method() == Method::GET && from_query.is_some_and(|t| guard.is_token(t)) {
            let rest: Vec<&str> = query.split('&').filter(|p| !p.starts_with("token=")).collect();
            let path = request.uri().path();
            let location = if rest.is_empty() { path.to_string() } else { format!("{path}?{}", rest.join("&")) };
            let cookie = format!(
                "{}={}; HttpOnly; SameSite=Strict; Path=/",
                guard.cookie,
                guard.token.as_deref().unwrap_or_default()
            );
            return Some(
                (StatusCode::SEE_OTHER, [(header::LOCATION, location), (header::SET_COOKIE, cookie)]).into_response(),
            );
        }
        return Some(denied(
            StatusCode::UNAUTHORIZED,
            "this page needs its token: open the address `pricequeue ui` printed (it ends in ?token=...)",
        ));
    }
    let method = request.method();
    if method == Method::GET || method == Method::HEAD {
        return None;
    }
    if method != Method::POST {
        return Some(denied(StatusCode::METHOD_NOT_ALLOWED, "changes are POSTs"));
    }
    if !same_origin(headers, host) {
        return Some(denied(StatusCode::FORBIDDEN, "a change must come from this page, not from another site"));
    }
    let csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    if !same(csrf.as_bytes(), guard.csrf.as_bytes()) {
        return Some(denied(StatusCode::FORBIDDEN, "a change must carry this page's CSRF token: reload the page"));
    }
    // `sql` reads only, whatever the mode.
    if guard.read_only && request.uri().path() != "/sql" {
        return Some(denied(StatusCode::FORBIDDEN, "this page is read-only (pricequeue ui --read-only)"));
    }
    None
}

/// Whether `host` (a Host header: a name and maybe a port) names this
/// machine's loopback, whatever the port (an SSH tunnel may forward another).
fn is_loopback_name(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]")
}

/// Whether a change comes from the page itself: its `Origin` names the
/// host the request is addressed to (over `https` too, behind a proxy that
/// adds TLS); without one, the browser's `Sec-Fetch-Site` says so (a
/// client that sends neither is not a browser, and the CSRF token decides).
fn same_origin(headers: &HeaderMap, host: &str) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
        return authority == Some(host);
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => site == "same-origin" || site == "none",
        None => true,
    }
}

fn denied(status: StatusCode, why: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{why}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut r = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(axum::body::Body::empty()).unwrap()
    }

    #[test]
    fn on_loopback_only_loopback_names_are_served() {
        let g = Guard::new("127.0.0.1:8090".parse().unwrap(), None, false);
        assert!(refuse(&g, &request(Method::GET, "/", &[("host", "127.0.0.1:8090")])).is_none());
        assert!(refuse(&g, &request(Method::GET, "/", &[("host", "localhost:8090")])).is_none());
        // Through a tunnel on another port, or on port 80.
        assert!(refuse(&g, &request(Method::GET, "/", &[("host", "localhost:9000")])).is_none());
        assert!(refuse(&g, &request(Method::GET, "/", &[("host", "[::1]")])).is_none());
        for evil in ["evil.example:8090", "evil.example", "127.0.0.1.evil.example:8090", ""] {
            let r = refuse(&g, &request(Method::GET, "/", &[("host", evil)])).unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{evil}");
        }
    }

    #[test]
    fn with_a_token_every_request_carries_it() {
        let g = Guard::new("0.0.0.0:8090".parse().unwrap(), Some("s3cret".into()), false);
        let host = ("host", "prices.example:8090");
        assert_eq!(refuse(&g, &request(Method::GET, "/", &[host])).unwrap().status(), StatusCode::UNAUTHORIZED);
        let wrong = ("authorization", "Bearer s3creT");
        assert_eq!(refuse(&g, &request(Method::GET, "/", &[host, wrong])).unwrap().status(), StatusCode::UNAUTHORIZED);
        assert!(refuse(&g, &request(Method::GET, "/", &[host, ("authorization", "Bearer s3cret")])).is_none());
        let cookie = ("cookie", "a=b; pricequeue_ui_8090=s3cret");
        assert!(refuse(&g, &request(Method::GET, "/events", &[host, cookie])).is_none());
        // The first visit: the token moves from the address to a cookie.
        let r = refuse(&g, &request(Method::GET, "/failures?token=s3cret&exchange=x", &[host])).unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/failures?exchange=x");
        assert!(r.headers()[header::SET_COOKIE].to_str().unwrap().starts_with("pricequeue_ui_8090=s3cret; HttpOnly"));
        let r = refuse(&g, &request(Method::GET, "/?token=guess", &[host])).unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }

    #[test]
    fn a_change_needs_the_csrf_token_and_the_page_s_origin() {
        let g = Guard::new("127.0.0.1:8090".parse().unwrap(), None, false);
        let host = ("host", "127.0.0.1:8090");
        let csrf = g.csrf.clone();
        let token = ("x-csrf-token", csrf.as_str());
        let ours = ("origin", "http://127.0.0.1:8090");
        assert!(refuse(&g, &request(Method::POST, "/retry", &[host, token, ours])).is_none());
        let status = |h: &[(&str, &str)]| refuse(&g, &request(Method::POST, "/retry", h)).map(|r| r.status());
        assert_eq!(status(&[host, ours]), Some(StatusCode::FORBIDDEN), "no CSRF token");
        assert_eq!(status(&[host, ("x-csrf-token", "0"), ours]), Some(StatusCode::FORBIDDEN), "a wrong one");
        assert_eq!(status(&[host, token, ("origin", "http://evil.example")]), Some(StatusCode::FORBIDDEN));
        assert_eq!(status(&[host, token, ("origin", "null")]), Some(StatusCode::FORBIDDEN));
        assert_eq!(status(&[host, token, ("origin", "https://127.0.0.1:8090")]), None, "behind a TLS proxy");
        assert_eq!(status(&[host, token, ("origin", "http://127.0.0.1:8091")]), Some(StatusCode::FORBIDDEN));
        assert_eq!(status(&[host, token, ("sec-fetch-site", "cross-site")]), Some(StatusCode::FORBIDDEN));
        let put = refuse(&g, &request(Method::PUT, "/retry", &[host, token, ours])).unwrap();
        assert_eq!(put.status(), StatusCode::METHOD_NOT_ALLOWED);
        let ro = Guard::new("127.0.0.1:8090".parse().unwrap(), None, true);
        let token = ("x-csrf-token", ro.csrf.as_str());
        assert_eq!(
            refuse(&ro, &request(Method::POST, "/retry", &[host, token, ours])).map(|r| r.status()),
            Some(StatusCode::FORBIDDEN)
        );
        assert!(refuse(&ro, &request(Method::POST, "/sql", &[host, token, ours])).is_none(), "sql only reads");
    }
}
