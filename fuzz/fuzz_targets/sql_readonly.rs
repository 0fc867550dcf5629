//! `store::run_readonly`, the guard of `pricequeue sql`: any statement text
//! against a real pricequeue database.
//!
//! Oracle, whatever the statement (and whether it is refused or not):
//! - never panics, and returns within the fuzzer's -timeout (the statement
//!   timeout is 200 ms);
//! - the database file (and its -wal, if one is there) is byte-identical
//!   afterwards;
//! - no file appears in (or leaves) the database's directory, which is also
//!   the working directory, so relative names in ATTACH or VACUUM INTO land
//!   there;
//! - rows come after the header and have as many values as it has names.
//!
//! The database is made once per process through the library (schema,
//! tasks in several states, a price, a server pause), in a temporary
//! directory. A read-only open of a WAL database makes the -wal and -shm
//! files when they are missing, and leaves them; the baseline is therefore
//! taken after one `SELECT 1` through `run_readonly` (what it left is
//! printed at start-up), and the -shm (reader marks) is not compared.
#![no_main]

use std::cell::Cell;
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use pricequeue::price::Price;
use pricequeue::store::{run_readonly, Completion, Create, Options, Outcome, Store};

static STOP: AtomicBool = AtomicBool::new(false);
const TIMEOUT: Duration = Duration::from_millis(200);

struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
    options: Options,
    wal: PathBuf,
    bytes: Vec<u8>,
    wal_bytes: Option<Vec<u8>>,
    names: BTreeSet<OsString>,
}

fn names(dir: &Path) -> BTreeSet<OsString> {
    std::fs::read_dir(dir).expect("listing the database directory").map(|e| e.unwrap().file_name()).collect()
}

fn build(db: &Path) -> anyhow::Result<()> {
    let store = Store::open(&Options::new(db, Create::IfMissing))?;
    let day = |d| NaiveDate::from_ymd_opt(2020, 3, d).unwrap();
    let days: Vec<NaiveDate> = (1..=5).map(day).collect();
    let now = pricequeue::store::now_ms();
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    store.enqueue_days(
        "cryptodb",
        &names(&["kraken", "bitstamp"]),
        &names(&["btc", "eth"]),
        pricequeue::interval::Interval::D1,
        &days,
        now,
        Duration::ZERO,
    )?;
    let tasks = store.claim("fuzz", 4, now, now + 60_000, &names(&["cryptodb"]), None)?;
    let outcomes = [
        Outcome::Price(Price { open: 10.0, high: 12.0, low: 9.0, close: 11.0, volume: 100.0 }),
        Outcome::NoData,
        Outcome::Failed { error: "HTTP 404".into() },
    ];
    let done: Vec<Completion> =
        tasks.into_iter().zip(outcomes).map(|(task, outcome)| Completion { task, outcome }).collect();
    store.complete(&done)?;
    store.set_pause("http://127.0.0.1:9", now + 1000)?;
    Ok(())
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let tmp = tempfile::Builder::new().prefix("pricequeue-fuzz-sql").tempdir().expect("a temporary directory");
        let dir = tmp.path().canonicalize().unwrap();
        let db = dir.join("prices.db");
        build(&db).expect("building the database");
        let pristine = std::fs::read(&db).unwrap();
        let before = names(&dir);
        std::env::set_current_dir(&dir).expect("cd to the database directory");
        let options = Options::new(db.as_path(), Create::No);
        run_readonly(&options, "SELECT 1", TIMEOUT, &STOP, |_| Ok(()), |_| Ok(())).expect("SELECT 1");
        let bytes = std::fs::read(&db).unwrap();
        assert!(bytes == pristine, "SELECT 1 changed the database file");
        let after = names(&dir);
        eprintln!(
            "sql_readonly: database {} ({} bytes); files before a first read {:?}, after it {:?}",
            db.display(),
            bytes.len(),
            before,
            after
        );
        let mut wal = db.clone().into_os_string();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        let wal_bytes = std::fs::read(&wal).ok();
        Fixture { _dir: tmp, dir, db, options, wal, bytes, wal_bytes, names: after }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let sql = String::from_utf8_lossy(data);
    let columns: Cell<Option<usize>> = Cell::new(None);
    let _ = run_readonly(
        &f.options,
        &sql,
        TIMEOUT,
        &STOP,
        |names| {
            columns.set(Some(names.len()));
            Ok(())
        },
        |values| {
            let n = columns.get().expect("a row before the header");
            assert_eq!(values.len(), n, "a row of {} values under {n} column names", values.len());
            Ok(())
        },
    );
    let now = std::fs::read(&f.db).expect("the database file is gone");
    assert!(now == f.bytes, "the database file changed ({} -> {} bytes) after {sql:?}", f.bytes.len(), now.len());
    assert_eq!(std::fs::read(&f.wal).ok(), f.wal_bytes, "the -wal file changed after {sql:?}");
    let names_now = names(&f.dir);
    assert_eq!(names_now, f.names, "files in the database directory changed after {sql:?}");
});
