use pricequeue::error::FAILED;
use pricequeue::server::data;

use super::Sandbox;
use crate::common::day;

#[test]
fn a_full_fetch_stores_exactly_the_servers_data() {
    let Some(sb) = Sandbox::new() else { return };
    let out = sb
        .run(&[
            "fetch",
            "--exchange",
            "all",
            "--symbol",
            "all",
            "--from",
            "2020-03-01",
            "--to",
            "2020-03-31",
            "-f",
            "json",
        ])
        .expect_code(0);
    let summary = out.summary();
    assert_eq!(summary["failed"], 0, "{summary}");

    let mut cells = 0;
    let mut nulls = 0;
    for e in data::EXCHANGES {
        for s in data::SYMBOLS {
            for d in day("2020-03-01").iter_days().take(31) {
                cells += 1;
                let state: String =
                    sb.one("SELECT state FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day = ?3", &[e, s, &d]);
                let stored: Option<[f64; 5]> = sb.row(
                    "SELECT open, high, low, close, volume FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3",
                    &[e, s, &d],
                );
                match data::price(e, s, d) {
                    Some(p) => {
                        assert_eq!(state, "done", "{e} {s} {d}");
                        // Exact equality: the numbers went through JSON and SQLite unchanged.
                        assert_eq!(stored, Some([p.open, p.high, p.low, p.close, p.volume]), "{e} {s} {d}");
                    }
                    None => {
                        nulls += 1;
                        assert_eq!(state, "no_data", "{e} {s} {d}");
                        assert_eq!(stored, None, "{e} {s} {d}");
                    }
                }
            }
        }
    }
    let rows = sb.count("SELECT count(*) FROM prices");
    assert_eq!(rows, cells - nulls);
    assert!(nulls > 0 && nulls < cells, "the month should be ragged: {nulls} nulls of {cells}");
    // Some of the server's answers were JSON integers; they were stored too.
    let whole = sb.count("SELECT count(*) FROM prices WHERE open = round(open)");
    assert!(whole > 0);
    assert_eq!(sb.server.requests_to("/price/"), cells as u64, "one request per cell");
    assert_eq!(summary["requests"], cells, "{summary}");
    assert_eq!(summary["fetched"], cells - nulls, "{summary}");
    assert_eq!(summary["no_data"], nulls, "{summary}");
}

#[test]
fn the_same_fetch_again_makes_no_price_request() {
    let Some(sb) = Sandbox::new() else { return };
    let args = ["fetch", "-e", "all", "-s", "btc,eth", "--from", "2020-03-01", "--to", "2020-03-10"];
    sb.run(&args).expect_code(0);
    let fetched = sb.server.requests_to("/price/");
    assert_eq!(fetched, 12 * 2 * 10);
    let before = sb.dump();

    let again = sb.run(&[&args[..], &["-f", "json"]].concat()).expect_code(0);
    assert!(again.stderr.contains("enqueued 0 new tasks (240 already in the queue)"), "{}", again.stderr);
    let summary = again.summary();
    for count in ["fetched", "no_data", "failed", "requests"] {
        assert_eq!(summary[count], 0, "{count}: {summary}");
    }
    assert_eq!(sb.server.requests_to("/price/"), fetched, "no price was asked for again");
    assert_eq!(sb.dump(), before);
}

