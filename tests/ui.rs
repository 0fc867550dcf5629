//! `pricequeue ui` in a real browser: Debian's Chromium, headless, driven
//! through its DevTools protocol (`headless_chrome`), as a user would use
//! the page; and by plain HTTP for what a browser would not send.
//!
//! Without Chromium the browser tests print one line and return; with
//! `PRICEQUEUE_REQUIRE_BROWSER=1` (as `.ci/run` sets) they fail instead.
//! Each view is saved as a screenshot in `target/ui-screenshots/`, and with
//! `PRICEQUEUE_UPDATE_SCREENSHOTS=1` in `docs/screenshots/` for the README.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Page::CaptureScreenshotFormatOption;
use headless_chrome::{Browser, LaunchOptions, Tab};
use pricequeue::error::OK;
use pricequeue::server::{Fault, FaultRule, ServerOptions};

use crate::common::{bin, day, PgSandbox, Running, SqliteSandbox};

/// How long the page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// A `pricequeue ui` process for a sandbox's database, on a free loopback port.
struct Ui {
    child: Child,
    /// `http://127.0.0.1:PORT`
    base: String,
}

impl Ui {
    fn start(db: &str, args: &[&str]) -> Ui {
        Ui::start_at(db, "127.0.0.1:0", args).0
    }

    /// `ui` on `addr`: the page, and the address it printed.
    fn start_at(db: &str, addr: &str, args: &[&str]) -> (Ui, String) {
        let mut child = Command::new(bin())
            .env_remove("PRICEQUEUE_DB")
            .args(["--db", db, "ui", "--addr", addr])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pricequeue ui");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line).expect("the address line");
        let url = line.trim().to_string();
        assert!(url.starts_with("http://"), "`ui` printed {url:?}");
        // Any address it listens on is reached through loopback here.
        let base = url.split('/').take(3).collect::<Vec<_>>().join("/").replace("0.0.0.0", "127.0.0.1");
        (Ui { child, base }, url)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A raw HTTP/1.1 request (what a browser would never send): the
    /// status code and the body.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
        let host = self.base.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to the page");
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
        for (k, v) in headers {
            request.push_str(&format!("{k}: {v}\r\n"));
        }
        request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
        let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        (status, body)
    }

    /// The page's CSRF token, as its HTML carries it.
    fn csrf(&self) -> String {
        let (_, html) = self.request("GET", "/sql", &[], "");
        let at = html.find("name=\"csrf-token\" content=\"").expect("the CSRF meta tag") + 27;
        html[at..at + 64].to_string()
    }
}

impl Drop for Ui {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser of the test's own (one test at a time has one: two cores),
/// ended with the test; `None` (the test returns) when there is no
/// Chromium and it is not required.
fn browser() -> Option<OwnBrowser> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    let path = PATH.get_or_init(|| {
        let path = std::env::var_os("PRICEQUEUE_CHROMIUM").map(PathBuf::from).or_else(|| {
            ["/usr/lib/chromium/chromium", "/usr/bin/chromium"].map(PathBuf::from).into_iter().find(|p| p.exists())
        });
        let required = std::env::var_os("PRICEQUEUE_REQUIRE_BROWSER").is_some_and(|v| v == "1");
        let path = path.filter(|p| p.exists());
        if path.is_none() {
            assert!(!required, "PRICEQUEUE_REQUIRE_BROWSER=1, but there is no Chromium (apt-get install chromium)");
            eprintln!("skipped in a browser: no Chromium (apt-get install chromium, or set PRICEQUEUE_CHROMIUM)");
        }
        path
    });
    let path = path.clone()?;
    let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let args = ["--disable-component-update", "--disable-background-networking", "--no-first-run"];
    let options = LaunchOptions {
        path: Some(path),
        headless: true,
        sandbox: false,
        enable_gpu: false,
        window_size: Some((1280, 900)),
        args: args.iter().map(OsStr::new).collect(),
        idle_browser_timeout: Duration::from_secs(120),
        ..LaunchOptions::default()
    };
    // A fresh profile in a temporary directory, removed when it ends.
    Some(OwnBrowser { browser: Browser::new(options).expect("start Chromium"), _turn: turn })
}

/// A Chromium process, killed when this is dropped (as the browser is,
/// before the turn is given up).
struct OwnBrowser {
    browser: Browser,
    _turn: MutexGuard<'static, ()>,
}

