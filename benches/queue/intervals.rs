//! Section 9, candles below a day, end to end through `pricequeue fetch`
//! against the Binance stand-in in a process of its own:
//!
//! 1. 2 pairs x 2024 at 1m (1,054,080 candle slots), unpaced (a declared
//!    copy of binance without its pace): wall time and requests against the
//!    fewest possible, ceil(candles / 1000) + 1 per pair.
//! 2. The same at Binance's documented pace (the built-in declaration),
//!    beside ccxt paging 1m as its manual shows, against the same stand-in.
//! 3. Resume: the unpaced run killed with SIGKILL five times at random
//!    moments, then finished: candles against a clean run's, and the extra
//!    requests the kills cost.
//! 4. 10 pairs x 3 years at 1m (15.8 million slots), unpaced, on each
//!    backend: wall time, peak memory, bytes per candle on disk; then
//!    `query --format csv` of one pair-year, `status` and `coverage` of the
//!    whole selection (PQ_BENCH_QUICK=1 leaves this part out).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pricequeue::source::Declarations;

use crate::command::{measure_binary, ServeProcess, BIN};
use crate::db::{Backend, Db};

/// Rows one Binance klines request returns at most.
const PAGE: i64 = 1000;
const KLINES: &str = "/api/v3/klines";

pub fn run(dir: &Path) {
    println!("\n## 9. Candles below a day: 1m from the Binance stand-in (its own process)");
    let quick = std::env::var_os("PQ_BENCH_QUICK").is_some();
    let unpaced = unpaced_declaration(dir);
    let two = ["BTCUSDT", "ETHUSDT"];

    println!("\n| run | backend | candles | requests | fewest possible | wall time | peak RSS |");
    println!("|---|---|---|---|---|---|---|");
    let clean = fetch_run(
        dir,
        &unpaced,
        "binance-unpaced",
        &two,
        "2024-01-01",
        "2024-12-31",
        Backend::Sqlite,
        "2 pairs x 2024, unpaced",
    );
    fetch_run(
        dir,
        &unpaced,
        "binance-unpaced",
        &two,
        "2024-01-01",
        "2024-12-31",
        Backend::Postgres,
        "2 pairs x 2024, unpaced",
    );
    fetch_run(
        dir,
        &unpaced,
        "binance",
        &two,
        "2024-01-01",
        "2024-12-31",
        Backend::Sqlite,
        "2 pairs x 2024, Binance's pace",
    );
    ccxt_run(&two, "2024-01-01", "2024-12-31");
    resume_run(dir, &unpaced, &two, clean);
    if !quick {
        let ten: Vec<&str> = pricequeue::server::stand_ins::pairs("binance")
            .iter()
            .filter(|p| !p.gaps)
            .map(|p| p.symbol)
            .take(10)
            .collect();
        for backend in Backend::BOTH {
            let label = "10 pairs x 2021-2023, unpaced";
            fetch_run(dir, &unpaced, "binance-unpaced", &ten, "2021-01-01", "2023-12-31", backend, label);
        }
    }
}

/// The built-in binance declaration as `binance-unpaced`, without its pace.
fn unpaced_declaration(dir: &Path) -> String {
    let text = Declarations::builtin().text("binance").expect("the built-in binance declaration").to_string();
    let text = text
        .replace("[binance", "[binance-unpaced")
        .lines()
        .filter(|l| !l.starts_with("pace ") && !l.starts_with("pace="))
        .collect::<Vec<_>>()
        .join("\n");
    let file = dir.join("binance-unpaced.toml");
    std::fs::write(&file, text).expect("write the unpaced declaration");
    file.display().to_string()
}

/// Requests the server in `url`'s process has seen to paths under `prefix`.
fn requests(url: &str, prefix: &str) -> u64 {
    let body = ureq::get(&format!("{url}{}", pricequeue::server::STATS_PATH))
        .call()
        .and_then(|mut r| r.body_mut().read_to_string())
        .unwrap_or_default();
    let stats: std::collections::HashMap<String, serde_json::Value> = serde_json::from_str(&body).unwrap_or_default();
    stats.iter().filter(|(p, _)| p.starts_with(prefix)).map(|(_, s)| s["requests"].as_u64().unwrap_or(0)).sum()
}

/// The bound on requests: ceil(candles / 1000) + 1 for each pair,
/// from the candles `db` holds of it.
fn fewest_for(db: &Db, pairs: &[&str]) -> i64 {
    pairs
        .iter()
        .map(|s| {
            let n = db.count(&format!("SELECT count(*) FROM candles WHERE interval = '1m' AND symbol = '{s}'"));
            (n + PAGE - 1) / PAGE + 1
        })
        .sum()
}

