//! The built-in price server: the API of `shared/API.md` over synthetic
//! data, for `demo`, for the tests and benchmarks, and for trying
//! pricequeue with nothing else installed.
//!
//! Hand-written on std's TcpListener (httparse reads the request head)
//! rather than on an HTTP framework, because a test server must be able to
//! misbehave at the socket level: stall, reset, cut a body short.

pub mod data;
pub mod faults;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use percent_encoding::percent_decode_str;

pub use faults::{Fault, FaultRule, RetryAfter};

use crate::price::Price;

/// A request head larger than this is refused.
const MAX_HEAD: usize = 16 * 1024;
/// An idle keep-alive connection is closed after this long.
const IDLE: Duration = Duration::from_secs(30);
/// Where the server reports its request counts, as JSON.
pub const STATS_PATH: &str = "/__pricequeue/requests";

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Wait this long before each price answer, like the reference
    /// server's `--sleep`: real fetches are latency-bound.
    pub latency: Duration,
    /// Add a random wait of up to this much to each price answer.
    pub latency_jitter: Duration,
    /// Answer HTTP/1.0-style, closing the connection after each response,
    /// as the reference server does.
    pub close_connections: bool,
    /// Faults to inject into price answers.
    pub faults: Vec<FaultRule>,
    /// `Retry-After` on 429 and 503 answers.
    pub retry_after: RetryAfter,
    /// How long a stalled answer hangs before the connection is closed.
    pub stall: Duration,
    /// Seed of the random draws (faults, jitter): the same seed, the same
    /// sequence of draws.
    pub seed: u64,
    /// Keep a log of every request with its arrival time, for tests.
    pub record: bool,
    /// Live mode: prices go on past the synthetic span to today, and a day's
    /// price is published this long after the day ends (UTC); before that,
    /// and for days to come, the answer is `null`.
    pub live: Option<Duration>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            close_connections: false,
            faults: Vec::new(),
            retry_after: RetryAfter::None,
            stall: faults::DEFAULT_STALL,
            seed: 0,
            record: false,
            live: None,
        }
    }
}

/// A running server; it stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

/// Requests seen by one path.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PathStats {
    /// Requests received.
    pub requests: u64,
    /// Answered with a price object.
    pub prices: u64,
    /// Answered with an injected fault.
    pub faults: u64,
}

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Price,
    Null,
    List,
    NotFound,
    Fault(Fault),
}

/// One request, as the log keeps it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When its head had arrived (before any latency or stall).
    pub at: Instant,
    pub path: String,
    pub answer: Answer,
}