impl std::ops::Deref for OwnBrowser {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// A tab whose console errors, uncaught exceptions and refused scripts
/// (the Content-Security-Policy's) are gathered in `errors`.
struct Page {
    tab: Arc<Tab>,
    errors: Arc<Mutex<Vec<String>>>,
}

impl Page {
    fn open(browser: &Browser, url: &str) -> Page {
        let tab = browser.new_tab().expect("a tab");
        tab.set_default_timeout(PATIENCE);
        let errors = Arc::new(Mutex::new(Vec::new()));
        tab.enable_log().expect("the console log");
        tab.enable_runtime().expect("the runtime");
        let seen = errors.clone();
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let error = match event {
                Event::LogEntryAdded(e) if format!("{:?}", e.params.entry.level) == "Error" => {
                    Some(format!("{}: {}", e.params.entry.url.as_deref().unwrap_or(""), e.params.entry.text))
                }
                Event::RuntimeExceptionThrown(e) => Some(format!("{:?}", e.params.exception_details)),
                Event::RuntimeConsoleAPICalled(e) if format!("{:?}", e.params.Type) == "Error" => {
                    Some(format!("console.error: {:?}", e.params.args))
                }
                _ => None,
            };
            if let Some(error) = error {
                seen.lock().unwrap().push(error);
            }
        }))
        .expect("listen to the tab");
        let page = Page { tab, errors };
        page.go(url);
        page
    }

    fn go(&self, url: &str) {
        self.tab.navigate_to(url).expect("navigate").wait_until_navigated().expect("the page loads");
    }

    /// The value of a JavaScript expression, as JSON.
    fn eval(&self, js: &str) -> serde_json::Value {
        self.tab.evaluate(js, false).expect("evaluate").value.unwrap_or(serde_json::Value::Null)
    }

    fn text(&self, selector: &str) -> String {
        self.tab.wait_for_element(selector).expect(selector).get_inner_text().expect("its text")
    }

    /// Waits until `js` is true.
    fn wait_for(&self, js: &str, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while self.eval(js) != serde_json::Value::Bool(true) {
            assert!(
                Instant::now() < deadline,
                "waited {PATIENCE:?} for {what} ({js}); the page's errors: {:?}",
                self.errors.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn no_errors(&self) {
        let errors = self.errors.lock().unwrap();
        assert!(errors.is_empty(), "the page logged errors: {errors:#?}");
    }

    /// Saves what the page shows as `name.png`.
    fn screenshot(&self, name: &str) {
        let png =
            self.tab.capture_screenshot(CaptureScreenshotFormatOption::Png, None, None, true).expect("a screenshot");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
        if std::env::var_os("PRICEQUEUE_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
            let docs = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/screenshots");
            std::fs::create_dir_all(&docs).unwrap();
            std::fs::write(docs.join(format!("{name}.png")), &png).unwrap();
        }
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        let _ = self.tab.close(false);
    }
}

/// A database with prices, days the server has none for, failed tasks
/// (one attempt each, a third of the answers a 500) and a pair whose
/// exchange name is an HTML tag.
fn fixture() -> SqliteSandbox {
    let sb = SqliteSandbox::sqlite_with_server(ServerOptions {
        faults: vec![FaultRule::rate(Fault::ServerError, 0.3)],
        seed: 7,
        ..ServerOptions::default()
    });
    let fetch = ["fetch", "-e", "bitstamp,kraken", "-s", "btc,eth", "--from", "2020-03-01", "--to", "2020-03-31"];
    sb.run(&[&fetch[..], &["--max-attempts", "1"]].concat());
    sb.run(&["enqueue", "-e", HOSTILE, "-s", "btc", "--from", "2020-03-01", "--to", "2020-03-05", "--allow-unknown"])
        .expect_code(OK);
    assert!(sb.count("SELECT count(*) FROM tasks WHERE state = 'failed'") > 0, "no failed tasks to show");
    sb
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// `status --format json`'s counts, by state.
fn status_counts(sb: &SqliteSandbox) -> serde_json::Map<String, serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(&sb.run(&["status", "--format", "json"]).stdout).unwrap();
    let rows = json["states"].as_array().expect("the states section");
    rows.iter().map(|r| (r["state"].as_str().unwrap().to_string(), r["tasks"].clone())).collect()
}

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
        ("/coverage", "coverage"),
        ("/prices?exchange=bitstamp&symbol=btc&from=2020-03-01&to=2020-03-31", "prices"),
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
    assert_eq!(state(), "failed");
    button.click().unwrap();
    page.wait_for("document.getElementById('retry-result').textContent.includes('queued again')", "the answer");
    assert_eq!(state(), "queued", "{e} {s} {d}");
    page.no_errors();

    // Every failed task of a selection: kraken's, and no other's.
    let failed = |exchange: &str| {
        sb.count(&format!("SELECT count(*) FROM tasks WHERE state = 'failed' AND exchange = '{exchange}'"))
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
fn a_hostile_name_shows_as_text_and_runs_nothing() {
    let sb = fixture();
    let ui = Ui::start(&sb.db(), &[]);
    let Some(browser) = browser() else { return };
    for path in
        ["/", "/coverage", &format!("/prices?exchange={}&symbol=btc", "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")]
    {
        let page = Page::open(&browser, &ui.url(path));
        page.wait_for("document.readyState === 'complete'", "the page");
        let text = page.eval("document.body.innerText").as_str().unwrap_or_default().to_string();
        assert!(text.contains(HOSTILE), "{path}: the name is not shown as text");
        assert_eq!(page.eval("document.images.length"), serde_json::json!(0), "{path}: an <img> was made");
        page.no_errors();
    }
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
    let (ui, line) = Ui::start_at(&sb.db(), "0.0.0.0:0", &[]);
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
    let ui = Ui::start(&sb.db(), &[]);
    let (status, html) = ui.request("GET", "/", &[], "");
    assert_eq!(status, 200);
    let done = sb.count("SELECT count(*) FROM tasks WHERE state = 'done'");
    assert!(html.contains(&format!("id=\"count-done\" data-count=\"done\">{done}<")), "{html}");
    let Some(browser) = browser() else { return };
    let page = Page::open(&browser, &ui.url("/prices?exchange=bitstamp&symbol=btc"));
    page.wait_for("document.querySelector('#chart svg') !== null", "the chart");
    page.no_errors();
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
