//! An API key from the environment never shows on the page: a declared
//! source whose URL carries one has failed tasks, whose errors quote the
//! URL with the key masked, and the failures view and the SQL box over
//! `tasks` and `sources` show `***`, never the key's value, even with the
//! key in the page's own environment.

use pricequeue::error::OK;
use pricequeue::server::{Fault, FaultRule, ServerOptions};

use super::Ui;
use crate::common::SqliteSandbox;

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
    let error: String = sb.one("SELECT DISTINCT last_error FROM tasks WHERE state = 'failed'", &[]);
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
