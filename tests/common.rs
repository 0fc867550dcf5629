//! The test harness: a sandbox with a database (an SQLite file or a
//! PostgreSQL database) and a price server, and a runner for the binary
//! with a time limit.

pub mod postgres;
mod spellings;

pub use spellings::{hidden, spellings};

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricequeue::server::{Server, ServerOptions};
use pricequeue::store::testing::{self, Param, Row};
use tempfile::TempDir;

/// No command of the suite may take longer than this; past it, the test
/// fails instead of hanging CI.
const COMMAND_LIMIT: Duration = Duration::from_secs(120);

pub fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test day")
}

/// What a finished command printed, and its exit code.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts the exit code, showing the output when it is wrong.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Output {
        assert_eq!(self.code, code, "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
    /// The summary `work` and `fetch` print on stdout with `--format json`:
    /// its counts are asserted exactly, where a `contains("0 failed")` on
    /// the line for people would pass on "10 failed" too.
    #[track_caller]
    pub fn summary(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "no JSON summary on stdout ({e}); run with --format json\nstdout:\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The binary under test: this build's, or the one `PRICEQUEUE_TEST_BIN`
/// names (to run the suite against another build, an older one say).
pub fn bin() -> PathBuf {
    std::env::var_os("PRICEQUEUE_TEST_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_pricequeue")), PathBuf::from)
}

/// A temporary directory, a database of the backend `B`, and a price
/// server. Each test gets its own of all three.
pub struct Sandbox<B: Backend> {
    pub dir: TempDir,
    pub server: Server,
    database: B::Database,
}

/// The tests that run on SQLite files.
pub type SqliteSandbox = Sandbox<Sqlite>;

/// The tests that run on PostgreSQL databases.
pub type PgSandbox = Sandbox<Postgres>;

impl<B: Backend> Sandbox<B> {
    /// A sandbox with the built-in server as it is by default; `None` when
    /// the backend is not there and the test is to be skipped (it returns
    /// at once: `let Some(sb) = Sandbox::new() else { return };`). Stable
    /// Rust's test harness has no way to mark a test skipped at run time,
    /// so the backend says so once, on stderr.
    pub fn new() -> Option<Self> {
        Self::with_server(ServerOptions::default())
    }

    /// The same, with the built-in server started with `options`.
    pub fn with_server(options: ServerOptions) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = B::create(dir.path())?;
        let server = Server::start("127.0.0.1:0", options).expect("start the test server");
        Some(Sandbox { dir, server, database })
    }

    /// The database as `--db` takes it: a file's path or a URL.
    pub fn db(&self) -> String {
        B::name(&self.database)
    }

    /// Whether no command has stored anything yet: no file, or no table.
    pub fn nothing_stored(&self) -> bool {
        B::nothing_stored(&self.database)
    }

    /// The binary with `--db` and `--server` pointing into the sandbox.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_at(&self.server.url(), args)
    }

    /// The same with `--server` at `server` (the sandbox's with a user and
    /// password, another server of the test's).
    pub fn command_at(&self, server: &str, args: &[&str]) -> Command {
        let mut cmd = self.command_without_server(&["--server", server]);
        cmd.args(args);
        cmd
    }

    /// The binary with `--db` pointing into the sandbox, and no `--server`:
    /// each source at its own (declared) address.
    pub fn command_without_server(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.current_dir(self.dir.path())
            .env_remove("PRICEQUEUE_DB")
            .env_remove("PRICEQUEUE_SERVER")
            .env_remove("PRICEQUEUE_HOSTNAME")
            .env_remove("PRICEQUEUE_SOURCE")
            .env_remove("PRICEQUEUE_SOURCES")
            // No declared sources of the user's: the default file is looked
            // for under here.
            .env("XDG_CONFIG_HOME", self.dir.path())
            .arg("--db")
            .arg(self.db())
            .args(args);
        cmd
    }

    /// Runs the binary to the end.
    pub fn run(&self, args: &[&str]) -> Output {
        run(self.command(args))
    }

    /// Every row of tasks and prices, as text: equal dumps, equal databases.
    pub fn dump(&self) -> String {
        testing::dump(self.db())
    }

    /// Everything the database holds, as text: for a search.
    pub fn stored_text(&self) -> String {
        testing::stored_text(self.db())
    }

    /// The number `sql` (a `SELECT count(*) ...`) returns.
    pub fn count(&self, sql: &str) -> i64 {
        testing::count(self.db(), sql)
    }

    /// The first row `sql` returns: one column, a tuple or an array.
    pub fn one<R: Row>(&self, sql: &str, params: &[&dyn Param]) -> R {
        testing::one(self.db(), sql, params)
    }

    /// The first row `sql` returns, if any.
    pub fn row<R: Row>(&self, sql: &str, params: &[&dyn Param]) -> Option<R> {
        testing::row(self.db(), sql, params)
    }

    /// Every row `sql` returns.
    pub fn rows<R: Row>(&self, sql: &str, params: &[&dyn Param]) -> Vec<R> {
        testing::rows(self.db(), sql, params)
    }

    /// A hand edit of the database (as another program or a person makes
    /// one); the number of rows changed.
    pub fn execute(&self, sql: &str, params: &[&dyn Param]) -> usize {
        testing::execute(self.db(), sql, params)
    }

    /// Hand edits, statements separated by `;`.
    pub fn execute_batch(&self, sql: &str) {
        testing::execute_batch(self.db(), sql)
    }
}

