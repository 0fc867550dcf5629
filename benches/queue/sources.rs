//! Section 7, real sources: a backfill of 10 pairs over 3 years
//! (2019-01-01 to 2021-12-31, 1,096 days each) from the built-in server's
//! Binance and Coinbase stand-ins, at each source's documented pace: the
//! requests made against the fewest possible (`ceil(days / most per
//! request)` per pair) and the wall time; beside it, the same asked day by
//! day (a declared copy of the source with `max_days = 1`), and ccxt, the
//! common Python client, paging as its manual shows against the same
//! stand-in at its own pace.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use pricequeue::server::{stand_ins, Server, ServerOptions};
use pricequeue::source::Declarations;

use crate::command::measure;
use crate::db::{Backend, Db};

const FROM: &str = "2019-01-01";
const TO: &str = "2021-12-31";
const DAYS: i64 = 1096;

pub fn run(dir: &Path) {
    println!("\n## 7. Real sources: 10 pairs x 3 years ({FROM} to {TO}) from the stand-ins, at the documented pace");
    let quick = std::env::var_os("PQ_BENCH_QUICK").is_some();
    println!("\n| source | how | pairs | requests | fewest possible | wall time |");
    println!("|---|---|---|---|---|---|");
    for (source, candles, max_days, ccxt_quote) in
        [("binance", "/api/v3/klines", 1000, "USDT"), ("coinbase", "/products/", 299, "USD")]
    {
        let pairs: Vec<&str> = stand_ins::pairs(source).iter().filter(|p| !p.gaps).map(|p| p.symbol).take(10).collect();
        let symbols = pairs.join(",");
        let fewest = pairs.len() as i64 * ((DAYS + max_days - 1) / max_days);

        // pricequeue, a run of days per request.
        let server = Server::start("127.0.0.1:0", ServerOptions::default()).expect("the built-in server");
        let db = Db::fresh(Backend::Sqlite, dir, &format!("{source}-runs"), &[]);
        let m = measure(
            &db,
            &server.url(),
            &["fetch", "--source", source, "--symbol", &symbols, "--from", FROM, "--to", TO],
        );
        assert_eq!(m.code, 0, "{source}: the backfill failed");
        let stored = db.count("SELECT count(*) FROM prices");
        println!(
            "| {source} | pricequeue, runs of days | {} | {} | {fewest} | {:.2} s ({stored} prices) |",
            pairs.len(),
            server.requests_to(candles),
            m.secs
        );

        // The same, day by day: one pair when the pace makes ten too long.
        let day_pairs = if quick || source == "coinbase" { &pairs[..1] } else { &pairs[..] };
        let decls = Declarations::builtin();
        let text = decls.text(source).expect("a built-in declaration");
        let daily = text
            .replace(&format!("[{source}"), &format!("[{source}-daily"))
            .lines()
            .map(|l| if l.starts_with("max_days") { "max_days = 1".to_string() } else { l.to_string() })
            .collect::<Vec<_>>()
            .join("\n");
        let file = dir.join(format!("{source}-daily.toml"));
        std::fs::write(&file, daily).expect("write the declaration");
        let server = Server::start("127.0.0.1:0", ServerOptions::default()).expect("the built-in server");
        let db = Db::fresh(Backend::Sqlite, dir, &format!("{source}-daily"), &[]);
        let file_arg = file.to_string_lossy().to_string();
        let daily_symbols = day_pairs.join(",");
        let m = measure(
            &db,
            &server.url(),
            &[
                "--sources",
                &file_arg,
                "fetch",
                "--source",
                &format!("{source}-daily"),
                "--symbol",
                &daily_symbols,
                "--from",
                FROM,
                "--to",
                TO,
            ],
        );
        assert_eq!(m.code, 0, "{source}: the day-by-day backfill failed");
        println!(
            "| {source} | pricequeue, day by day | {} | {} | {} | {:.2} s |",
            day_pairs.len(),
            server.requests_to(candles),
            day_pairs.len() as i64 * DAYS,
            m.secs
        );

        // ccxt, paging as its manual shows.
        let unified: Vec<String> = pairs
            .iter()
            .map(|s| {
                let base = s.trim_end_matches("USDT").split('-').next().unwrap_or(s);
                format!("{base}/{ccxt_quote}")
            })
            .collect();
        let server = Server::start("127.0.0.1:0", ServerOptions::default()).expect("the built-in server");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/ccxt_read.py");
        let started = Instant::now();
        let out = Command::new("python3")
            .args([script, &server.url(), source, &unified.join(","), FROM, TO])
            .stderr(Stdio::piped())
            .output();
        let secs = started.elapsed().as_secs_f64();
        match out {
            Ok(o) if o.status.success() => {
                let candles_read = o.stdout.iter().filter(|b| **b == b'\n').count();
                println!(
                    "| {source} | ccxt {} | {} | {} | {fewest} | {secs:.2} s ({candles_read} candles) |",
                    ccxt_version(),
                    pairs.len(),
                    server.requests_to(candles)
                );
            }
            Ok(o) => println!(
                "| {source} | ccxt | failed: {} | | | |",
                String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
            ),
            Err(e) => println!("| {source} | ccxt | not run: {e} | | | |"),
        }
    }
    println!(
        "\nThe pace is each source's documented one, shared by every worker: Binance 20 ms a request (6,000 \
         weight a minute, 2 a klines request), Coinbase 100 ms (10 a second). ccxt keeps its own \
         (`enableRateLimit`, its `rateLimit` per exchange). Day by day on Coinbase is one pair: ten take \
         ten times as long at that pace."
    );
}

fn ccxt_version() -> String {
    Command::new("python3")
        .args(["-c", "import ccxt; print(ccxt.__version__)"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
