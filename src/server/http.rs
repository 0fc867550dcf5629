//! HTTP/1.1 framing on a bare socket: reading a request head, writing a
//! response, and the keep-alive loop of one connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use super::options::ServerOptions;
use super::play::act_out;
use super::response::{ok_json, AnswerKind, Response};
use super::routes::respond;
use super::stats::{lock, record, Stats, STATS_PATH};

/// A request head larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(30);

/// Answers the requests of one connection until the client closes it,
/// it idles out, or an answer ends it.
pub(super) fn serve_connection(mut conn: TcpStream, options: &ServerOptions, stats: &Stats) {
    let _ = conn.set_read_timeout(Some(IDLE));
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(1024);
    loop {
        let Some(head) = read_head(&mut conn, &mut buf) else {
            return;
        };
        let arrived = Instant::now();
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        let keep_alive = match req.parse(&buf[..head]) {
            Ok(httparse::Status::Complete(_)) => {
                let close_asked = req
                    .headers
                    .iter()
                    .any(|h| h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close"));
                !options.close_connections && req.version == Some(1) && !close_asked
            }
            _ => {
                let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                return;
            }
        };
        let method = req.method.unwrap_or("").to_string();
        let path = req.path.unwrap_or("/").to_string();
        let authorized = options.basic_auth.as_deref().is_none_or(|wanted| {
            let header = req.headers.iter().find(|h| h.name.eq_ignore_ascii_case("authorization"));
            header.is_some_and(|h| h.value == basic(wanted).as_bytes())
        });
        buf.drain(..head);

        let response = if method == "GET" && path == STATS_PATH {
            ok_json(serde_json::to_vec(&*lock(&stats.by_path)).unwrap_or_default(), AnswerKind::List)
        } else if !authorized {
            let response = Response::Headed {
                status: "401 Unauthorized",
                headers: vec![("WWW-Authenticate", "Basic realm=\"pricequeue\"".into())],
                content_type: "application/json",
                body: br#"{"error": "a user name and password are needed"}"#.to_vec(),
                answer: AnswerKind::Unauthorized,
            };
            record(stats, options, arrived, &path, &response);
            response
        } else {
            let response = respond(&method, &path, options, stats);
            record(stats, options, arrived, &path, &response);
            response
        };
        if !send(&mut conn, response, keep_alive, options, stats) {
            return;
        }
    }
}

/// The `Authorization` header a client sends for `user:password`.
fn basic(user_password: &str) -> String {
    let (user, password) = user_password.split_once(':').unwrap_or((user_password, ""));
    crate::source::Credentials::new(user, Some(password)).authorization()
}

/// Writes the response; false when the connection is done with.
fn send(conn: &mut TcpStream, response: Response, keep_alive: bool, options: &ServerOptions, stats: &Stats) -> bool {
    let (status, headers, content_type, body) = match response {
        Response::Message { status, content_type, body, .. } => (status, Vec::new(), content_type, body),
        Response::Headed { status, headers, content_type, body, .. } => (status, headers, content_type, body),
        Response::Fault(fault) => return act_out(conn, fault, options, stats),
    };
    let mut out = Vec::with_capacity(256 + body.len());
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let _ = write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{extra}{}\r\n",
        body.len(),
        if keep_alive { "" } else { "Connection: close\r\n" }
    );
    out.extend_from_slice(&body);
    conn.write_all(&out).is_ok() && keep_alive
}

/// Reads until a whole request head is in `buf`; returns its length.
fn read_head(conn: &mut TcpStream, buf: &mut Vec<u8>) -> Option<usize> {
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(end + 4);
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}
