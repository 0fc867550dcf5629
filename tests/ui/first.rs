//! What the page shows first, and how it looks: the pair it opens on, the
//! filter's fields, the bars, the grid's width, the SQL box's answer, and
//! each pair's source.

use pricequeue::error::OK;
use pricequeue::server::{Fault, FaultRule, ServerOptions};
use serde_json::json;

use super::{browser, fixture, Page, Ui};
use crate::common::SqliteSandbox;

/// Three pairs: `bitstamp btc` (March, fetched first), `aaa btc` (March,
/// every task failed; the alphabetically first) and `kraken eth` (the 5th
/// to the 20th, fetched last).
fn three_pairs() -> SqliteSandbox {
    let sb = SqliteSandbox::sqlite_with_server(ServerOptions {
        faults: vec![FaultRule::rate(Fault::ServerError, 1.0).only("/aaa/")],
        ..ServerOptions::default()
    });
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-31"]).expect_code(OK);
    let failing = ["fetch", "-e", "aaa", "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-31"];
    sb.run(&[&failing[..], &["--allow-unknown", "--max-attempts", "1"]].concat());
    // Server errors: failed for now, cooling down.
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE exchange = 'aaa' AND state = 'cooling'"), 31);
    sb.run(&["fetch", "-e", "kraken", "-s", "eth", "--from", "2020-03-05", "--to", "2020-03-20"]).expect_code(OK);
    sb
}

#[test]
fn prices_and_coverage_open_on_the_pair_fetched_last_and_their_fields_show_what_is_shown() {
    let sb = three_pairs();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let latest = json!({"exchange": "kraken", "symbol": "eth", "source": "", "from": "2020-03-05", "to": "2020-03-20"});
    let page = Page::open(&browser, &ui.url("/prices"));
    assert!(
        page.text("main > p").starts_with("kraken eth, 2020-03-05 to 2020-03-20: 16 prices"),
        "{}",
        page.text("main > p")
    );
    assert_eq!(page.fields("form.filter"), latest, "the prices' fields");
    page.go(&ui.url("/coverage"));
    let rows =
        page.eval("[...document.querySelectorAll('table.grid tbody tr')].map(r => r.innerText.trim()).join('|')");
    assert_eq!(rows, json!("kraken\teth"), "the coverage grid's rows");
    assert_eq!(page.fields("form.filter"), latest, "the coverage's fields");
    // Every pair, on asking: the three with tasks, as `coverage` draws them
    // (it was every exchange by every symbol, six rows, three never queued).
    page.tab.wait_for_element("a[href='/coverage?exchange=all&symbol=all']").unwrap().click().unwrap();
    page.wait_for("document.querySelectorAll('table.grid tbody tr').length === 3", "every pair's row");
    let rows =
        page.eval("[...document.querySelectorAll('table.grid tbody tr')].map(r => r.innerText.trim()).join('|')");
    assert_eq!(rows, json!("aaa\tbtc|bitstamp\tbtc|kraken\teth"), "the pairs with tasks, no other");
    // A source keeps its pairs, as `--source` does; none of another's.
    page.go(&ui.url("/coverage?source=cryptodb&symbol=btc"));
    let rows =
        page.eval("[...document.querySelectorAll('table.grid tbody tr')].map(r => r.innerText.trim()).join('|')");
    assert_eq!(rows, json!("aaa\tbtc|bitstamp\tbtc"), "cryptodb's pairs of btc");
    assert_eq!(page.fields("form.filter")["source"], json!("cryptodb"));
    page.go(&ui.url("/coverage?source=binance"));
    assert!(page.text("main").contains("Nothing stored or queued for this selection"), "{}", page.text("main"));
    // A pair named without days: the fields show the days shown.
    page.go(&ui.url("/prices?exchange=bitstamp&symbol=btc"));
    assert_eq!(
        page.fields("form.filter"),
        json!({"exchange": "bitstamp", "symbol": "btc", "source": "", "from": "2020-03-01", "to": "2020-03-31"})
    );
    // Nothing typed on the failures page: no made-up days in the fields.
    page.go(&ui.url("/failures"));
    assert_eq!(page.fields("form.filter"), json!({"exchange": "", "symbol": "", "source": "", "from": "", "to": ""}));
    page.no_errors();
}

