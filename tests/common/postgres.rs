//! The PostgreSQL side of the sandbox: where the server is, a database per
//! test, and the lock that lets one test restart the server.
//!
//! The server is the one `PRICEQUEUE_TEST_POSTGRES` names (by default
//! `postgres://postgres@127.0.0.1:5432/postgres`), reached as a user that
//! may create databases. Without it the PostgreSQL tests are skipped, with
//! one line on stderr, unless `PRICEQUEUE_REQUIRE_POSTGRES=1` (as `.ci/run`
//! sets), under which they fail instead.

use std::cell::RefCell;
use std::io::Write;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use pricequeue::store::testing;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The server's URL: a database there from which others are created.
pub fn admin_url() -> String {
    std::env::var("PRICEQUEUE_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_URL.into())
}

/// Whether a missing server fails the run rather than skipping its tests.
fn required() -> bool {
    std::env::var("PRICEQUEUE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Whether the server is there, asked once per test process; on the first
/// ask, databases that earlier test processes left behind are dropped.
fn available() -> bool {
    static FOUND: OnceLock<Result<(), String>> = OnceLock::new();
    let admin = admin_url();
    let found = FOUND.get_or_init(|| {
        testing::reachable(&admin)?;
        drop_leftovers(&admin);
        Ok(())
    });
    match found {
        Ok(()) => true,
        Err(e) if required() => panic!(
            "PRICEQUEUE_REQUIRE_POSTGRES=1, but there is no PostgreSQL at {admin} ({e}): start it, or point \
             PRICEQUEUE_TEST_POSTGRES at one"
        ),
        Err(_) => {
            static SAID: OnceLock<()> = OnceLock::new();
            SAID.get_or_init(|| {
                // Straight to stderr: the harness captures eprintln! of a passing test.
                let _ = writeln!(std::io::stderr(), "skipped: no PostgreSQL at {admin} (set PRICEQUEUE_TEST_POSTGRES)");
            });
            false
        }
    }
}

/// Drops the `pq_test_<pid>_<n>` databases of test processes that are gone
/// (killed before their sandboxes were dropped).
fn drop_leftovers(admin: &str) {
    let names: Vec<String> =
        testing::rows(admin, "SELECT datname FROM pg_database WHERE datname LIKE 'pq\\_test\\_%'", &[]);
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()) {
            let url = testing::database_url(admin, &name);
            let _ = testing::drop_database(admin, &url);
        }
    }
}

/// A test's own database, dropped with it.
pub struct Database {
    pub url: String,
    admin: String,
    // Declared last: the database is dropped before the hold is let go.
    _hold: Rc<Hold>,
}

impl Database {
    /// A new empty database, or `None` when there is no server (and the
    /// test is to be skipped).
    pub fn create() -> Option<Database> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let hold = hold(false);
        if !available() {
            return None;
        }
        let admin = admin_url();
        let name = format!("pq_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let url = testing::create_database(&admin, &name);
        Some(Database { url, admin, _hold: hold })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Err(e) = testing::drop_database(&self.admin, &self.url) {
            let _ = writeln!(std::io::stderr(), "could not drop the test database {}: {e}", self.url);
        }
    }
}

/// What a thread's sandboxes hold of the restart lock.
pub enum Hold {
    /// Any number of tests run beside each other.
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    /// One test runs alone (it restarts the server).
    Exclusive(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

/// Every PostgreSQL sandbox holds this shared; a test that restarts the
/// server holds it exclusively, so that no other test sees the restart.
static RESTART: RwLock<()> = RwLock::new(());

thread_local! {
    /// The hold of this thread's sandboxes: a test with two sandboxes takes
    /// the lock once (taking it twice could wait forever behind a waiting
    /// restart, which waits for the first).
    static HELD: RefCell<Weak<Hold>> = const { RefCell::new(Weak::new()) };
}

/// This thread's hold on the restart lock, taken if it has none.
pub fn hold(exclusive: bool) -> Rc<Hold> {
    HELD.with(|held| {
        if let Some(h) = held.borrow().upgrade() {
            assert!(!exclusive || matches!(*h, Hold::Exclusive(_)), "a test holding a sandbox cannot then be alone");
            return h;
        }
        let h = Rc::new(if exclusive {
            Hold::Exclusive(RESTART.write().unwrap_or_else(PoisonError::into_inner))
        } else {
            Hold::Shared(RESTART.read().unwrap_or_else(PoisonError::into_inner))
        });
        *held.borrow_mut() = Rc::downgrade(&h);
        h
    })
}