#[test]
fn names_are_percent_encoded_and_a_404_fails_the_task() {
    let Some(sb) = Sandbox::new() else { return };
    let out = sb
        .run(&["fetch", "-e", "a/b,bit stamp", "-s", "btc", "--from", "2020-03-01", "--allow-unknown", "-f", "json"])
        .expect_code(FAILED);
    // The raw paths the server saw: every special character encoded.
    let counts = sb.server.counts();
    assert_eq!(counts.get("/price/a%2Fb/btc/2020-03-01"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("/price/bit%20stamp/btc/2020-03-01"), Some(&1), "{counts:?}");
    let summary = out.summary();
    assert_eq!(summary["failed"], 1, "{summary}");

    let (state, error, attempts): (String, String, i64) =
        sb.one("SELECT state, last_error, attempts FROM tasks WHERE exchange = 'a/b'", &[]);
    assert_eq!((state.as_str(), attempts), ("failed", 1), "a 404 is permanent: no retry");
    assert!(error.contains("HTTP 404"), "{error}");
    // Unknown to the server, but not an error: it answers null.
    let state: String = sb.one("SELECT state FROM tasks WHERE exchange = 'bit stamp'", &[]);
    assert_eq!(state, "no_data");
}

#[test]
fn status_query_and_sql_read_while_work_runs() {
    let Some(sb) = Sandbox::with_server(pricequeue::server::ServerOptions {
        latency: std::time::Duration::from_millis(20),
        ..Default::default()
    }) else {
        return;
    };
    sb.run(&["enqueue", "-e", "all", "-s", "all", "--from", "2020-03-01", "--to", "2020-03-05"]).expect_code(0);
    let work = sb
        .command(&["work", "--workers", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // 180 tasks at 20 ms over 4 workers: about a second of work to read beside.
    let mut reads = 0;
    while sb.server.requests_to("/price/") < 170 {
        sb.run(&["status", "--format", "json"]).expect_code(0);
        let q = sb.run(&["query", "--format", "json"]);
        // 3 while tasks are left; 5 (every day settled, some without a
        // price) once the run has ended during the read: the loop's check
        // comes before it, and a loaded machine can finish the last tasks
        // in between. Never an error.
        assert!([0, 3, 5].contains(&q.code), "query: {q:?}");
        let report: serde_json::Value = serde_json::from_str(&q.stdout).expect("query's JSON");
        let missing = report["missing"].as_array().expect("the missing report");
        let unsettled = missing.iter().filter(|m| m["reason"] != "no data").count();
        assert_eq!(q.code == 5, unsettled == 0 && !missing.is_empty(), "the exit code is the report's: {q:?}");
        sb.run(&["sql", "SELECT count(*) AS n FROM prices"]).expect_code(0);
        reads += 1;
        assert!(reads < 500, "work did not progress");
    }
    crate::common::wait(work).expect_code(0);
    assert!(reads > 0);
    let left = sb.count("SELECT count(*) FROM tasks WHERE state NOT IN ('done', 'no_data')");
    assert_eq!(left, 0);
}

#[test]
fn refresh_days_fetches_the_last_days_again() {
    let Some(sb) = Sandbox::new() else { return };
    let args = ["fetch", "-e", "kraken,bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"];
    sb.run(&args).expect_code(0);
    assert_eq!(sb.server.requests_to("/price/"), 20);
    // Stale prices, as if fetched before the day was over.
    sb.execute("UPDATE prices SET close = -1 WHERE day = '2020-03-10'", &[]);
    let mut with_refresh = args.to_vec();
    with_refresh.extend_from_slice(&["--refresh-days", "2"]);
    let out = sb.run(&with_refresh).expect_code(0);
    assert!(out.stderr.contains("queued 4 fetched tasks again to refresh 2020-03-09 to 2020-03-10"), "{}", out.stderr);
    let counts = sb.server.counts();
    for e in ["kraken", "bitstamp"] {
        assert_eq!(counts.get(&format!("/price/{e}/btc/2020-03-10")), Some(&2));
        assert_eq!(counts.get(&format!("/price/{e}/btc/2020-03-08")), Some(&1), "older days are left alone");
    }
    let bad = sb.count("SELECT count(*) FROM prices WHERE close = -1");
    assert_eq!(bad, 0, "the refreshed prices replaced the stale ones");
    assert_eq!(sb.server.requests_to("/price/"), 24);
    crate::common::counts_agree(&sb);
}

#[test]
fn a_deadline_stops_claiming_and_the_next_run_carries_on() {
    let Some(sb) = Sandbox::with_server(pricequeue::server::ServerOptions {
        latency: std::time::Duration::from_millis(100),
        ..Default::default()
    }) else {
        return;
    };
    let args = ["fetch", "-e", "all", "-s", "btc", "--from", "2020-03", "--workers", "4", "--deadline", "1s"];
    let out = sb.run(&args).expect_code(pricequeue::error::MISSING);
    assert!(out.stderr.contains("stopped at the --deadline"), "{}", out.stderr);
    let (open, in_progress): (i64, i64) = sb.one(
        "SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE state = 'in_progress') FROM tasks",
        &[],
    );
    assert!(open > 0, "12 x 31 tasks at 100 ms over 4 workers cannot finish in 1 s");
    assert_eq!(in_progress, 0, "what was in flight was committed or handed back");
    let done = 12 * 31 - open;
    assert_eq!(sb.server.requests_to("/price/") as i64, done, "every answer was stored");
    let mut no_deadline = args.to_vec();
    no_deadline.truncate(args.len() - 2);
    sb.run(&no_deadline).expect_code(0);
}

#[test]
fn the_guide_s_json_summary_is_what_fetch_prints() {
    let Some(sb) = Sandbox::new() else { return };
    let guide = include_str!("../docs/guide.md");
    let at = guide.find("<!-- summary-sample").expect("the guide's summary sample");
    let command = guide[..at].lines().rev().find_map(|l| l.strip_prefix("$ pricequeue ")).expect("its command");
    let args: Vec<&str> = command.split(" | ").next().unwrap_or_default().split_whitespace().collect();
    let sample = &guide[at..];
    let sample = &sample[sample.find("```json\n").expect("a json block") + 8..];
    let sample: serde_json::Value = serde_json::from_str(&sample[..sample.find("```").unwrap()]).expect("its JSON");

    let out = sb.run(&args).expect_code(0);
    let mut printed = out.summary();
    // Wall time and rate differ from run to run: present, positive, and the sample's.
    for varies in ["elapsed_seconds", "tasks_per_second"] {
        assert!(printed[varies].as_f64() > Some(0.0), "{varies}: {printed}");
        printed[varies] = sample[varies].clone();
    }
    let keys = |v: &serde_json::Value| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>());
    assert_eq!(keys(&printed), keys(&sample), "the fields, in order");
    assert_eq!(printed, sample);
}

#[test]
fn format_before_the_command_reaches_work_and_fetch_and_a_table_is_refused() {
    let Some(sb) = Sandbox::new() else { return };
    let out =
        sb.run(&["-f", "json", "fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-02"]);
    let summary = out.expect_code(0).summary();
    assert_eq!((summary["fetched"].as_u64(), summary["exit"].as_u64()), (Some(2), Some(0)), "{summary}");
    // work after fetch: the whole queue, nothing left; its summary has no selection.
    let summary = sb.run(&["--format", "ndjson", "work"]).expect_code(0).summary();
    assert_eq!((summary["requests"].as_u64(), summary["tasks"].is_null()), (Some(0), true), "{summary}");
    for format in ["table", "csv"] {
        let out = sb.run(&["-f", format, "work"]).expect_code(pricequeue::error::USAGE);
        assert!(out.stderr.contains(&format!("not as {format}")), "{}", out.stderr);
    }
    // A text summary prints nothing on stdout.
    let out = sb.run(&["work", "-f", "text"]).expect_code(0);
    assert_eq!(out.stdout, "");
}

#[test]
fn fetch_works_on_its_selection_alone_and_reports_on_it() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"]).expect_code(0);
    let args = ["fetch", "-e", "bitstamp", "-s", "btc,eth", "--from", "2020-03-01", "--to", "2020-03-03", "-f", "json"];
    let summary = sb.run(&args).expect_code(0).summary();
    // The other selection's tasks stay queued for `work`: not one request for them.
    let states: Vec<(String, String, i64)> =
        sb.rows("SELECT exchange, state, count(*) FROM tasks GROUP BY exchange, state ORDER BY 1, 2", &[]);
    let bitstamp: i64 = states.iter().filter(|(e, s, _)| e == "bitstamp" && s != "queued").map(|r| r.2).sum();
    assert_eq!(bitstamp, 6, "{states:?}");
    assert!(states.contains(&("kraken".into(), "queued".into(), 5)), "{states:?}");
    assert_eq!(sb.server.requests_to("/price/kraken/"), 0);
    // The summary is the selection's: its six tasks, six requests.
    assert_eq!(summary["requests"], 6, "{summary}");
    let tasks = &summary["tasks"];
    let total: u64 = tasks.as_object().unwrap().values().filter_map(|v| v.as_u64()).sum();
    assert_eq!(total, 6, "{summary}");
    assert_eq!(tasks["done"].as_u64().unwrap() + tasks["no_data"].as_u64().unwrap(), 6, "{summary}");
    assert_eq!(summary["fetched"], tasks["done"], "{summary}");
}
