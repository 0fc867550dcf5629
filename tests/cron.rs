//! The README's crontab lines (the reference API's, and an exchange's with
//! its pairs spelled out), taken from the README's own text and run as
//! cron runs them: `sh -c` with `HOME` set and `PATH=/usr/bin:/bin`, the
//! binary where `cargo install` puts it, against `pricequeue serve --live
//! 1h` as the README's "try it" has it.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use pricequeue::error::OK;

use crate::common::{bin, run, Output};

/// The commands of the README's crontab lines: the lines of its ```cron
/// block that are not comments, without the five schedule fields.
fn readme_cron_commands() -> Vec<String> {
    let text = include_str!("../README.md");
    let section = text.split("\n## Cron\n").nth(1).expect("a Cron section").split("\n## ").next().unwrap_or("");
    let block = section.split("```cron\n").nth(1).and_then(|b| b.split("```").next()).expect("a cron block");
    let lines: Vec<&str> = block.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
    let commands: Vec<String> = lines
        .iter()
        .map(|line| {
            let mut rest = line.trim_start();
            for _ in 0..5 {
                let field = rest.split_whitespace().next().expect("five schedule fields");
                rest = rest[field.len()..].trim_start();
            }
            rest.to_string()
        })
        .collect();
    // The reference API's line, and an exchange's with its pairs spelled out.
    assert_eq!(commands.len(), 2, "two crontab lines: {lines:?}");
    commands
}

/// `pricequeue serve --live 1h` on a free loopback port, and its first line.
struct LiveServer {
    child: Child,
    url: String,
    announcement: String,
}

impl LiveServer {
    fn start() -> LiveServer {
        let mut child = Command::new(bin())
            .args(["serve", "--live", "1h", "--addr", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pricequeue serve");
        let mut announcement = String::new();
        let read = child.stderr.take().map(|e| BufReader::new(e).read_line(&mut announcement));
        let url = announcement.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string);
        let server = LiveServer { child, url: url.unwrap_or_default(), announcement };
        assert!(read.is_some() && !server.url.is_empty(), "no URL in {:?}", server.announcement);
        server
    }
}

impl Drop for LiveServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` as cron would, with nothing of this process's
/// environment: only `HOME`, cron's `PATH`, and the server's URL (as a
/// crontab's own `PRICEQUEUE_SERVER=` line would give it).
fn as_cron(home: &Path, server: &str, command: &str) -> Output {
    let mut cmd = Command::new("env");
    cmd.arg("-i")
        .arg(format!("HOME={}", home.display()))
        .arg("PATH=/usr/bin:/bin")
        .arg(format!("PRICEQUEUE_SERVER={server}"))
        .args(["sh", "-c", command]);
    run(cmd)
}

#[test]
fn the_readme_s_crontab_lines_run_under_cron_s_path_quietly_and_fetch_the_ended_days() {
    let commands = readme_cron_commands();
    let (command, exchange) = (&commands[0], &commands[1]);
    // The README's "try it" runs the very same command, with cron's PATH.
    let readme = include_str!("../README.md");
    assert!(readme.contains(&format!("env PATH=/usr/bin:/bin sh -c '{command}'")), "the try-it runs {command}");
    // The exchange's line names its source and spells its pairs out: no
    // `--symbol all`, which asks first, and cron cannot answer.
    assert!(exchange.contains("--source binance --symbol BTCUSDT,ETHUSDT"), "{exchange}");
    let home = tempfile::tempdir().expect("temp dir");
    // Where `cargo install --locked --path .` puts the binary.
    let installed = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&installed).unwrap();
    std::os::unix::fs::symlink(bin(), installed.join("pricequeue")).unwrap();
    std::fs::create_dir_all(home.path().join("prices")).unwrap();

    let server = LiveServer::start();
    // The live server says what it serves: recent days, not the synthetic span's end.
    assert!(server.announcement.contains("to yesterday"), "{}", server.announcement);
    assert!(!server.announcement.contains("2020-12-08"), "{}", server.announcement);

    let out = as_cron(home.path(), &server.url, command).expect_code(OK);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""), "quiet when all is well: {command}");

    // The day before yesterday ended more than the live server's hour ago:
    // it was fetched (its pairs' absent days wait as not yet due until
    // --settle makes their `null` final).
    let db = home.path().join("prices/prices.db");
    let states = |sql: &str| -> Vec<String> {
        let out = run({
            let mut c = Command::new(bin());
            c.arg("--db").arg(&db).args(["sql", "--format", "csv", sql]);
            c
        })
        .expect_code(OK);
        out.stdout.lines().skip(1).map(str::to_string).collect()
    };
    let today = chrono::Utc::now().date_naive();
    let before = (today - chrono::Days::new(2)).to_string();
    assert_eq!(states("SELECT count(*) FROM tasks"), ["108"], "12 exchanges x 3 symbols x 3 days");
    let first = states(&format!("SELECT DISTINCT state FROM tasks WHERE day = '{before}' ORDER BY state"));
    let fetched = |s: &String| ["done", "no_data", "not_yet_due"].contains(&s.as_str());
    assert!(first.iter().all(fetched) && first.contains(&"done".into()), "{first:?}");
    let today = states(&format!("SELECT DISTINCT state FROM tasks WHERE day = '{today}'"));
    assert_eq!(today, ["not_yet_due"]);

    // Run again, as the next hour's cron does: as quiet.
    let again = as_cron(home.path(), &server.url, command).expect_code(OK);
    assert_eq!((again.stdout.as_str(), again.stderr.as_str()), ("", ""));

    // The exchange's line, into the same database: quiet too, its ended
    // days fetched from the exchange's stand-in (a crontab's
    // PRICEQUEUE_SERVER= line points every source there), today waiting.
    for _ in 0..2 {
        let out = as_cron(home.path(), &server.url, exchange).expect_code(OK);
        assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""), "quiet when all is well: {exchange}");
    }
    let pairs = states(
        "SELECT symbol || ' ' || source || ' ' || state || ' ' || count(*) FROM tasks WHERE exchange = 'binance'
         GROUP BY symbol, source, state ORDER BY 1",
    );
    assert_eq!(
        pairs,
        [
            "BTCUSDT binance done 2",
            "BTCUSDT binance not_yet_due 1",
            "ETHUSDT binance done 2",
            "ETHUSDT binance not_yet_due 1"
        ]
    );
    assert_eq!(states("SELECT count(*) FROM prices WHERE exchange = 'binance'"), ["4"]);
}

#[test]
fn the_docs_install_with_the_lock_file_the_tests_ran_with() {
    for (name, text) in [("README.md", include_str!("../README.md")), ("guide", include_str!("../docs/guide.md"))] {
        let installs: Vec<&str> = text
            .match_indices("cargo install")
            .map(|(at, _)| &text[at..at + text[at..].find('`').unwrap_or(0)])
            .collect();
        let of_pricequeue: Vec<&&str> = installs.iter().filter(|i| i.contains("--path")).collect();
        assert!(!of_pricequeue.is_empty(), "{name} says how to install pricequeue");
        for install in of_pricequeue {
            assert!(install.contains("--locked"), "{name}: `{install}` ignores Cargo.lock");
        }
    }
}

