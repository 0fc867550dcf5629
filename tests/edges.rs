//! The edges: no silent wrong data, no data replaced, no answer that makes
//! pricequeue hammer a server, and meanings a script can rely on. Each test
//! drives the binary the way the finding it covers was found.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pricequeue::error::{ERROR, FAILED, INTERRUPTED, MISSING, OK, SETTLED, USAGE};
use pricequeue::server::{data, AnswerKind, Fault, FaultRule, RetryAfter, Server, ServerOptions};
use serde_json::Value;

use super::Sandbox;
use crate::common::{counts_agree, day, wait, BlackHole, Running, Scripted};

fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

fn state_of(sb: &Sandbox, exchange: &str, d: NaiveDate) -> String {
    sb.one("SELECT state FROM tasks WHERE exchange = ?1 AND day = ?2", &[&exchange, &d])
}

// ---- Data lost or wrong, silently ----------------------------------------

#[test]
fn names_that_cannot_be_checked_are_not_queued() {
    let Some(sb) = Sandbox::new() else { return };
    let html = Scripted::start(vec![("*", "200 OK", "text/html", "<!DOCTYPE html><html>a web site</html>".into())]);
    let hole = BlackHole::start();
    let selection = ["fetch", "-e", "krakn", "-s", "btc", "--from", "2020-03-01", "--timeout", "1s"];
    for (server, why) in [
        ("http://127.0.0.1:9".to_string(), "cannot reach the price server"),
        (html.url.clone(), "does not answer like the price API"),
        (hole.url.clone(), "timed out"),
    ] {
        let started = Instant::now();
        let mut args = vec!["--server", &server];
        args.extend_from_slice(&selection);
        let out = sb.run(&args).expect_code(ERROR);
        assert!(out.stderr.contains("cannot check the exchange names"), "{server}: {}", out.stderr);
        assert!(out.stderr.contains(why), "{server}: {}", out.stderr);
        assert!(out.stderr.contains("--allow-unknown"), "{server}: {}", out.stderr);
        assert!(sb.nothing_stored(), "{server}: nothing was queued");
        // The name check honours --timeout: one request, then the error.
        assert!(started.elapsed() < Duration::from_secs(10), "{server}: took {:?}", started.elapsed());
    }
    // A server that never answers, asked by `work`: "timed out", not "not the price API".
    let mut args = vec!["--server", "http://127.0.0.1:9"];
    args.extend_from_slice(&selection);
    args.push("--allow-unknown");
    sb.run(&args).expect_code(ERROR); // queued unchecked, then the probe finds nobody
    assert_eq!(sb.count("SELECT count(*) FROM tasks"), 1);
    let started = Instant::now();
    let out = sb.run(&["--server", &hole.url, "--timeout", "1s", "work"]).expect_code(ERROR);
    assert!(out.stderr.contains("timed out") && out.stderr.contains("did not answer"), "{}", out.stderr);
    assert!(!out.stderr.contains("does not answer like the price API"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
}

#[test]
fn days_that_have_not_ended_wait_as_not_yet_due_and_come_due() {
    // A live server: every day up to the last one that ended, at once.
    let Some(sb) = Sandbox::with_server(ServerOptions { live: Some(Duration::ZERO), ..ServerOptions::default() })
    else {
        return;
    };
    let (t, from) = (today(), today() - chrono::Duration::days(2));
    let to = t + chrono::Duration::days(3);
    let (from_s, to_s) = (from.to_string(), to.to_string());
    let args = [
        "fetch",
        "-e",
        "kraken,bitstamp",
        "-s",
        "btc",
        "--from",
        &from_s,
        "--to",
        &to_s,
        "--grace",
        "0s",
        "-f",
        "json",
    ];
    let out = sb.run(&args).expect_code(OK);
    let summary = out.summary();
    assert_eq!(summary["waiting"], 8, "{summary}");
    // Only the two days that have ended were asked for.
    assert_eq!(sb.server.requests_to("/price/"), 4, "{:?}", sb.server.counts());
    // Of those, a day the server has no price for ended too recently for
    // the answer to be final (--settle): it waits to be asked again.
    let unpublished = ["kraken", "bitstamp"]
        .iter()
        .flat_map(|e| [1, 2].map(|n| data::recent_price(e, "btc", t - chrono::Duration::days(n))))
        .filter(Option::is_none)
        .count() as i64;
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'not_yet_due'"), 8 + unpublished);
    assert_eq!(state_of(&sb, "kraken", t), "not_yet_due");

    // Reported as such everywhere.
    let status: Value = serde_json::from_str(&sb.run(&["status", "--format", "json"]).expect_code(OK).stdout).unwrap();
    let not_yet = status["states"].as_array().unwrap().iter().find(|r| r["state"] == "not_yet_due").cloned();
    assert_eq!(not_yet.map(|r| r["tasks"].clone()), Some(Value::from(8 + unpublished)));
    let q =
        sb.run(&["query", "-e", "kraken", "--from", &from_s, "--to", &to_s, "--format", "json"]).expect_code(MISSING);
    let report: Value = serde_json::from_str(&q.stdout).unwrap();
    // A row is a run of days with one reason: its `days` count them.
    let not_yet_due: u64 = report["missing"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["reason"] == "not yet due")
        .map(|m| m["days"].as_u64().unwrap())
        .sum();
    let kraken_unpublished = [1, 2]
        .iter()
        .filter(|n| data::recent_price("kraken", "btc", t - chrono::Duration::days(**n)).is_none())
        .count();
    assert_eq!(not_yet_due, 4 + kraken_unpublished as u64, "{}", report["missing"]);
    let cov = sb.run(&["coverage", "-e", "kraken", "--from", &from_s, "--to", &to_s]).expect_code(MISSING);
    assert!(cov.stdout.contains("----|"), "four days not yet due, drawn as '-': {}", cov.stdout);
    assert!(cov.stdout.contains("not yet due"), "{}", cov.stdout);

    // The same cron run again asks for nothing new.
    sb.run(&args).expect_code(OK);
    assert_eq!(sb.server.requests_to("/price/"), 4);

    // Time passes for yesterday's neighbour: queue a day with a long grace,
    // then let its due time come (the clock moved on), and a plain run fetches it.
    let y = (t - chrono::Duration::days(3)).to_string();
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", &y, "--grace", "100h"]).expect_code(OK);
    assert_eq!(state_of(&sb, "kraken", t - chrono::Duration::days(3)), "not_yet_due");
    sb.execute("UPDATE tasks SET next_attempt_at = 0 WHERE day = ?1", &[&y]);
    sb.run(&["work", "--grace", "0s"]).expect_code(OK);
    let three = t - chrono::Duration::days(3);
    let want = if data::recent_price("kraken", "btc", three).is_some() { "done" } else { "no_data" };
    assert_eq!(state_of(&sb, "kraken", three), want);
    assert_eq!(state_of(&sb, "kraken", t), "not_yet_due", "today is still not over");
    counts_agree(&sb);
}

#[test]
fn a_recent_no_price_is_asked_again_not_stored_as_no_data() {
    // The server publishes a day's price four days after it ends.
    let Some(sb) = Sandbox::with_server(ServerOptions {
        live: Some(Duration::from_secs(4 * 86_400)),
        record: true,
        ..ServerOptions::default()
    }) else {
        return;
    };
    let yesterday = today() - chrono::Duration::days(1);
    let long_ago = today() - chrono::Duration::days(3);
    let (y, old) = (yesterday.to_string(), long_ago.to_string());
    sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", &old, "--to", &y, "--grace", "0s"]).expect_code(OK);
    // Three days ago ended more than --settle (2 days) ago: its null is final.
    assert_eq!(state_of(&sb, "kraken", long_ago), "no_data");
    // Yesterday may simply not be published yet: it waits, with why.
    assert_eq!(state_of(&sb, "kraken", yesterday), "not_yet_due");
    let q = sb.run(&["query", "-e", "kraken", "--from", &y]).expect_code(MISSING);
    assert!(q.stdout.contains("not yet due: the server had no price yet at"), "{}", q.stdout);
    // No new request until the recheck time comes.
    let asked = sb.server.requests_to("/price/");
    sb.run(&["work"]).expect_code(OK);
    assert_eq!(sb.server.requests_to("/price/"), asked);

    // The price is published (another server), and the recheck time has come.
    let published =
        Server::start("127.0.0.1:0", ServerOptions { live: Some(Duration::ZERO), ..ServerOptions::default() }).unwrap();
    sb.execute("UPDATE tasks SET next_attempt_at = 0 WHERE day = ?1", &[&y]);
    sb.run(&["--server", &published.url(), "work"]).expect_code(OK);
    let want = data::recent_price("kraken", "btc", yesterday);
    let state = state_of(&sb, "kraken", yesterday);
    assert_eq!(state, if want.is_some() { "done" } else { "not_yet_due" });
    counts_agree(&sb);
}

#[test]
fn answers_that_are_not_the_price_asked_for_fail_with_the_answer_quoted() {
    let Some(sb) = Sandbox::new() else { return };
    let price = |e: &str, d: &str, o: f64, h: f64, l: f64, c: f64, v: f64| {
        format!(
            r#"{{"exchange": "{e}", "symbol": "btc", "open": {o}, "high": {h}, "low": {l}, "close": {c}, "volume": {v}, "day": "{d}"}}"#
        )
    };
    let json = "application/json";
    let server = Scripted::start(vec![
        ("/exchanges", "200 OK", json, r#"["kraken"]"#.into()),
        ("/symbols", "200 OK", json, r#"["btc"]"#.into()),
        ("/price/kraken/btc/2020-03-01", "200 OK", json, price("bitstamp", "2020-03-01", 10.0, 12.0, 9.0, 11.0, 1.0)),
        ("/price/kraken/btc/2020-03-02", "200 OK", json, price("kraken", "2020-03-02", 10.0, 12.0, 9.0, -11.0, 1.0)),
        ("/price/kraken/btc/2020-03-03", "200 OK", json, price("kraken", "2020-03-03", 10.0, 8.0, 9.0, 8.5, 1.0)),
        ("/price/kraken/btc/2020-03-04", "200 OK", json, price("kraken", "2020-03-04", 10.0, 12.0, 9.0, 11.0, -3.0)),
        ("/price/kraken/btc/2020-03-05", "200 OK", json, price("kraken", "2020-03-01", 10.0, 12.0, 9.0, 11.0, 1.0)),
        ("/price/kraken/btc/2020-03-06", "200 OK", json, price("kraken", "2020-03-06", 10.0, 12.0, 9.0, 11.0, 1.0)),
        ("/price/kraken/btc/2020-03-07", "200 OK", json, price("kraken", "2020-03-07", 0.0, 0.0, 0.0, 0.0, 0.0)),
        (
            "/price/kraken/btc/2020-03-08",
            "200 OK",
            json,
            price("kraken", "2020-03-08", 10.0, 12.0, 9.0, 11.0, 1.0).replace(r#""open": 10"#, r#""open": "10""#),
        ),
    ]);
    let out = sb
        .run(&[
            "--server",
            &server.url,
            "fetch",
            "-e",
            "kraken",
            "-s",
            "btc",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-08",
            "-f",
            "json",
        ])
        .expect_code(FAILED);
    let summary = out.summary();
    assert_eq!(summary["failed"], 7, "{summary}");
    let errors: HashMap<String, String> =
        sb.rows("SELECT day, last_error FROM tasks WHERE state = 'failed'", &[]).into_iter().collect();
    for (d, why, quoted) in [
        ("2020-03-01", "it is for exchange \"bitstamp\", not \"kraken\"", r#""exchange": "bitstamp""#),
        ("2020-03-02", "close is -11, not above zero", r#""close": -11"#),
        ("2020-03-03", "high 8 is below low 9", r#""high": 8"#),
        ("2020-03-04", "volume is -3, below zero", r#""volume": -3"#),
        ("2020-03-05", "it is for day \"2020-03-01\", not \"2020-03-05\"", r#""day": "2020-03-01""#),
        ("2020-03-07", "open is 0, not above zero", r#""open": 0"#),
        ("2020-03-08", "not a price object: invalid type: string", r#""open": "10""#),
    ] {
        let error = &errors[d];
        assert!(error.contains("not a valid price") && error.contains(why), "{d}: {error}");
        assert!(error.contains(quoted), "{d}: the answer is quoted: {error}");
        // Refused for good at the first answer: asking again gets the same.
        assert_eq!(sb.one::<i64>("SELECT attempts FROM tasks WHERE day = ?1", &[&d]), 1, "{d} was asked again");
    }
    let stored: Vec<String> = sb.rows("SELECT day FROM prices", &[]);
    assert_eq!(stored, ["2020-03-06"], "only the valid answer is stored");
}

#[test]
fn every_name_reaches_the_server_as_one_path_segment() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "..", "-s", ".", "--from", "2020-03-01", "--allow-unknown"]).expect_code(OK);
    let counts = sb.server.counts();
    assert_eq!(counts.get("/price/%2E%2E/%2E/2020-03-01"), Some(&1), "{counts:?}");
    assert_eq!(state_of(&sb, "..", day("2020-03-01")), "no_data", "the server took it for a name it does not know");

    // A name no server could take: a usage error at once, not five retries.
    let long = "x".repeat(10_000);
    let out =
        sb.run(&["fetch", "-e", &long, "-s", "btc", "--from", "2020-03-02", "--allow-unknown"]).expect_code(USAGE);
    assert!(out.stderr.contains("is 10000 bytes long; names are at most 200 bytes"), "{}", out.stderr);
    assert!(out.stderr.len() < 1000, "the error does not repeat the whole name");
    assert_eq!(sb.count("SELECT count(*) FROM tasks"), 1, "nothing was queued");
}

// ---- A server's answers must never make pricequeue hammer it ------------

/// A server that answers every price request with 429 and `Retry-After: value`.
fn refusing(value: &'static str) -> Option<Sandbox> {
    Sandbox::with_server(ServerOptions {
        faults: vec![FaultRule::rate(Fault::RateLimited, 1.0)],
        retry_after: RetryAfter::Raw(value),
        record: true,
        ..ServerOptions::default()
    })
}

#[test]
fn retry_after_of_any_kind_pauses_or_stops_and_never_hammers() {
    let workers = 4;
    for value in ["0", "Wed, 21 Oct 2015 07:28:00 GMT", "1", "0.25"] {
        let Some(sb) = refusing(value) else { return };
        let started = Instant::now();
        let out = sb
            .run(&["fetch", "-e", "all", "-s", "btc", "--from", "2020-03", "--workers", "4", "--max-pause", "6s"])
            .expect_code(ERROR);
        assert!(
            out.stderr.contains("kept asking to slow down") || out.stderr.contains("longer than --max-pause 6s"),
            "{value}: {}",
            out.stderr
        );
        // Pauses of at least 1 s, doubling while refused: 1 + 2 + 4 s > 6 s.
        let took = started.elapsed();
        assert!(took >= Duration::from_secs(3), "{value}: stopped after {took:?}");
        let log: Vec<_> = sb.server.log().into_iter().filter(|s| s.path.starts_with("/price/")).collect();
        assert!(log.iter().all(|s| matches!(s.answer, AnswerKind::Fault(Fault::RateLimited))));
        // Group the requests into the bursts between pauses (gaps of 0.9 s or more).
        let mut bursts = vec![0u32];
        for pair in log.windows(2) {
            if pair[1].at - pair[0].at >= Duration::from_millis(900) {
                bursts.push(0);
            }
            *bursts.last_mut().unwrap() += 1;
        }
        *bursts.first_mut().unwrap() += 1;
        eprintln!("Retry-After {value:?}: {} requests in {} bursts {bursts:?} over {took:?}", log.len(), bursts.len());
        assert!(bursts.len() <= 4, "{value}: {bursts:?}");
        assert!(
            bursts.iter().all(|n| *n <= 2 * workers),
            "{value}: more than 2 requests per worker per pause: {bursts:?}"
        );
        assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state IN ('failed', 'cooling')"), 0, "{value}");
        counts_agree(&sb);
    }
    // Too long, or absurd: the run stops at the first answer, the tasks stay queued.
    for value in ["99999999999999999999999", "Fri, 31 Dec 9999 23:59:59 GMT"] {
        let Some(sb) = refusing(value) else { return };
        let out =
            sb.run(&["fetch", "-e", "all", "-s", "btc", "--from", "2020-03", "--workers", "4"]).expect_code(ERROR);
        assert!(out.stderr.contains("longer than --max-pause"), "{value}: {}", out.stderr);
        assert!(sb.server.requests_to("/price/") <= 4, "{value}: {}", sb.server.requests_to("/price/"));
        // And the next run does not ask at all.
        let asked = sb.server.requests_to("/price/");
        sb.run(&["work"]).expect_code(ERROR);
        assert_eq!(sb.server.requests_to("/price/"), asked, "{value}");
    }
    // Not a number or a date: as if absent. A limit all the same: every
    // worker pauses, from --retry-delay doubling, no attempt is spent, and
    // the pauses adding up past --max-pause end the run, the tasks queued.
    for value in ["-5", "soon", "1e3"] {
        let Some(sb) = refusing(value) else { return };
        let out = sb
            .run(&[
                "fetch",
                "-e",
                "kraken",
                "-s",
                "btc",
                "--from",
                "2020-03-01",
                "--to",
                "2020-03-03",
                "--max-pause",
                "2s",
                "--retry-delay",
                "100ms",
            ])
            .expect_code(ERROR);
        assert!(out.stderr.contains("kept asking to slow down"), "{value}: {}", out.stderr);
        let said = out.stderr.matches("asked to slow down: every worker on it waits").count();
        assert!(said >= 3, "100 ms, 200 ms, 400 ms...: {value}: {}", out.stderr);
        // Three tasks: at most one request each per pause.
        let asked = sb.server.requests_to("/price/") as usize;
        assert!(asked <= 3 * said, "{value}: {asked} requests over {said} pauses");
        let (queued, attempts): (i64, i64) =
            sb.one("SELECT count(*), max(attempts) FROM tasks WHERE state = 'queued'", &[]);
        assert_eq!((queued, attempts), (3, 0), "{value}");
    }
}

#[test]
fn rate_caps_requests_over_every_worker_of_every_process() {
    let Some(sb) = Sandbox::with_server(ServerOptions { record: true, ..ServerOptions::default() }) else { return };
    sb.run(&["enqueue", "-e", "all", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-06"]).expect_code(OK);
    // 10/s: a request may arrive up to 75 ms after its slot (a loaded
    // machine schedules the server's threads late) without crowding a second.
    let rate = 10;
    let started = Instant::now();
    // Killed if the test fails first: one may be waiting on the other.
    let children: Vec<_> =
        (0..2).map(|_| Running::spawn(sb.command(&["work", "--workers", "8", "--rate", "10/s"]))).collect();
    for child in children {
        child.wait().expect_code(OK);
    }
    let took = started.elapsed();
    let times: Vec<Instant> =
        sb.server.log().into_iter().filter(|s| s.path.starts_with("/price/")).map(|s| s.at).collect();
    assert_eq!(times.len(), 72);
    // The most requests any one-second window holds (the log is in arrival order).
    let mut most = 0;
    for (i, t) in times.iter().enumerate() {
        let n = times[i..].iter().take_while(|u| **u < *t + Duration::from_secs(1)).count();
        most = most.max(n);
    }
    eprintln!("--rate 10/s, 2 processes x 8 workers: 72 requests in {took:?}, at most {most} in any second");
    // The documented burst: one request more than the rate.
    assert!(most <= rate + 1, "{most} requests in one second");
    assert!(took >= Duration::from_millis(6000), "72 requests at 10/s take 7 s, not {took:?}");
}

// ---- Failing fast and clearly -------------------------------------------

#[test]
fn a_closed_pipe_is_success_and_a_full_disk_a_clear_error_for_every_command() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "all", "-s", "all", "--from", "2020-03"]).expect_code(OK);
    let commands: Vec<Vec<&str>> = vec![
        vec!["completions", "bash"],
        vec!["completions", "fish"],
        vec!["completions", "zsh"],
        vec!["man"],
        vec!["--help"],
        vec!["status"],
        vec!["query"],
        vec!["query", "--format", "json"],
        vec!["coverage"],
        vec!["sql", "SELECT * FROM prices"],
    ];
    for args in &commands {
        // A reader that takes 10 bytes and goes.
        let mut child = sb.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let mut first = [0u8; 10];
        std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
        drop(child.stdout.take());
        let out = wait_stderr(child);
        assert!(matches!(out.0, 0 | 3 | 5), "{args:?}: exit {} {}", out.0, out.1);
        assert!(!out.1.contains("panicked"), "{args:?}: {}", out.1);

        // A full disk.
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let child = sb.command(args).stdin(Stdio::null()).stdout(full).stderr(Stdio::piped()).spawn().unwrap();
        let (code, stderr) = wait_stderr(child);
        assert_eq!(code, ERROR, "{args:?}: {stderr}");
        assert!(stderr.contains("No space left on device"), "{args:?}: {stderr}");
        assert!(stderr.contains("hint: the disk is full"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

/// Waits for a child whose stdout was taken; returns its exit code and stderr.
fn wait_stderr(mut child: std::process::Child) -> (i32, String) {
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

#[test]
fn sql_stops_at_its_time_limit_and_on_ctrl_c() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"]).expect_code(OK);
    let forever = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
    let before = sb.dump();
    let started = Instant::now();
    let out = sb.run(&["sql", forever, "--timeout", "500ms"]).expect_code(ERROR);
    assert!(out.stderr.contains("ran longer than --timeout 500ms and was stopped"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    let child = sb
        .command(&["sql", forever, "--timeout", "10m"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    assert!(std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = wait(child).expect_code(INTERRUPTED);
    assert!(out.stderr.contains("the statement was interrupted"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(sb.dump(), before);
}

#[test]
fn absurd_durations_are_refused_not_wrapped() {
    let Some(sb) = Sandbox::new() else { return };
    for (flag, value) in [
        ("--timeout", "1000000000years"),
        ("--timeout", "0s"),
        ("--deadline", "600000000000000s"),
        ("--lease", "99999999999999999s"),
        ("--max-pause", "1000y"),
        ("--busy-timeout", "500000days"),
    ] {
        let out =
            sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", flag, value]).expect_code(USAGE);
        assert!(out.stderr.contains(value), "{flag} {value}: {}", out.stderr);
        assert!(!out.stderr.contains("panicked"), "{flag} {value}: {}", out.stderr);
    }
    let out =
        sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--rate", "0/s"]).expect_code(USAGE);
    assert!(out.stderr.contains("not a rate"), "{}", out.stderr);
    // A range no one means: refused before a hundred million tasks are queued.
    let out = sb
        .run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "0001-01-01", "--to", "9999-12-31"])
        .expect_code(USAGE);
    assert!(out.stderr.contains("more than a hundred years"), "{}", out.stderr);
    let long = format!("http://127.0.0.1/{}", "x".repeat(2000));
    let out = sb.run(&["--server", &long, "status"]).expect_code(USAGE);
    assert!(out.stderr.contains("bytes long"), "{}", out.stderr);
    // The largest accepted are fine.
    sb.run(&[
        "fetch",
        "-e",
        "kraken",
        "-s",
        "btc",
        "--from",
        "2020-03-01",
        "--deadline",
        "365days",
        "--lease",
        "365days",
    ])
    .expect_code(OK);
}

// ---- Meanings a script can rely on --------------------------------------

#[test]
fn a_failure_given_up_on_stops_making_every_run_exit_4() {
    let Some(sb) = Sandbox::new() else { return };
    let args =
        ["fetch", "-e", "a/b,kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-03", "--allow-unknown"];
    sb.run(&args).expect_code(FAILED);
    let out = sb.run(&[&args[..], &["-f", "json"]].concat()).expect_code(FAILED);
    assert!(out.stderr.contains("3 tasks of this selection failed in earlier runs"), "{}", out.stderr);
    let summary = out.summary();
    assert_eq!((summary["failed"].as_u64(), summary["failed_earlier"].as_u64()), (Some(0), Some(3)), "{summary}");
    sb.run(&["query"]).expect_code(MISSING);

    let out = sb.run(&["retry", "--never", "-e", "a/b"]).expect_code(OK);
    assert!(out.stderr.contains("gave up on 3 failed tasks for good"), "{}", out.stderr);
    // Quiet and 0 in cron from now on; the report still says why.
    let out = sb
        .run(&[
            "--quiet",
            "fetch",
            "-e",
            "a/b,kraken",
            "-s",
            "btc",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-03",
            "--allow-unknown",
        ])
        .expect_code(OK);
    assert_eq!(out.stderr, "");
    let q = sb.run(&["query", "-e", "a/b"]).expect_code(SETTLED);
    assert!(q.stdout.contains("abandoned: GET "), "{}", q.stdout);
    let status = sb.run(&["status", "--format", "csv"]).expect_code(OK).stdout;
    assert!(status.lines().any(|l| l.starts_with("a/b,btc,") && l.ends_with(",3")), "{status}");

    let out = sb.run(&["retry", "--abandoned"]).expect_code(OK);
    assert!(out.stderr.contains("queued 3 failed or abandoned tasks again"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'queued'"), 3);
    counts_agree(&sb);
}

#[test]
fn from_alone_means_its_whole_span_in_every_command() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-02", "--to", "2020-04"]).expect_code(OK);
    let q = sb.run(&["query", "--from", "2020-03", "--format", "json"]);
    let report: Value = serde_json::from_str(&q.stdout).unwrap();
    let days: Vec<&str> = report["prices"].as_array().unwrap().iter().map(|p| p["day"].as_str().unwrap()).collect();
    assert!(!days.is_empty() && days.iter().all(|d| d.starts_with("2020-03")), "{days:?}");
    let cov = sb.run(&["coverage", "--from", "2020-03"]);
    assert!(cov.stdout.contains("Coverage 2020-03-01 .. 2020-03-31 (31 days)"), "{}", cov.stdout);
    let out = sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "-7d"]).expect_code(OK);
    let week_ago = today() - chrono::Duration::days(7);
    assert!(out.stderr.contains(&format!("1 exchange x 1 symbol x 1 day ({week_ago})")), "{}", out.stderr);
}

#[test]
fn json_keeps_the_order_of_the_statement() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]).expect_code(OK);
    let out = sb.run(&["sql", "SELECT 1 AS b, 2 AS a, 3 AS c", "--format", "json"]).expect_code(OK);
    assert_eq!(out.stdout.trim(), r#"[{"b":1,"a":2,"c":3}]"#);
    let out = sb.run(&["sql", "SELECT 1 AS b, 2 AS a", "--format", "ndjson"]).expect_code(OK);
    assert_eq!(out.stdout.trim(), r#"{"b":1,"a":2}"#);
}

#[test]
fn many_workers_get_a_warning() {
    let Some(sb) = Sandbox::new() else { return };
    let out =
        sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--workers", "200"]).expect_code(OK);
    assert!(out.stderr.contains("warning: 200 workers"), "{}", out.stderr);
    let out = sb.run(&["fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-02", "--workers", "8"]).expect_code(OK);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}
