use super::Sandbox;

fn task_count(sb: &Sandbox) -> i64 {
    sb.count("SELECT count(*) FROM tasks")
}

#[test]
fn enqueueing_twice_adds_nothing() {
    let Some(sb) = Sandbox::new() else { return };
    let args = ["enqueue", "--exchange", "all", "--symbol", "all", "--from", "2020-03-01", "--to", "2020-03-03"];
    let first = sb.run(&args).expect_code(0);
    assert!(first.stderr.contains("enqueued 108 new tasks (0 already in the queue)"), "{}", first.stderr);
    assert_eq!(task_count(&sb), 12 * 3 * 3);

    let again = sb.run(&args).expect_code(0);
    assert!(again.stderr.contains("enqueued 0 new tasks (108 already in the queue)"), "{}", again.stderr);
    assert_eq!(task_count(&sb), 108);
    // Nothing was fetched by enqueue.
    assert_eq!(sb.server.requests_to("/price/"), 0);
}

#[test]
fn overlapping_selections_add_only_the_new_cells() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "bitstamp,kraken", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-03"])
        .expect_code(0);
    // Repeated and comma-separated names, a one-day default range via --to.
    let out = sb
        .run(&[
            "enqueue",
            "-e",
            "kraken",
            "-e",
            "bitstamp,cexio",
            "-s",
            "btc",
            "--from",
            "2020-03-03",
            "--to",
            "2020-03-04",
        ])
        .expect_code(0);
    // kraken and bitstamp add 03-04; cexio adds both days.
    assert!(out.stderr.contains("enqueued 4 new tasks (2 already in the queue)"), "{}", out.stderr);
    let one_day = sb.run(&["enqueue", "-e", "okex", "-s", "eth", "--from", "2020-03-09"]).expect_code(0);
    assert!(one_day.stderr.contains("enqueued 1 new task (0 already in the queue)"), "{}", one_day.stderr);
    assert!(one_day.stderr.contains("1 exchange x 1 symbol x 1 day (2020-03-09)"), "{}", one_day.stderr);
    assert_eq!(task_count(&sb), 11);
    // The names were checked against the server's lists; no price was asked for.
    assert_eq!(sb.server.requests_to("/price/"), 0);
    assert!(sb.server.requests_to("/exchanges") > 0);
}

#[test]
fn days_can_be_months_years_and_relative() {
    let Some(sb) = Sandbox::new() else { return };
    let added = |args: &[&str]| -> String {
        let mut all = vec!["enqueue", "-e", "kraken", "-s", "btc"];
        all.extend_from_slice(args);
        sb.run(&all).expect_code(0).stderr
    };
    assert!(added(&["--from", "2020-02"]).contains("enqueued 29 new tasks"), "a month, leap February");
    assert!(added(&["--from", "2019"]).contains("enqueued 365 new tasks"));
    assert!(added(&["--from", "2018-12", "--to", "2019-01"]).contains("enqueued 31 new tasks (31 already"));
    assert!(added(&["--from", "-2d", "--to", "yesterday"]).contains("enqueued 2 new tasks"));
    let today = chrono::Utc::now().date_naive();
    let days: Vec<String> = sb.rows("SELECT day FROM tasks WHERE day > '2020-12-31' ORDER BY day", &[]);
    let want: Vec<String> = [2, 1].iter().map(|n| (today - chrono::Duration::days(*n)).to_string()).collect();
    assert_eq!(days, want);
}