#[test]
fn a_bare_pricequeue_is_not_found_under_cron_s_path_which_is_why_the_readme_names_it_in_full() {
    let home = tempfile::tempdir().expect("temp dir");
    let installed = home.path().join(".cargo/bin");
    std::fs::create_dir_all(&installed).unwrap();
    std::os::unix::fs::symlink(bin(), installed.join("pricequeue")).unwrap();
    let out = as_cron(home.path(), "http://127.0.0.1:9", "pricequeue --version");
    assert_eq!(out.code, 127, "{out:?}");
    let named = as_cron(home.path(), "http://127.0.0.1:9", "\"$HOME/.cargo/bin/pricequeue\" --version").expect_code(OK);
    assert!(named.stdout.starts_with("pricequeue "), "{named:?}");
}

#[test]
fn a_run_that_asked_for_unpublished_days_says_so_and_counts_only_its_selection_s_waiting_tasks() {
    // The plain built-in server ends in 2020: the last days are `null`,
    // which for a day just ended may only mean "not published yet".
    let sb = crate::common::SqliteSandbox::sqlite();
    // A task of another selection, waiting too: not this run's to count.
    sb.run(&["enqueue", "--exchange", "kraken", "--symbol", "btc", "--from", "today", "--to", "today"]).expect_code(OK);
    let out = sb
        .run(&["fetch", "--exchange", "bitstamp", "--symbol", "btc", "--from", "-2d", "--to", "today", "-f", "json"])
        .expect_code(OK);
    assert!(out.stderr.contains("the server has not published "), "{}", out.stderr);
    assert!(out.stderr.contains("they are asked again from "), "{}", out.stderr);
    let summary = out.summary();
    assert_eq!(summary["waiting"], 3, "the selection's three days: {summary}");
    assert_eq!(summary["tasks"]["not_yet_due"], 3, "{summary}");
    assert_eq!(summary["fetched"], 0, "{summary}");
    assert!(summary["unpublished"].as_u64() > Some(0), "{summary}");
    assert!(summary["unpublished_asked_again_at"].is_string(), "{summary}");
    assert!(!out.stderr.contains("tasks/s)"), "no rate when nothing was finished: {}", out.stderr);
}
