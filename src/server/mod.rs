//! The built-in price server: the API of `shared/API.md` over synthetic
//! data, for `demo`, for the tests and benchmarks, and for trying
//! pricequeue with nothing else installed.
//!
//! Hand-written on std's TcpListener (httparse reads the request head)
//! rather than on an HTTP framework, because a test server must be able to
//! misbehave at the socket level: stall, reset, cut a body short.

pub mod data;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use chrono::NaiveDate;
use percent_encoding::percent_decode_str;

use crate::price::Price;

/// A request head larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(30);

/// How the server behaves.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Wait this long before each price answer, like the reference
    /// server's `--sleep`: real fetches are latency-bound.
    pub latency: Duration,
    /// Answer HTTP/1.0-style, closing the connection after each response,
    /// as the reference server does.
    pub close_connections: bool,
}

/// A running server; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// Requests seen, for tests that prove how often each price was asked for.
#[derive(Default)]
struct Stats {
    total: AtomicU64,
    by_path: Mutex<HashMap<String, u64>>,
}

impl Server {
    /// Binds `addr` (port 0 picks a free one) and serves in the background.
    pub fn start(addr: impl ToSocketAddrs, options: ServerOptions) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let accept = {
            let (stats, stopping, options) =
                (Arc::clone(&stats), Arc::clone(&stopping), Arc::new(options));
            thread::Builder::new()
                .name("serve-accept".into())
                .spawn(move || {
                    for conn in listener.incoming() {
                        if stopping.load(Ordering::Relaxed) {
                            break;
                        }
                        let Ok(conn) = conn else { continue };
                        let (stats, options) = (Arc::clone(&stats), Arc::clone(&options));
                        let spawned = thread::Builder::new()
                            .stack_size(128 * 1024)
                            .spawn(move || serve_connection(conn, &options, &stats));
                        if spawned.is_err() {
                            // Out of threads: the connection is dropped and the client retries.
                            thread::sleep(Duration::from_millis(10));
                        }
                    }
                })?
        };
        Ok(Server {
            addr,
            stats,
            stopping,
            accept: Some(accept),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give `--server`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests answered so far, all paths together.
    pub fn requests(&self) -> u64 {
        self.stats.total.load(Ordering::Relaxed)
    }

    /// Requests answered so far whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> u64 {
        let by_path = self.stats.by_path.lock().unwrap_or_else(|e| e.into_inner());
        by_path
            .iter()
            .filter(|(p, _)| p.starts_with(prefix))
            .map(|(_, n)| n)
            .sum()
    }

    /// How many times each path was requested.
    pub fn counts(&self) -> HashMap<String, u64> {
        self.stats
            .by_path
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serves until the process ends.
    pub fn wait(mut self) {
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve_connection(mut conn: TcpStream, options: &ServerOptions, stats: &Stats) {
    let _ = conn.set_read_timeout(Some(IDLE));
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::with_capacity(1024);
    loop {
        let Some(head) = read_head(&mut conn, &mut buf) else {
            return;
        };
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        let keep_alive = match req.parse(&buf[..head]) {
            Ok(httparse::Status::Complete(_)) => {
                let close_asked = req.headers.iter().any(|h| {
                    h.name.eq_ignore_ascii_case("connection")
                        && h.value.eq_ignore_ascii_case(b"close")
                });
                !options.close_connections && req.version == Some(1) && !close_asked
            }
            _ => {
                let _ = conn.write_all(
                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
                return;
            }
        };
        let method = req.method.unwrap_or("");
        let path = req.path.unwrap_or("/").to_string();
        let response = answer(method, &path, options);
        count(stats, &path);
        let mut out = Vec::with_capacity(256 + response.body.len());
        let _ = write!(
            out,
            "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}\r\n",
            response.status,
            response.content_type,
            response.body.len(),
            if keep_alive {
                ""
            } else {
                "Connection: close\r\n"
            }
        );
        out.extend_from_slice(&response.body);
        if conn.write_all(&out).is_err() || !keep_alive {
            return;
        }
        buf.drain(..head);
    }
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

fn count(stats: &Stats, path: &str) {
    stats.total.fetch_add(1, Ordering::Relaxed);
    let mut by_path = stats.by_path.lock().unwrap_or_else(|e| e.into_inner());
    *by_path.entry(path.to_string()).or_insert(0) += 1;
}

struct Response {
    status: &'static str,
    content_type: &'static str,
    body: Vec<u8>,
}

fn answer(method: &str, raw_path: &str, options: &ServerOptions) -> Response {
    // Like the reference server: decode first, then route, so a `%2F`
    // inside a name adds a path segment and matches nothing.
    let path = raw_path.split('?').next().unwrap_or("");
    let path = percent_decode_str(path).decode_utf8_lossy();
    let parts: Vec<&str> = path.split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["", "exchanges"]) => names(data::EXCHANGES),
        ("GET", ["", "symbols"]) => names(data::SYMBOLS),
        ("GET", ["", "price", exchange, symbol, day]) => {
            if !options.latency.is_zero() {
                thread::sleep(options.latency);
            }
            let price = NaiveDate::parse_from_str(day, "%Y-%m-%d")
                .ok()
                .and_then(|d| data::price(exchange, symbol, d).map(|p| (d, p)));
            match price {
                Some((d, p)) => ok_json(render_price(exchange, symbol, d, &p).into_bytes()),
                None => ok_json(b"null".to_vec()),
            }
        }
        _ => Response {
            status: "404 Not Found",
            content_type: "text/html",
            body: b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>".to_vec(),
        },
    }
}

/// A list of names, spaced as the reference server (Python's json) writes it.
fn names(list: &[&str]) -> Response {
    let quoted: Vec<String> = list
        .iter()
        .map(|n| serde_json::Value::from(*n).to_string())
        .collect();
    ok_json(format!("[{}]", quoted.join(", ")).into_bytes())
}

fn ok_json(body: Vec<u8>) -> Response {
    Response {
        status: "200 OK",
        content_type: "application/json",
        body,
    }
}

/// A price object as the API sends it, whole numbers as JSON integers.
pub fn render_price(exchange: &str, symbol: &str, day: NaiveDate, p: &Price) -> String {
    let num = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            serde_json::Number::from_f64(x)
                .map(|n| n.to_string())
                .unwrap_or_else(|| "null".into())
        }
    };
    format!(
        r#"{{"exchange": {}, "symbol": {}, "open": {}, "high": {}, "low": {}, "close": {}, "volume": {}, "day": "{day}"}}"#,
        serde_json::Value::from(exchange),
        serde_json::Value::from(symbol),
        num(p.open),
        num(p.high),
        num(p.low),
        num(p.close),
        num(p.volume)
    )
}