#[test]
fn days_count_back_in_weeks_months_and_years() {
    let Some(sb) = Sandbox::new() else { return };
    for ago in ["-3y", "-6m", "-2w"] {
        let out = sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", ago]).expect_code(0);
        assert!(out.stderr.contains("enqueued 1 new task "), "{ago} is one day: {}", out.stderr);
    }
    let today = chrono::Utc::now().date_naive();
    let months = |n| today.checked_sub_months(chrono::Months::new(n)).unwrap();
    let mut want: Vec<String> =
        [months(36), months(6), today - chrono::Duration::days(14)].iter().map(|d| d.to_string()).collect();
    want.sort();
    let days: Vec<String> = sb.rows("SELECT day FROM tasks ORDER BY day", &[]);
    assert_eq!(days, want);
    // A unit it does not know is refused with the units it does.
    let out = sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "-3q"]).expect_code(2);
    assert!(out.stderr.contains("'-3q' is not a day") && out.stderr.contains("-Ny"), "{}", out.stderr);
}

#[test]
fn an_unknown_name_is_refused_with_the_closest_known_one() {
    let Some(sb) = Sandbox::new() else { return };
    let out = sb.run(&["enqueue", "-e", "krakn", "-s", "btc", "--from", "2020-03-01"]).expect_code(2);
    assert!(out.stderr.contains("unknown exchange 'krakn'"), "{}", out.stderr);
    assert!(out.stderr.contains("Did you mean 'kraken'?"), "{}", out.stderr);
    assert!(out.stderr.contains("bitfinex, bitstamp"), "the server's names are listed: {}", out.stderr);
    let out = sb.run(&["enqueue", "-e", "kraken", "-s", "BTC", "--from", "2020-03-01"]).expect_code(2);
    assert!(
        out.stderr.contains("unknown symbol 'BTC'") && out.stderr.contains("Did you mean 'btc'?"),
        "{}",
        out.stderr
    );
    assert!(sb.nothing_stored(), "nothing was created");
    let out =
        sb.run(&["enqueue", "-e", "krakn", "-s", "btc", "--from", "2020-03-01", "--allow-unknown"]).expect_code(0);
    assert!(out.stderr.contains("enqueued 1 new task "), "{}", out.stderr);
}

#[test]
fn offline_names_are_refused_unless_allow_unknown_takes_them_unchecked() {
    let Some(sb) = Sandbox::new() else { return };
    let args = ["--server", "http://127.0.0.1:9", "enqueue", "-e", "krakn", "-s", "btc", "--from", "2020-03-01"];
    let out = sb.run(&args).expect_code(1);
    assert!(out.stderr.contains("cannot check the exchange names against the price server"), "{}", out.stderr);
    assert!(out.stderr.contains("nothing was queued"), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-unknown"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "one clear error: {}", out.stderr);
    assert!(sb.nothing_stored(), "nothing was created");
    let mut unchecked = args.to_vec();
    unchecked.push("--allow-unknown");
    let out = sb.run(&unchecked).expect_code(0);
    assert!(out.stderr.contains("enqueued 1 new task "), "{}", out.stderr);
}

#[test]
fn a_to_more_than_a_year_ahead_is_refused_unless_far_future_confirms_it() {
    let Some(sb) = Sandbox::new() else { return };
    // 2102 for 2012: a typo that would queue tasks for 80 years to come.
    for command in ["enqueue", "fetch"] {
        let out =
            sb.run(&[command, "-e", "kraken,bitstamp", "-s", "btc", "--from", "2012", "--to", "2102"]).expect_code(2);
        assert!(out.stderr.contains("--to 2102-12-31 is more than a year after today"), "{}", out.stderr);
        assert!(out.stderr.contains("add --far-future"), "{}", out.stderr);
        let today = chrono::Utc::now().date_naive();
        let days = (crate::common::day("2102-12-31") - today).num_days();
        assert!(out.stderr.contains(&format!("{days} days after today, {} tasks", 2 * days)), "{}", out.stderr);
        assert!(sb.nothing_stored(), "{command} stored something");
    }
    // A year ahead is taken, and so is further with the flag.
    let next_year = (chrono::Utc::now().date_naive() + chrono::Duration::days(300)).to_string();
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "today", "--to", &next_year]).expect_code(0);
    let out = sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2102-12-30", "--to", "2102", "--far-future"]);
    assert!(out.expect_code(0).stderr.contains("enqueued 2 new tasks"));
}
