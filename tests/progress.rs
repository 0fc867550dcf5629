//! What a run shows: a live bar on a terminal, plain lines in a pipe.

use std::process::Command;
use std::time::Duration;

use pricequeue::server::ServerOptions;

use super::Sandbox;
use crate::common::run;

/// The binary in a pseudo-terminal, through util-linux's `script`.
fn terminal_command(sb: &Sandbox, args: &str) -> Command {
    let line = format!("{} --db '{}' --server '{}' {args}", crate::common::bin().display(), sb.db(), sb.server.url());
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]).env("TERM", "xterm-256color").env("COLUMNS", "100");
    cmd
}

/// Runs the binary in a pseudo-terminal to the end.
fn in_a_terminal(sb: &Sandbox, args: &str) -> crate::common::Output {
    run(terminal_command(sb, args))
}

#[test]
fn a_terminal_gets_a_live_bar_and_a_pipe_gets_none() {
    let Some(sb) =
        Sandbox::with_server(ServerOptions { latency: Duration::from_millis(5), ..ServerOptions::default() })
    else {
        return;
    };
    let out = in_a_terminal(&sb, "fetch -e all -s all --from 2020-03 --workers 4").expect_code(0);
    // The bar redraws itself in place: ANSI erase-line codes, and its counters.
    assert!(out.stdout.contains("\u{1b}[2K"), "no bar drawn: {:?}", &out.stdout[..out.stdout.len().min(300)]);
    assert!(out.stdout.contains("/1,116 ETA"), "no done/total: {}", out.stdout);
    assert!(out.stdout.contains("/s · no data"), "no running counts: {}", out.stdout);
    assert!(out.stdout.contains("fetched "), "no summary: {}", out.stdout);

    let piped = sb.run(&["fetch", "-e", "all", "-s", "all", "--from", "2020-04", "--workers", "4"]).expect_code(0);
    assert!(!piped.stderr.contains('\u{1b}'), "escape codes in a pipe: {:?}", piped.stderr);
    assert!(piped.stdout.is_empty(), "progress belongs on stderr: {:?}", piped.stdout);
    let lines: Vec<&str> = piped.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "the enqueue line and the summary: {lines:?}");
    assert!(lines[1].starts_with("fetched "), "{lines:?}");
}

#[test]
fn quiet_prints_nothing_on_success_and_the_summary_on_failure() {
    let Some(sb) = Sandbox::new() else { return };
    let out = sb
        .run(&["-q", "fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05"])
        .expect_code(0);
    assert_eq!((out.stdout.as_str(), out.stderr.as_str()), ("", ""));
    let out = sb.run(&["--quiet", "fetch", "-e", "a/b", "-s", "btc", "--from", "2020-03-01", "--allow-unknown"]);
    assert_eq!(out.code, pricequeue::error::FAILED);
    // The whole line: a count checked with `contains("1 failed")` would pass on "11 failed".
    let line = out.stderr.lines().find(|l| l.starts_with("fetched ")).unwrap_or_default();
    assert!(line.starts_with("fetched 0 prices, 0 no data, 1 failed, 0 retried in "), "{}", out.stderr);
    assert!(!out.stderr.contains("enqueued"), "{}", out.stderr);
}

#[test]
fn verbose_adds_a_line_per_request() {
    let Some(sb) = Sandbox::new() else { return };
    let out = sb
        .run(&["-v", "fetch", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-04"])
        .expect_code(0);
    for day in ["2020-03-01", "2020-03-02", "2020-03-03", "2020-03-04"] {
        let line = out.stderr.lines().find(|l| l.starts_with(&format!("kraken btc {day}: ")));
        assert!(line.is_some_and(|l| l.ends_with(" ms)")), "no request line for {day}: {}", out.stderr);
    }
}

#[test]
fn off_a_terminal_a_long_run_logs_a_progress_line() {
    // 360 tasks at 50 ms over 3 workers: six seconds, past the 5 s between lines.
    let Some(sb) =
        Sandbox::with_server(ServerOptions { latency: Duration::from_millis(50), ..ServerOptions::default() })
    else {
        return;
    };
    let out = sb
        .run(&["fetch", "-e", "all", "-s", "all", "--from", "2020-03-01", "--to", "2020-03-10", "--workers", "3"])
        .expect_code(0);
    let line = out.stderr.lines().find(|l| l.starts_with("progress: ")).unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(line.contains("/360 (") && line.contains("tasks/s, ETA"), "{line}");
}

#[test]
fn two_runs_sharing_a_selection_each_show_what_both_have_done() {
    let Some(sb) =
        Sandbox::with_server(ServerOptions { latency: Duration::from_millis(30), ..ServerOptions::default() })
    else {
        return;
    };
    let args = "fetch -e all -s btc --from 2020-03-01 --to 2020-05-01 --workers 4";
    // 12 x 62 = 744 tasks, shared by two runs: each fetches about half.
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let cmd = terminal_command(&sb, args);
            std::thread::spawn(move || run(cmd))
        })
        .collect();
    for run in runs {
        let out = run.join().unwrap().expect_code(0);
        // The largest done/total the bar showed.
        let shown: Vec<(u64, u64)> = out
            .stdout
            .split(" ETA")
            .filter_map(|before| {
                let frac = before.rsplit(' ').next()?;
                let (done, total) = frac.split_once('/')?;
                Some((done.replace(',', "").parse().ok()?, total.replace(',', "").parse().ok()?))
            })
            .collect();
        let (done, total) = shown.iter().copied().max().expect("a bar was drawn");
        let own: u64 = out
            .stdout
            .split("fetched ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        eprintln!("bar showed {done}/{total}; this run fetched {own} prices");
        assert!(total >= 700, "the total is the selection's tasks: {total}");
        assert!(done * 10 >= total * 8, "{done}/{total}: the bar counts both runs' work, not this one's alone");
    }
}

#[test]
fn a_resumed_run_says_what_was_already_done_and_its_bar_stays_readable_at_80_columns() {
    let Some(sb) =
        Sandbox::with_server(ServerOptions { latency: Duration::from_millis(5), ..ServerOptions::default() })
    else {
        return;
    };
    // 12 exchanges x 10 days of btc first, then the whole month: 372 tasks.
    sb.run(&["fetch", "-e", "all", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"]).expect_code(0);
    let line = format!(
        "stty cols 80 rows 24; {} --db '{}' --server '{}' fetch -e all -s btc --from 2020-03 --workers 2",
        crate::common::bin().display(),
        sb.db(),
        sb.server.url()
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]).env("TERM", "xterm-256color");
    let out = run(cmd).expect_code(0);
    assert!(out.stdout.contains("120 of 372 already done"), "{}", out.stdout);
    // Every frame counts the selection, from what was already done: never 0/0.
    let frames: Vec<&str> = out.stdout.split('\r').filter(|f| f.contains(" ETA ")).collect();
    assert!(!frames.is_empty(), "no bar drawn: {}", out.stdout);
    for frame in frames {
        assert!(!frame.contains(" 0/0 "), "{frame:?}");
        assert!(frame.contains("/372 ETA"), "{frame:?}");
        // The bar between its brackets keeps at least ten columns.
        let bar = frame.split('[').nth(1).and_then(|b| b.split(']').next()).unwrap_or("");
        assert!(bar.chars().count() >= 10, "{frame:?}");
    }
}
