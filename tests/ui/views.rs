//! The page's views in a browser: what each shows first, and that it
//! shows the database's own numbers.

use std::time::Duration;

use pricequeue::error::OK;
use pricequeue::server::ServerOptions;

use super::{browser, fixture, status_counts, Page, Ui, HOSTILE};
use crate::common::{day, PgSandbox, Running, SqliteSandbox};

#[test]
fn every_view_loads_without_errors_and_the_counts_are_status_s() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/"));
    let counts = status_counts(&sb);
    for (state, n) in &counts {
        let id = if state == "total" { "#count-total".to_string() } else { format!("#count-{state}") };
        assert_eq!(page.text(&id), n.to_string(), "{state} on the page and in `status`");
    }
    page.screenshot("progress");
    for (path, name) in [
        ("/failures", "failures"),
        ("/coverage?exchange=bitstamp,kraken&symbol=btc,eth", "coverage"),
        // What the page opens on: the pair fetched last (binance's).
        ("/prices", "prices"),
        ("/prices?exchange=kraken&symbol=eth&from=2020-03-01&to=2020-03-31&style=candles", "candles"),
        ("/sql", "sql"),
    ] {
        page.go(&ui.url(path));
        page.wait_for("document.readyState === 'complete'", "the page");
        page.screenshot(name);
    }
    page.tab.wait_for_element("#sql-form button").unwrap().click().unwrap();
    page.wait_for("!['', 'running...'].includes(document.getElementById('sql-status').textContent)", "an answer");
    let said = page.text("#sql-status");
    assert!(said.ends_with("rows"), "the SQL box said {said:?}");
    assert!(page.eval("document.querySelectorAll('#sql-result td').length").as_u64() > Some(0));
    page.screenshot("sql");
    page.no_errors();
}

#[test]
fn the_done_count_rises_while_work_runs_without_a_reload() {
    let sb = SqliteSandbox::sqlite_with_server(ServerOptions {
        latency: Duration::from_millis(40),
        ..ServerOptions::default()
    });
    sb.run(&["enqueue", "-e", "bitstamp,kraken", "-s", "btc,eth", "--from", "2020-01-01", "--to", "2020-03-31"])
        .expect_code(OK);
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/"));
    assert_eq!(page.text("#count-done"), "0");
    page.eval("window.loadedOnce = true");
    let work = Running::spawn(sb.command(&["work", "--workers", "4"]));
    page.wait_for("Number(document.getElementById('count-done').textContent) > 0", "the first done tasks");
    let first: u64 = page.text("#count-done").parse().unwrap();
    page.wait_for(&format!("Number(document.getElementById('count-done').textContent) > {first}"), "more");
    page.wait_for("document.getElementById('rate').textContent.includes('tasks/s')", "the rate");
    page.screenshot("progress-live");
    assert_eq!(page.eval("window.loadedOnce === true"), serde_json::Value::Bool(true), "the page was reloaded");
    drop(work);
    page.no_errors();
}

#[test]
fn a_hostile_name_shows_as_text_and_runs_nothing() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    for path in [
        "/",
        "/coverage?exchange=all&symbol=all",
        &format!("/prices?exchange={}&symbol=btc", "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"),
    ] {
        let page = Page::open(&browser, &ui.url(path));
        page.wait_for("document.readyState === 'complete'", "the page");
        let text = page.eval("document.body.innerText").as_str().unwrap_or_default().to_string();
        assert!(text.contains(HOSTILE), "{path}: the name is not shown as text");
        assert_eq!(page.eval("document.images.length"), serde_json::json!(0), "{path}: an <img> was made");
        page.no_errors();
    }
}

#[test]
fn the_chart_s_gaps_are_the_days_the_database_says_are_missing() {
    let sb = fixture();
    // One more gap, of another kind: a price deleted by hand.
    sb.execute("DELETE FROM prices WHERE exchange = 'bitstamp' AND symbol = 'btc' AND day = '2020-03-15'", &[]);
    let missing = sb.run(&[
        "query",
        "--missing",
        "-e",
        "bitstamp",
        "-s",
        "btc",
        "--from",
        "2020-03-01",
        "--to",
        "2020-03-31",
        "--format",
        "csv",
        // A row per day, to compare day by day (runs of days are one row).
        "--each-day",
    ]);
    let mut expected: Vec<String> =
        missing.stdout.lines().skip(1).filter_map(|l| l.split(',').nth(2)).map(String::from).collect();
    expected.sort();
    assert!(expected.contains(&"2020-03-15".to_string()), "{}", missing.stdout);
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/prices?exchange=bitstamp&symbol=btc&from=2020-03-01&to=2020-03-31"));
    let gaps =
        page.eval("JSON.stringify([...document.querySelectorAll('#chart rect.gap')].map(r => r.dataset.day).sort())");
    let gaps: Vec<String> = serde_json::from_str(gaps.as_str().unwrap()).unwrap();
    assert_eq!(gaps, expected, "the chart's gaps and `query --missing`");
    page.no_errors();
    let _ = day("2020-03-01");
}

#[test]
fn the_page_serves_a_postgresql_database_too() {
    let Some(sb) = PgSandbox::new() else { return };
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-10"]).expect_code(OK);
    sb.run(&["fetch", "-e", "kraken", "-s", "eth", "--from", "2020-03-05", "--to", "2020-03-08"]).expect_code(OK);
    let ui = Ui::start(&sb.db(), &[]);
    let (status, html) = ui.request("GET", "/", &[], "");
    assert_eq!(status, 200);
    let done = sb.count("SELECT count(*) FROM tasks WHERE state = 'done'");
    assert!(html.contains(&format!("id=\"count-done\" data-count=\"done\">{done}<")), "{html}");
    assert!(html.contains("bitstamp <span class=\"via\">via cryptodb</span>"), "each pair's source: {html}");
    // The pair fetched last, as PostgreSQL finds it.
    let (_, html) = ui.request("GET", "/prices", &[], "");
    assert!(html.contains("kraken eth, 2020-03-05 to 2020-03-08"), "{html}");
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/prices?exchange=bitstamp&symbol=btc"));
    page.wait_for("document.querySelector('#chart svg') !== null", "the chart");
    page.no_errors();
}