impl Sandbox<Sqlite> {
    /// An SQLite sandbox, for the tests that are about files (or about no
    /// database at all): it is never skipped.
    pub fn sqlite() -> Self {
        Self::sqlite_with_server(ServerOptions::default())
    }

    /// The same, with the built-in server started with `options`.
    pub fn sqlite_with_server(options: ServerOptions) -> Self {
        Self::with_server(options).expect("SQLite needs no server")
    }

    /// The database file's path.
    pub fn path(&self) -> PathBuf {
        self.database.clone()
    }
}

impl Sandbox<Postgres> {
    /// A sandbox whose test is the only PostgreSQL test running while it
    /// lives: for a test that restarts the server under everyone's feet.
    pub fn alone(options: ServerOptions) -> Option<Self> {
        let hold = postgres::hold(true);
        let sb = Self::with_server(options)?;
        drop(hold); // the sandbox's database holds it now
        Some(sb)
    }
}

/// A kind of database a sandbox can make for its test.
pub trait Backend {
    /// What the sandbox keeps of its database; dropping it removes it.
    type Database;
    /// A database of the test's own, or `None` to skip the test.
    fn create(dir: &Path) -> Option<Self::Database>;
    /// The database as `--db` takes it.
    fn name(db: &Self::Database) -> String;
    /// Whether nothing is stored in it yet.
    fn nothing_stored(db: &Self::Database) -> bool;
}

/// SQLite: a file in the sandbox's directory, not created until a command
/// creates it.
pub struct Sqlite;

impl Backend for Sqlite {
    type Database = PathBuf;

    fn create(dir: &Path) -> Option<PathBuf> {
        Some(dir.join("prices.db"))
    }

    fn name(db: &PathBuf) -> String {
        db.to_string_lossy().into_owned()
    }

    fn nothing_stored(db: &PathBuf) -> bool {
        !db.exists()
    }
}

/// PostgreSQL: a database of its own on the server
/// `PRICEQUEUE_TEST_POSTGRES` names, dropped when the test ends.
pub struct Postgres;

impl Backend for Postgres {
    type Database = postgres::Database;

    fn create(_dir: &Path) -> Option<postgres::Database> {
        postgres::Database::create()
    }

    fn name(db: &postgres::Database) -> String {
        db.url.clone()
    }

    fn nothing_stored(db: &postgres::Database) -> bool {
        let tables = "SELECT count(*) FROM information_schema.tables
                      WHERE table_schema NOT IN ('pg_catalog', 'information_schema')";
        testing::count(&db.url, tables) == 0
    }
}

