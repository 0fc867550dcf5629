//! The built-in price server: the API of `docs/API.md` over synthetic
//! data, and stand-ins for the real price APIs under their own paths
//! (`stand_ins/`), for `demo`, for the tests and benchmarks, and for trying
//! pricequeue with nothing else installed.
//!
//! Hand-written on std's TcpListener (httparse reads the request head)
//! rather than on an HTTP framework, because a test server must be able to
//! misbehave at the socket level: stall, reset, cut a body short.

pub mod data;
pub mod faults;
pub mod stand_ins;

mod http;
mod options;
mod play;
mod response;
mod routes;
mod stats;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

pub use faults::{Fault, FaultRule, RetryAfter};
pub use options::ServerOptions;
pub use response::AnswerKind;
pub use routes::render_price;
pub use stats::{PathStats, Seen, STATS_PATH};

use http::serve_connection;
use stats::{lock, Stats};

/// A running server; it stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    stopping: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
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
            weight: Mutex::new(stats::Weight::default()),
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
