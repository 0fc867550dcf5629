//! What the page changes, and who may: Retry, the CSRF token and the
//! origin, read-only, the token off loopback; and the CSV download.

use std::process::Command;

use super::{browser, fixture, Page, Ui};
use crate::common::bin;

#[test]
fn retry_in_the_page_queues_the_failed_task_again() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/failures"));
    let button = page.tab.wait_for_element("button.retry[data-scope='task']").unwrap();
    let (e, s, d) = (
        button.get_attribute_value("data-exchange").unwrap().unwrap(),
        button.get_attribute_value("data-symbol").unwrap().unwrap(),
        button.get_attribute_value("data-day").unwrap().unwrap(),
    );
    let state = || -> String {
        sb.one("SELECT state FROM tasks WHERE exchange = ?1 AND symbol = ?2 AND day = ?3", &[&e, &s, &d])
    };
    // A failure, for now (cooling down) or for good: the page retries either.
    assert!(matches!(state().as_str(), "failed" | "cooling"), "{}", state());
    button.click().unwrap();
    page.wait_for("document.getElementById('retry-result').textContent.includes('queued again')", "the answer");
    assert_eq!(state(), "queued", "{e} {s} {d}");
    page.no_errors();

    // Every failed task of a selection: kraken's, and no other's.
    let failed = |exchange: &str| {
        sb.count(&format!(
            "SELECT count(*) FROM tasks WHERE state IN ('failed', 'cooling') AND exchange = '{exchange}'"
        ))
    };
    let (kraken, bitstamp) = (failed("kraken"), failed("bitstamp"));
    assert!(kraken > 0 && bitstamp > 0, "{kraken} and {bitstamp} failed");
    page.go(&ui.url("/failures?exchange=kraken"));
    page.tab.wait_for_element("button.retry[data-scope='all']").unwrap().click().unwrap();
    page.wait_for("document.getElementById('retry-result').textContent.includes('queued again')", "the answer");
    assert_eq!(page.text("#retry-result"), format!("{kraken} tasks queued again"));
    assert_eq!((failed("kraken"), failed("bitstamp")), (0, bitstamp));
    page.no_errors();
}

#[test]
fn a_change_without_the_csrf_token_or_from_another_origin_changes_nothing() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let before = sb.dump();
    let csrf = ui.csrf();
    let form = ("content-type", "application/x-www-form-urlencoded");
    let origin = ui.base.clone();
    for (headers, why) in [
        (vec![form, ("origin", origin.as_str())], "no CSRF token"),
        (vec![form, ("origin", origin.as_str()), ("x-csrf-token", "0".repeat(64).leak())], "a wrong CSRF token"),
        (vec![form, ("origin", "http://evil.example"), ("x-csrf-token", csrf.as_str())], "another origin"),
        (vec![form, ("sec-fetch-site", "cross-site"), ("x-csrf-token", csrf.as_str())], "another site"),
    ] {
        let (status, _) = ui.request("POST", "/retry", &headers, "scope=all");
        assert_eq!(status, 403, "{why}");
    }
    assert_eq!(sb.dump(), before, "a refused POST changed the database");
    // The same request, right: it works (so the refusals were the checks').
    let (status, body) = ui.request(
        "POST",
        "/retry",
        &[form, ("origin", origin.as_str()), ("x-csrf-token", csrf.as_str())],
        "scope=all",
    );
    assert_eq!(status, 200, "{body}");
    assert_ne!(sb.dump(), before);

    // A page of another origin that posts a form to the page, in a browser.
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let before = sb.dump();
    let Some(browser) = browser() else { return };
    let attack = format!(
        "data:text/html,<form method=post action='{}/retry'><input name=scope value=all></form>\
         <script>document.forms[0].submit()</script>",
        ui.base
    );
    let page = Page::open(&browser, &attack);
    page.wait_for("document.readyState === 'complete' && location.href.startsWith('http')", "the form's answer");
    assert_eq!(sb.dump(), before, "a form from another origin changed the database");
}

#[test]
fn read_only_hides_retry_and_refuses_it() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &["--read-only"]);
    let (_, html) = ui.request("GET", "/failures", &[], "");
    assert!(!html.contains("button class=\"retry"), "a Retry button in read-only mode");
    let csrf = ui.csrf();
    let before = sb.dump();
    let headers =
        [("content-type", "application/x-www-form-urlencoded"), ("origin", ui.base.as_str()), ("x-csrf-token", &csrf)];
    assert_eq!(ui.request("POST", "/retry", &headers, "scope=all").0, 403);
    assert_eq!(sb.dump(), before);
    // The SQL box still reads.
    let json = [("content-type", "application/json"), ("origin", ui.base.as_str()), ("x-csrf-token", &csrf)];
    let (status, body) = ui.request("POST", "/sql", &json, r#"{"sql":"SELECT count(*) AS n FROM tasks"}"#);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"columns\":[\"n\"]"), "{body}");
    let (_, body) = ui.request("POST", "/sql", &json, r#"{"sql":"DELETE FROM tasks"}"#);
    assert!(body.contains("read-only statement"), "{body}");
    assert_eq!(sb.dump(), before);
}

#[test]
fn off_loopback_every_request_needs_the_token() {
    let sb = fixture();
    let (ui, line) = Ui::start_at(&sb.db(), "0.0.0.0:0", &[], &[]);
    let token = line.trim().split_once("?token=").expect("a token in the address").1.to_string();
    assert_eq!(token.len(), 64, "{line}");
    assert_eq!(ui.request("GET", "/", &[], "").0, 401);
    assert_eq!(ui.request("GET", "/events", &[], "").0, 401);
    assert_eq!(ui.request("GET", "/", &[("authorization", &format!("Bearer {token}"))], "").0, 200);
    assert_eq!(ui.request("GET", &format!("/?token={token}"), &[], "").0, 303);
    // A token of the user's must be one worth having.
    for weak in ["", "short", "has spaces but is long enough", "semi;colon-and-long-enough"] {
        let out = crate::common::run({
            let mut cmd = Command::new(bin());
            cmd.args(["--db", &sb.db(), "ui", "--addr", "0.0.0.0:0", "--token", weak]);
            cmd
        })
        .expect_code(pricequeue::error::USAGE);
        assert!(
            out.stderr.contains("--token (or PRICEQUEUE_UI_TOKEN) must be at least 16 characters"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn the_csv_download_is_query_s_csv() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let (status, body) =
        ui.request("GET", "/prices.csv?exchange=bitstamp,kraken&symbol=btc&from=2020-03-01&to=2020-03-31", &[], "");
    assert_eq!(status, 200);
    // The body comes in chunks (chunked transfer coding): take their data.
    let mut csv = String::new();
    let mut rest = body.as_str();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        csv.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    let query = [
        "query",
        "-e",
        "bitstamp,kraken",
        "-s",
        "btc",
        "--from",
        "2020-03-01",
        "--to",
        "2020-03-31",
        "--format",
        "csv",
    ];
    assert_eq!(csv, sb.run(&query).stdout);
    assert!(csv.lines().count() > 20, "{csv}");
    // A bad selection is a 400 that says why, not a file cut short.
    let (status, body) = ui.request("GET", "/prices.csv?from=2020-02-31", &[], "");
    assert_eq!(status, 400, "{body}");
}