/// Runs a command with stdin closed, capturing its output, killing it if it
/// outlives [`COMMAND_LIMIT`].
pub fn run(mut cmd: Command) -> Output {
    let child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start pricequeue");
    wait(child)
}

/// Waits for a spawned child (stdout and stderr piped) with the time limit.
pub fn wait(mut child: Child) -> Output {
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + COMMAND_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for pricequeue") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("pricequeue ran longer than {COMMAND_LIMIT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// Asserts that `task_counts` (what `status` reads) agrees with the tasks.
/// A key may have several rows in it (a backend may spread a busy key's
/// count over rows, so that workers do not wait on one), so their sums are
/// compared.
#[track_caller]
pub fn counts_agree<B: Backend>(sb: &Sandbox<B>) {
    type Counts = Vec<(String, String, String, String, i64)>;
    let kept: Counts = sb.rows(
        "SELECT exchange, symbol, source, state, CAST(sum(n) AS bigint) FROM task_counts GROUP BY 1, 2, 3, 4
         HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4",
        &[],
    );
    let real: Counts = sb.rows(
        "SELECT exchange, symbol, source, state, count(*) FROM tasks GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4",
        &[],
    );
    assert_eq!(kept, real, "task_counts drifted from the tasks");
}

/// A price server of the test's own making: each request path gets the
/// answer scripted for it (HTTP/1.0, the connection closed after each), any
/// other path a 404. For answers the built-in server never gives: a price
/// for another cell, numbers that are not a price, an HTML page.
pub struct Scripted {
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Scripted {
    /// `routes`: (path, status line, content type, body); a path of `*` answers every path.
    pub fn start(routes: Vec<(&str, &str, &str, String)>) -> Scripted {
        use std::io::Write;
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let routes: Vec<(String, String, String, String)> =
            routes.into_iter().map(|(p, s, c, b)| (p.into(), s.into(), c.into(), b)).collect();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        thread::spawn(move || {
            // Bounded: the test drops the server, or two minutes pass.
            let until = Instant::now() + Duration::from_secs(120);
            while !stopping.load(Ordering::Relaxed) && Instant::now() < until {
                let Ok((mut conn, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = conn.set_nonblocking(false);
                let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, content_type, body) = routes
                    .iter()
                    .find(|(p, ..)| *p == path || p == "*")
                    .map(|(_, s, c, b)| (s.as_str(), c.as_str(), b.as_str()))
                    .unwrap_or(("404 Not Found", "text/html", "<h1>404</h1>"));
                let _ = write!(
                    conn,
                    "HTTP/1.0 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Scripted { url, stop }
    }
}

impl Drop for Scripted {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A server that accepts connections and never answers: each connection
/// is held open, silent, until the test drops it (or a minute passes).
pub struct BlackHole {
    pub url: String,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl BlackHole {
    pub fn start() -> BlackHole {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        thread::spawn(move || {
            let mut held = Vec::new();
            let until = Instant::now() + Duration::from_secs(60);
            while !stopping.load(Ordering::Relaxed) && Instant::now() < until {
                if let Ok((conn, _)) = listener.accept() {
                    held.push(conn);
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        BlackHole { url, stop }
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A spawned binary (stdout and stderr piped), killed if the test ends
/// before it does: a failing test leaves no process behind (a stopped one
/// least of all).
pub struct Running(Option<Child>);

impl Running {
    pub fn spawn(mut cmd: Command) -> Running {
        let child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start pricequeue");
        Running(Some(child))
    }

    /// Sends the signal `name` (TERM, STOP, CONT, ...).
    pub fn signal(&self, name: &str) {
        let pid = self.0.as_ref().expect("running").id().to_string();
        let status = Command::new("kill").args([&format!("-{name}"), &pid]).status().expect("run kill");
        assert!(status.success(), "kill -{name} {pid}");
    }

    /// Waits for it to end, with the time limit.
    pub fn wait(mut self) -> Output {
        wait(self.0.take().expect("running"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill(); // SIGKILL ends a stopped process too
            let _ = child.wait();
        }
    }
}