/// One `fetch` of `pairs` at 1m from a fresh stand-in into a fresh
/// database; prints its row and returns the candles stored.
#[allow(clippy::too_many_arguments)]
fn fetch_run(
    dir: &Path,
    decl: &str,
    source: &str,
    pairs: &[&str],
    from: &str,
    to: &str,
    backend: Backend,
    label: &str,
) -> i64 {
    let server = ServeProcess::start(&[]);
    let db = Db::fresh(backend, dir, "intervals", &[]);
    let symbols = pairs.join(",");
    let args = [
        "--sources",
        decl,
        "fetch",
        "--source",
        source,
        "--symbol",
        &symbols,
        "--interval",
        "1m",
        "--from",
        from,
        "--to",
        to,
    ];
    let m = measure_binary(BIN, &db, &server.url, &args);
    let candles = db.count("SELECT count(*) FROM candles WHERE interval = '1m'");
    let asked = requests(&server.url, KLINES);
    println!(
        "| {label} | {backend:?} | {candles} | {asked} | {} | {:.2} s{} | {:.0} MB |",
        fewest_for(&db, pairs),
        m.secs,
        if m.code == 0 { String::new() } else { format!(" (exit {})", m.code) },
        m.max_rss_mb
    );
    if pairs.len() >= 10 {
        reports(&db, &server.url, pairs, from, to, candles);
    }
    candles
}

/// The reports over a large fetch: one pair-year as CSV, status, coverage, and the bytes a candle costs.
fn reports(db: &Db, url: &str, pairs: &[&str], from: &str, to: &str, candles: i64) {
    let year = &from[..4];
    let one = [
        "query",
        "--exchange",
        "binance-unpaced",
        "--symbol",
        pairs[0],
        "--interval",
        "1m",
        "--from",
        year,
        "--format",
        "csv",
    ];
    let all = pairs.join(",");
    let status = ["status", "--interval", "1m"];
    let coverage =
        ["coverage", "--exchange", "binance-unpaced", "--symbol", &all, "--interval", "1m", "--from", from, "--to", to];
    for (what, args) in [("query csv, one pair-year", &one[..]), ("status", &status[..]), ("coverage", &coverage[..])] {
        let m = measure_binary(BIN, db, url, args);
        println!("|   {what} | {:?} | | | | {:.2} s (exit {}) | {:.0} MB |", db.backend, m.secs, m.code, m.max_rss_mb);
    }
    let bytes = match db.backend {
        Backend::Sqlite => {
            db.execute("VACUUM");
            std::fs::metadata(db.location()).map(|m| m.len() as i64).unwrap_or(0)
        }
        Backend::Postgres => db.count("SELECT pg_total_relation_size('series_candles')"),
    };
    if candles > 0 {
        println!(
            "|   on disk | {:?} | | | | {} bytes, {:.1} a candle{} | |",
            db.backend,
            bytes,
            bytes as f64 / candles as f64,
            if db.backend == Backend::Sqlite { " (the whole file)" } else { " (series_candles, indexes included)" }
        );
    }
}

/// ccxt paging 1m over the same range, at its own pace, against a fresh stand-in.
fn ccxt_run(pairs: &[&str], from: &str, to: &str) {
    let server = ServeProcess::start(&[]);
    let unified: Vec<String> = pairs.iter().map(|s| format!("{}/USDT", s.trim_end_matches("USDT"))).collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/ccxt_read.py");
    let started = Instant::now();
    let out = Command::new("python3")
        .args([script, &server.url, "binance", &unified.join(","), from, to, "1m"])
        .stderr(Stdio::piped())
        .output();
    let secs = started.elapsed().as_secs_f64();
    let asked = requests(&server.url, KLINES);
    match out {
        Ok(o) if o.status.success() => {
            let read = o.stdout.iter().filter(|b| **b == b'\n').count();
            println!("| 2 pairs x 2024, ccxt at its own pace | - | {read} | {asked} | | {secs:.2} s | |");
        }
        Ok(o) => {
            println!("| ccxt | failed: {} | | | | | |", String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or(""))
        }
        Err(e) => println!("| ccxt | not run: {e} | | | | | |"),
    }
}

/// The unpaced 2-pair run, killed with SIGKILL five times at random
/// moments and then run to the end: the candles against `clean` (the clean
/// run's), and the requests against the fewest.
fn resume_run(dir: &Path, decl: &str, pairs: &[&str], clean: i64) {
    let server = ServeProcess::start(&[]);
    let db = Db::fresh(Backend::Sqlite, dir, "intervals-resume", &[]);
    let symbols = pairs.join(",");
    let args = [
        "--db",
        db.location(),
        "--server",
        &server.url,
        "--sources",
        decl,
        "fetch",
        "--source",
        "binance-unpaced",
        "--symbol",
        &symbols,
        "--interval",
        "1m",
        "--from",
        "2024-01-01",
        "--to",
        "2024-12-31",
    ];
    let mut seed = std::process::id() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    let mut kills = Vec::new();
    for _ in 0..5 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let after = Duration::from_millis(200 + seed % 900);
        let mut child =
            Command::new(BIN).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start fetch");
        std::thread::sleep(after);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        kills.push(format!("{} ms", after.as_millis()));
    }
    let code = Command::new(BIN)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_or(-1, |s| s.code().unwrap_or(-1));
    let candles = db.count("SELECT count(*) FROM candles WHERE interval = '1m'");
    let asked = requests(&server.url, KLINES) as i64;
    let least = fewest_for(&db, pairs);
    println!(
        "| 2 pairs x 2024, killed 5 times ({}) | Sqlite | {candles} ({} the clean run's) | {asked} | {least} | exit {code}, {} extra requests | |",
        kills.join(", "),
        if candles == clean { "equal to" } else { "NOT equal to" },
        asked - least
    );
}