struct Stats {
    total: AtomicU64,
    by_path: Mutex<HashMap<String, PathStats>>,
    log: Mutex<Vec<Seen>>,
    rng: Mutex<fastrand::Rng>,
    turn: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panicking handler thread must not take the counts down with it.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Server {
    /// Binds `addr` (port 0 picks a free one) and serves in the background.
    pub fn start(addr: impl ToSocketAddrs, options: ServerOptions) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats {
            total: AtomicU64::new(0),
            by_path: Mutex::new(HashMap::new()),
            log: Mutex::new(Vec::new()),
            rng: Mutex::new(fastrand::Rng::with_seed(options.seed)),
            turn: AtomicU64::new(0),
        });
        let stopping = Arc::new(AtomicBool::new(false));
        let accept = {
            let (stats, stopping, options) = (Arc::clone(&stats), Arc::clone(&stopping), Arc::new(options));
            thread::Builder::new().name("serve-accept".into()).spawn(move || {
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
        Ok(Server { addr, stats, stopping, accept: Some(accept) })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL to give `--server`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests received so far, all paths together.
    pub fn requests(&self) -> u64 {
        self.stats.total.load(Ordering::Relaxed)
    }

    /// Requests received so far whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> u64 {
        lock(&self.stats.by_path).iter().filter(|(p, _)| p.starts_with(prefix)).map(|(_, s)| s.requests).sum()
    }

    /// How many times each path was requested.
    pub fn counts(&self) -> HashMap<String, u64> {
        lock(&self.stats.by_path).iter().map(|(p, s)| (p.clone(), s.requests)).collect()
    }

    /// Requests, prices and faults of each path.
    pub fn path_stats(&self) -> HashMap<String, PathStats> {
        lock(&self.stats.by_path).clone()
    }

    /// Every request so far, in arrival order (only with `record`).
    pub fn log(&self) -> Vec<Seen> {
        lock(&self.stats.log).clone()
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
        buf.drain(..head);

        let response = if method == "GET" && path == STATS_PATH {
            ok_json(serde_json::to_vec(&*lock(&stats.by_path)).unwrap_or_default(), Answer::List)
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

/// What to send back: an answer, or a fault to act out.
enum Response {
    Answer { status: &'static str, content_type: &'static str, body: Vec<u8>, answer: Answer },
    Fault(Fault),
}

fn respond(method: &str, raw_path: &str, options: &ServerOptions, stats: &Stats) -> Response {
    let nth = {
        let mut by_path = lock(&stats.by_path);
        let entry = by_path.entry(raw_path.to_string()).or_default();
        entry.requests += 1;
        entry.requests
    };
    stats.total.fetch_add(1, Ordering::Relaxed);
    let is_price = raw_path.starts_with("/price/");
    if is_price {
        let (roll, jitter) = {
            let mut rng = lock(&stats.rng);
            (rng.f64(), rng.f64())
        };
        let wait = options.latency + options.latency_jitter.mul_f64(jitter);
        if let Some(fault) = faults::choose(&options.faults, raw_path, nth, roll) {
            return Response::Fault(fault);
        }
        if !wait.is_zero() {
            thread::sleep(wait);
        }
    }
    answer(method, raw_path, options.live)
}

fn record(stats: &Stats, options: &ServerOptions, at: Instant, path: &str, response: &Response) {
    let answer = match response {
        Response::Answer { answer, .. } => *answer,
        Response::Fault(f) => Answer::Fault(*f),
    };
    {
        let mut by_path = lock(&stats.by_path);
        let entry = by_path.entry(path.to_string()).or_default();
        match answer {
            Answer::Price => entry.prices += 1,
            Answer::Fault(_) => entry.faults += 1,
            _ => {}
        }
    }
    if options.record {
        lock(&stats.log).push(Seen { at, path: path.to_string(), answer });
    }
}

/// Writes the response; false when the connection is done with.
fn send(conn: &mut TcpStream, response: Response, keep_alive: bool, options: &ServerOptions, stats: &Stats) -> bool {
    let (status, content_type, body) = match response {
        Response::Answer { status, content_type, body, .. } => (status, content_type, body),
        Response::Fault(fault) => return act_out(conn, fault, options, stats),
    };
    let mut out = Vec::with_capacity(256 + body.len());
    let _ = write!(
        out,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}\r\n",
        body.len(),
        if keep_alive { "" } else { "Connection: close\r\n" }
    );
    out.extend_from_slice(&body);
    conn.write_all(&out).is_ok() && keep_alive
}

/// Plays a fault on the connection; always ends it.
fn act_out(conn: &mut TcpStream, fault: Fault, options: &ServerOptions, stats: &Stats) -> bool {
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

fn answer(method: &str, raw_path: &str, live: Option<Duration>) -> Response {
    // Like the reference server: decode first, then route, so a `%2F`
    // inside a name adds a path segment and matches nothing.
    let path = raw_path.split('?').next().unwrap_or("");
    let path = percent_decode_str(path).decode_utf8_lossy();
    let parts: Vec<&str> = path.split('/').collect();
    match (method, parts.as_slice()) {
        ("GET", ["", "exchanges"]) => names(data::EXCHANGES),
        ("GET", ["", "symbols"]) => names(data::SYMBOLS),
        ("GET", ["", "price", exchange, symbol, day]) => {
            let published = |d: NaiveDate| match live {
                None => data::price(exchange, symbol, d),
                Some(delay) => {
                    let out = crate::clock::after(crate::clock::day_end(d), delay) <= crate::clock::now_ms();
                    out.then(|| data::recent_price(exchange, symbol, d)).flatten()
                }
            };
            let price = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok().and_then(|d| published(d).map(|p| (d, p)));
            match price {
                Some((d, p)) => ok_json(render_price(exchange, symbol, d, &p).into_bytes(), Answer::Price),
                None => ok_json(b"null".to_vec(), Answer::Null),
            }
        }
        _ => Response::Answer {
            status: "404 Not Found",
            content_type: "text/html",
            body: b"<!DOCTYPE html><html><body><h1>404 Not Found</h1></body></html>".to_vec(),
            answer: Answer::NotFound,
        },
    }
}

/// A list of names, spaced as the reference server (Python's json) writes it.
fn names(list: &[&str]) -> Response {
    let quoted: Vec<String> = list.iter().map(|n| serde_json::Value::from(*n).to_string()).collect();
    ok_json(format!("[{}]", quoted.join(", ")).into_bytes(), Answer::List)
}

fn ok_json(body: Vec<u8>, answer: Answer) -> Response {
    Response::Answer { status: "200 OK", content_type: "application/json", body, answer }
}

/// A price object as the API sends it, whole numbers as JSON integers.
pub fn render_price(exchange: &str, symbol: &str, day: NaiveDate, p: &Price) -> String {
    let num = |x: f64| {
        if x.fract() == 0.0 && x.abs() < 1e15 {
            format!("{}", x as i64)
        } else {
            serde_json::Number::from_f64(x).map(|n| n.to_string()).unwrap_or_else(|| "null".into())
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
