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

use crate::common::{bin, SqliteSandbox};

mod actions;
mod first;
mod secrets;
mod views;

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
        Ui::start_at(db, "127.0.0.1:0", args, &[]).0
    }

    /// `ui` on `addr`, with `env` in its environment: the page, and the
    /// address it printed.
    fn start_at(db: &str, addr: &str, args: &[&str], env: &[(&str, &str)]) -> (Ui, String) {
        let mut child = Command::new(bin())
            .env_remove("PRICEQUEUE_DB")
            .envs(env.iter().copied())
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

    /// The value of a JavaScript expression that makes an object or an
    /// array (which `eval` does not bring back), through JSON.
    fn json(&self, js: &str) -> serde_json::Value {
        let text = self.eval(&format!("JSON.stringify({js})"));
        serde_json::from_str(text.as_str().unwrap_or("null")).expect("JSON")
    }

    /// The value of each input of a form, by name.
    fn fields(&self, form: &str) -> serde_json::Value {
        self.eval(&format!(
            "JSON.stringify(Object.fromEntries([...document.querySelectorAll('{form} input')].map(i => [i.name, i.value])))"
        ))
        .as_str()
        .map(|s| serde_json::from_str(s).expect("JSON"))
        .unwrap_or_default()
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
/// (one attempt each, a third of the answers a 500), a pair whose
/// exchange name is an HTML tag, and a pair of a one-exchange source
/// (binance's, fetched last).
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
    let binance = ["fetch", "--source", "binance", "-s", "BTCUSDT", "--from", "2020-03-01", "--to", "2020-03-31"];
    sb.run(&[&binance[..], &["--max-attempts", "1", "--allow-unknown"]].concat());
    assert!(sb.count("SELECT count(*) FROM tasks WHERE state IN ('failed', 'cooling')") > 0, "no failed tasks to show");
    sb
}

const HOSTILE: &str = "<img src=x onerror=alert(1)>";

/// `status --format json`'s counts, by state.
fn status_counts(sb: &SqliteSandbox) -> serde_json::Map<String, serde_json::Value> {
    let json: serde_json::Value = serde_json::from_str(&sb.run(&["status", "--format", "json"]).stdout).unwrap();
    let rows = json["states"].as_array().expect("the states section");
    rows.iter().map(|r| (r["state"].as_str().unwrap().to_string(), r["tasks"].clone())).collect()
}
