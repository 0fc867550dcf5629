//! An API key from the environment, and a password given in `--server`,
//! never show on the page: a source whose URL carries one has failed
//! tasks, whose errors quote the URL with it masked, and the failures view
//! and the SQL box over `tasks`, `sources`, `server_pauses` and
//! `server_slots` show `***`, never the secret, even with it in the page's
//! own environment.

use pricequeue::error::OK;
use pricequeue::server::{Fault, FaultRule, RetryAfter, ServerOptions};

use super::{browser, Page, Ui};
use crate::common::{hidden, SqliteSandbox};

/// The key, a value no other text holds.
const KEY: (&str, &str) = ("ALPHAVANTAGE_KEY", "av-key-ui-5e1c93");

/// The README's declarations (its Sources section's ```toml block), as
/// `tests/declared.rs` takes them.
fn declarations() -> String {
    let text = include_str!("../../README.md");
    let section = text.split("## Sources").nth(1).expect("a Sources section").split("\n## ").next().unwrap_or("");
    section.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block").to_string()
}

#[test]
fn an_api_key_never_shows_on_the_page() {
    // Every answer a 500: each error quotes the request, its URL masked.
    let sb = SqliteSandbox::sqlite_with_server(ServerOptions {
        faults: vec![FaultRule::rate(Fault::ServerError, 1.0)],
        ..ServerOptions::default()
    });
    std::fs::write(sb.dir.path().join("sources.toml"), declarations()).unwrap();
    let mut cmd = sb.command(&[
        "--sources",
        "sources.toml",
        "fetch",
        "--source",
        "alphavantage",
        "--symbol",
        "IBM",
        "--allow-unknown",
        "--from",
        "2021-01-04",
        "--to",
        "2021-01-05",
        "--max-attempts",
        "1",
    ]);
    cmd.env(KEY.0, KEY.1);
    // 500s are transient: the tasks fail for now and cool down (exit 0),
    // their errors kept like any failure's.
    crate::common::run(cmd).expect_code(OK);
    let error: String = sb.one("SELECT DISTINCT last_error FROM tasks WHERE state = 'cooling'", &[]);
    assert!(error.contains("apikey=***"), "{error}");

    let (ui, _) = Ui::start_at(&sb.db(), "127.0.0.1:0", &[], &[KEY]);
    let (status, failures) = ui.request("GET", "/failures", &[], "");
    assert_eq!(status, 200, "{failures}");
    assert!(failures.contains("IBM") && failures.contains("apikey=***"), "{failures}");
    assert!(!failures.contains(KEY.1), "the failures view shows the key");

    let csrf = ui.csrf();
    let json = [("content-type", "application/json"), ("origin", ui.base.as_str()), ("x-csrf-token", &csrf)];
    for sql in ["SELECT * FROM tasks", "SELECT * FROM sources"] {
        let (status, body) = ui.request("POST", "/sql", &json, &serde_json::json!({ "sql": sql }).to_string());
        assert_eq!(status, 200, "{body}");
        assert!(!body.contains("\"error\":\""), "{sql}: {body}");
        assert!(!body.contains(KEY.1), "{sql} shows the key: {body}");
        let masked = if sql.contains("tasks") { "apikey=***" } else { "{env:ALPHAVANTAGE_KEY}" };
        assert!(body.contains(masked), "{sql}: {body}");
    }
}

#[test]
fn a_password_in_server_never_shows_on_the_page() {
    // What a URL's user-info may hold as it is (RFC 3986's sub-delims), so
    // that the URL is the same encoded or not; two of them HTML-escaped.
    const PASSWORD: &str = "ui-pw&9'x!";
    // A pause, request slots and a failed day: each kept with the server's URL.
    let sb = SqliteSandbox::sqlite_with_server(ServerOptions {
        basic_auth: Some(format!("alice:{PASSWORD}")),
        faults: vec![
            FaultRule::first(Fault::RateLimited, 1),
            FaultRule::rate(Fault::ServerError, 1.0).only("2020-01-02"),
        ],
        retry_after: RetryAfter::Seconds(1),
        ..ServerOptions::default()
    });
    let server = sb.server.url().replacen("http://", &format!("http://alice:{PASSWORD}@"), 1);
    let fetch = ["fetch", "--exchange", "bitstamp", "--symbol", "btc", "--from", "2020-01-01", "--to", "2020-01-02"];
    let mut cmd = sb.command_at(&server, &fetch);
    cmd.args(["--max-attempts", "1", "--rate", "50/s"]);
    crate::common::run(cmd).expect_code(OK);
    let error: String = sb.one("SELECT last_error FROM tasks WHERE state = 'cooling'", &[]);
    assert!(error.contains("alice:***@"), "{error}");

    // With the URL in the page's own environment too.
    let (ui, _) = Ui::start_at(&sb.db(), "127.0.0.1:0", &[], &[("PRICEQUEUE_SERVER", &server)]);
    for path in ["/", "/failures", "/prices", "/coverage"] {
        let (status, body) = ui.request("GET", path, &[], "");
        assert_eq!(status, 200, "{path}: {body}");
        hidden(path, &body, PASSWORD);
    }
    let csrf = ui.csrf();
    let json = [("content-type", "application/json"), ("origin", ui.base.as_str()), ("x-csrf-token", &csrf)];
    for sql in ["SELECT * FROM tasks", "SELECT * FROM server_pauses", "SELECT * FROM server_slots"] {
        let (status, body) = ui.request("POST", "/sql", &json, &serde_json::json!({ "sql": sql }).to_string());
        assert_eq!(status, 200, "{body}");
        hidden(sql, &body, PASSWORD);
        assert!(body.contains("alice:***@"), "{sql} shows where the password was: {body}");
    }

    // What a person sees: the failures view and the SQL box, in a browser.
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/failures"));
    let shown = page.eval("document.body.innerText").as_str().unwrap_or_default().to_string();
    assert!(shown.contains("alice:***@"), "{shown}");
    hidden("the failures view", &shown, PASSWORD);
    page.go(&ui.url("/sql"));
    page.wait_for("document.readyState === 'complete'", "the page");
    let sql = "SELECT server FROM server_pauses UNION ALL SELECT server FROM server_slots UNION ALL SELECT last_error FROM tasks";
    page.eval(&format!("document.querySelector('#sql-form textarea').value = {}", serde_json::json!(sql)));
    page.tab.wait_for_element("#sql-form button").unwrap().click().unwrap();
    page.wait_for("!['', 'running...'].includes(document.getElementById('sql-status').textContent)", "an answer");
    let result = page.text("#sql-result");
    assert!(result.contains("alice:***@"), "{result}");
    hidden("the SQL box", &result, PASSWORD);
    page.no_errors();
}
