//! Acting out a [`Fault`] on the socket: the wrong status, a stall, a
//! reset, a body cut short or far too long.

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use super::faults::{Fault, RetryAfter};
use super::options::ServerOptions;
use super::stats::Stats;

/// Plays a fault on the connection; always ends it.
pub(super) fn act_out(conn: &mut TcpStream, fault: Fault, options: &ServerOptions, stats: &Stats) -> bool {
    let head = |status: &str, extra: &str, length: usize| {
        format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}Connection: close\r\n\r\n")
    };
    let retry_after = match options.retry_after {
        RetryAfter::None => String::new(),
        RetryAfter::Seconds(s) => format!("Retry-After: {s}\r\n"),
        RetryAfter::Date(s) => {
            // An HTTP date has whole seconds: round up, so the wait it
            // asks for is never shorter than `s`.
            let at = chrono::Utc::now() + chrono::Duration::seconds(s as i64 + 1);
            format!("Retry-After: {}\r\n", at.format("%a, %d %b %Y %H:%M:%S GMT"))
        }
        RetryAfter::Raw(text) => format!("Retry-After: {text}\r\n"),
    };
    let price = r#"{"exchange": "bitstamp", "symbol": "btc", "open": 7893.63, "high": 7988.78, "low": 7591.99, "close": 7934.57, "volume": 7289.61145281, "day": "2020-03-12"}"#;
    let _ = match fault {
        Fault::ServerError => {
            let status = ["500 Internal Server Error", "502 Bad Gateway", "504 Gateway Timeout"]
                [(stats.turn.fetch_add(1, Ordering::Relaxed) % 3) as usize];
            conn.write_all(head(status, "", 0).as_bytes())
        }
        Fault::RateLimited => conn.write_all(head("429 Too Many Requests", &retry_after, 0).as_bytes()),
        Fault::Unavailable => conn.write_all(head("503 Service Unavailable", &retry_after, 0).as_bytes()),
        // The stand-ins answer these themselves; on the reference API's
        // paths a ban is a 418, a limit a 429, busy a 503 (no time said),
        // the rest a 500.
        Fault::Ban => conn.write_all(head("418 I'm a teapot", &retry_after, 0).as_bytes()),
        Fault::BodyLimit => conn.write_all(head("429 Too Many Requests", &retry_after, 0).as_bytes()),
        Fault::Busy => conn.write_all(head("503 Service Unavailable", "", 0).as_bytes()),
        Fault::ShortPage | Fault::OffUtc | Fault::Duplicate | Fault::Unclosed => {
            conn.write_all(head("500 Internal Server Error", "", 0).as_bytes())
        }
        Fault::IgnoreRange | Fault::CutStart | Fault::CutEnd | Fault::WrongUnit | Fault::OffUtcEarly => {
            conn.write_all(head("500 Internal Server Error", "", 0).as_bytes())
        }
        Fault::Stall => {
            thread::sleep(options.stall);
            Ok(())
        }
        Fault::Reset => {
            // Linger 0: close sends RST instead of FIN.
            let _ = socket2::SockRef::from(&*conn).set_linger(Some(Duration::ZERO));
            Ok(())
        }
        Fault::Malformed => {
            let body = &price.as_bytes()[..price.len() / 2];
            conn.write_all(head("200 OK", "", body.len()).as_bytes()).and_then(|_| conn.write_all(body))
        }
        Fault::Truncated => {
            let body = price.as_bytes();
            conn.write_all(head("200 OK", "", body.len()).as_bytes())
                .and_then(|_| conn.write_all(&body[..body.len() / 2]))
        }
        Fault::Oversized => {
            let total = 64usize << 20;
            let chunk = vec![b' '; 64 * 1024];
            let mut result = conn.write_all(head("200 OK", "", total).as_bytes());
            // Stream until the client hangs up (it should, at its limit), but never more than announced.
            let mut sent = 0;
            while result.is_ok() && sent < total {
                result = conn.write_all(&chunk);
                sent += chunk.len();
            }
            result
        }
    };
    false
}