#[test]
fn a_pair_whose_tasks_all_failed_has_a_failed_bar_not_a_finished_one() {
    let sb = three_pairs();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/"));
    let widths = |exchange: &str| {
        page.json(&format!(
            "Object.fromEntries([...document.querySelectorAll('#pairs tr[data-exchange=\"{exchange}\"] svg.bar rect')]\
             .map(r => [r.dataset.state, Number(r.getAttribute('width'))]))"
        ))
    };
    let failed = widths("aaa");
    assert_eq!(failed["cooling"], json!(1000), "{failed}");
    assert_eq!((&failed["failed"], &failed["done"]), (&json!(0), &json!(0)), "{failed}");
    let done = widths("kraken");
    assert_eq!((done["done"].as_u64(), done["failed"].as_u64()), (Some(1000), Some(0)), "{done}");
    let fill =
        |state: &str| page.eval(&format!("getComputedStyle(document.querySelector('#pairs rect.s-{state}')).fill"));
    assert_ne!(fill("failed"), fill("done"), "failed and done in one colour");
    assert_eq!(fill("cooling"), fill("failed"), "a failure cooling down is drawn as a failure");
    let label =
        page.eval("document.querySelector('#pairs tr[data-exchange=\"aaa\"] svg.bar').getAttribute('aria-label')");
    assert_eq!(label, json!("31 cooling down of 31 tasks"));
    page.no_errors();
}

#[test]
fn the_coverage_grid_uses_the_page_s_width_with_labels_written_across() {
    let sb = three_pairs();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/coverage?exchange=all&symbol=all"));
    let share = page.eval(
        "document.querySelector('table.grid').getBoundingClientRect().width / document.querySelector('main').clientWidth",
    );
    assert!(share.as_f64() > Some(0.9), "the grid takes {share} of the page's width");
    let labels = page.json(
        "[...document.querySelectorAll('table.grid th.axis')].map(th => [th.innerText, getComputedStyle(th).writingMode, \
         th.scrollWidth <= th.clientWidth])",
    );
    let labels = labels.as_array().expect("the axis's labels");
    assert!(labels.len() >= 4, "{labels:?}");
    for label in labels {
        assert_eq!(label[1], json!("horizontal-tb"), "a turned label: {label}");
        assert_eq!(label[2], json!(true), "a label cut short: {label}");
    }
    assert_eq!(labels[0][0], json!("2020-03-01"));
    page.no_errors();
}

#[test]
fn the_sql_box_s_answer_is_red_only_for_an_error_and_its_button_sits_under_the_box() {
    let sb = three_pairs();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/sql"));
    let aligned = page.eval(
        "(() => { const t = document.querySelector('#sql-form textarea').getBoundingClientRect(), \
         b = document.querySelector('#sql-form button').getBoundingClientRect(); \
         return Math.abs(t.left - b.left) <= 1 && b.top >= t.bottom; })()",
    );
    assert_eq!(aligned, json!(true), "the Run button is not under the box, at its left edge");
    // How red a text is: its red channel past its green one.
    let redness = || {
        let rgb = page.eval("getComputedStyle(document.getElementById('sql-status')).color");
        let n: Vec<i64> = rgb
            .as_str()
            .unwrap_or_default()
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|s| s.parse().ok())
            .collect();
        n[0] - n[1]
    };
    let run = |sql: &str| {
        page.eval(&format!("document.querySelector('#sql-form textarea').value = {}", json!(sql)));
        page.eval("document.getElementById('sql-status').textContent = ''");
        page.tab.wait_for_element("#sql-form button").unwrap().click().unwrap();
        page.wait_for("!['', 'running...'].includes(document.getElementById('sql-status').textContent)", "an answer");
        page.text("#sql-status")
    };
    assert_eq!(run("SELECT exchange FROM tasks GROUP BY exchange"), "3 rows");
    assert!(redness() < 60, "a success in red");
    assert!(run("SELECT * FROM nosuch").contains("nosuch"));
    assert!(redness() > 60, "an error not in red");
}

#[test]
fn the_source_shows_where_the_exchange_does_not_name_it() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/"));
    let cell = |table: &str, exchange: &str| {
        page.eval(&format!(
            "[...new Set([...document.querySelectorAll('{table} tr[data-exchange=\"{exchange}\"] td:first-child')]\
             .map(td => td.innerText))].join('|')"
        ))
    };
    assert_eq!(cell("#pairs", "bitstamp"), json!("bitstamp via cryptodb"));
    assert_eq!(cell("#pairs", "binance"), json!("binance"), "binance's own source, said twice");
    page.go(&ui.url("/failures"));
    assert_eq!(cell("table.failed", "kraken"), json!("kraken via cryptodb"));
    page.no_errors();
}
