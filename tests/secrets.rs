//! Secrets: a password in a URL (`--server http://user:password@host`, a
//! declared `server`) and API keys from the environment are sent, and
//! never stored, logged or shown, however a server echoes them. Every
//! output of every command and everything the database holds (an SQLite
//! file's bytes, every PostgreSQL table as text) is searched for the
//! secret in each of its spellings.

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use pricequeue::error::OK;
use pricequeue::server::{Fault, FaultRule, RetryAfter, ServerOptions};

use super::Sandbox;
use crate::common::{hidden, run, spellings, Output, Scripted};

const USER: &str = "alice";
/// A password with what each spelling writes its own way: a quote, a
/// slash, a space, an `@`, a letter outside ASCII.
const PASSWORD: &str = "pw\"Q/9 é@x";

/// The Basic `Authorization` value of `user:password` (its base64 is
/// checked against RFC 4648's examples in `source::secrets`).
fn basic(user: &str, password: &str) -> String {
    pricequeue::source::Credentials::new(user, Some(password)).authorization()
}

fn both(out: &Output) -> String {
    format!("{}\n{}", out.stdout, out.stderr)
}

#[test]
fn a_password_in_server_is_sent_as_basic_authentication_and_never_shown_or_stored() {
    // Every price's first request is a 429 (a pause kept in
    // `server_pauses`), and one day's answers are all 500s (errors kept in
    // `tasks`); --rate keeps slots in `server_slots`: each table that
    // names the server, and each message that shows its URL.
    let Some(sb) = Sandbox::with_server(ServerOptions {
        basic_auth: Some(format!("{USER}:{PASSWORD}")),
        faults: vec![
            FaultRule::first(Fault::RateLimited, 1),
            FaultRule::rate(Fault::ServerError, 1.0).only("2020-01-03"),
        ],
        retry_after: RetryAfter::Seconds(1),
        ..ServerOptions::default()
    }) else {
        return;
    };
    let encoded = utf8_percent_encode(PASSWORD, NON_ALPHANUMERIC).to_string();
    let server = sb.server.url().replacen("http://", &format!("http://{USER}:{encoded}@"), 1);
    let range = ["--exchange", "bitstamp", "--symbol", "btc", "--from", "2020-01-01", "--to", "2020-01-03"];
    let mut seen = String::new();
    let mut fetch = vec!["-v", "fetch", "--max-attempts", "2", "--rate", "50/s"];
    fetch.extend(range);
    let out = run(sb.command_at(&server, &fetch));
    seen.push_str(&both(&out));
    hidden("fetch -v", &seen, PASSWORD);
    let out = out.expect_code(OK);
    // Sent, and right: the server answers only with the password, decoded.
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state IN ('done', 'no_data')"), 2, "{}", out.stderr);
    assert!(out.stderr.contains(&format!("GET http://{USER}:***@")), "-v shows the URL masked:\n{}", out.stderr);

    let mut query = vec!["query"];
    query.extend(range);
    let mut query_json = query.clone();
    query_json.extend(["--format", "json"]);
    for args in [
        &["status"][..],
        &["status", "--format", "json"],
        &query,
        &query_json,
        &["sql", "SELECT server FROM server_pauses UNION ALL SELECT server FROM server_slots"],
    ] {
        let out = run(sb.command_at(&server, args));
        hidden(&args.join(" "), &both(&out), PASSWORD);
        seen.push_str(&both(&out));
    }
    // The failed day's error and the kept pause and slots name the server,
    // masked: they are there, and hold no password.
    let error: String = sb.one("SELECT last_error FROM tasks WHERE day = '2020-01-03'", &[]);
    assert!(error.contains(&format!("http://{USER}:***@")), "{error}");
    assert_eq!(sb.count("SELECT count(*) FROM server_pauses WHERE server LIKE '%alice:***@%'"), 1);
    assert_eq!(sb.count("SELECT count(*) FROM server_slots WHERE server LIKE '%alice:***@%'"), 1);
    assert!(seen.contains(&format!("{USER}:***@")), "status and sql show where the password was");

    // What the database holds, and what `copy` carries to another.
    let copy = crate::common::SqliteSandbox::sqlite();
    let out = run(sb.command(&["copy", "--from", &sb.db(), "--to", &copy.db()])).expect_code(OK);
    hidden("copy", &both(&out), PASSWORD);
    let header = basic(USER, PASSWORD);
    let header = header.trim_start_matches("Basic ");
    for (place, text) in [("the database", sb.stored_text()), ("the copy", copy.stored_text())] {
        assert!(text.contains(&format!("{USER}:***@")), "{place}: the search reads what names the server");
        hidden(place, &text, PASSWORD);
        assert!(!text.contains(header), "{place} holds the Authorization header");
    }
    assert!(!seen.contains(header), "the Authorization header was shown");

    // A later run without the password is told what is missing, and the
    // tasks stay as they were.
    run(sb.command(&["retry"])).expect_code(OK);
    let out = run(sb.command(&["work"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("HTTP 401") && out.stderr.contains("user name and password"), "{}", out.stderr);
    assert!(out.stderr.contains("--server") && out.stderr.contains("never stored"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'queued'"), 1);
}

/// A declaration whose requests carry a key from the environment.
fn echo_declaration(server: &str) -> String {
    format!(
        r#"[echo]
server = "{server}"
candles = "{{server}}/v1/{{symbol}}?from={{first}}&to={{last}}&key={{env:PQ_ECHO_KEY}}"
max_days = 10
paging = "forward"
order = "oldest_first"

[echo.rows]
json = "/rows"
time = "t"
time_format = "date"
close_only = true
close = "c"
"#
    )
}

#[test]
fn a_key_a_server_echoes_is_masked_in_every_spelling() {
    let Some(sb) = Sandbox::new() else { return };
    const KEY: &str = "k\"ey/é 9+Z";
    // A server error whose body quotes the key every way, and once more
    // as is across the 300th byte, where an error's quote of a body ends.
    let mut body = format!("{{\"error\": \"bad key\", \"said\": {:?}", spellings(KEY).join(" | "));
    body.push_str(&" ".repeat(296usize.saturating_sub(body.len())));
    body.push_str(&format!("{KEY} and more}}"));
    let server = Scripted::start(vec![("*", "500 Internal Server Error", "application/json", body)]);
    std::fs::write(sb.dir.path().join("echo.toml"), echo_declaration(&server.url)).unwrap();
    let args = [
        "-v",
        "--sources",
        "echo.toml",
        "fetch",
        "--source",
        "echo",
        "--symbol",
        "ABC",
        "--allow-unknown",
        "--from",
        "2020-01-01",
        "--to",
        "2020-01-02",
        "--max-attempts",
        "1",
    ];
    let mut cmd = sb.command_at(&server.url, &args);
    cmd.env("PQ_ECHO_KEY", KEY);
    let out = run(cmd);
    hidden("fetch -v", &both(&out), KEY);
    out.expect_code(OK);
    let error: String = sb.one("SELECT DISTINCT last_error FROM tasks", &[]);
    assert!(error.contains("key=***") && error.contains("HTTP 500") && error.contains("bad key"), "{error}");
    assert!(error.starts_with("GET http://") && !error.contains("GET GET"), "the request once: {error}");
    for args in [&["status"][..], &["status", "--format", "json"], &["query", "--source", "echo", "--format", "json"]] {
        let mut cmd = sb.command_at(&server.url, args);
        cmd.env("PQ_ECHO_KEY", KEY);
        hidden(&args.join(" "), &both(&run(cmd)), KEY);
    }
    hidden("the database", &sb.stored_text(), KEY);
}

/// The built-in Binance declaration, as `name`, at `server`.
fn binance_as(name: &str, server: &str) -> String {
    let text = include_str!("../src/source/builtin/binance.toml").replace("[binance", &format!("[{name}"));
    let at = text.find("server = ").expect("a server line");
    let end = at + text[at..].find('\n').expect("its end");
    format!("{}server = \"{server}\"{}", &text[..at], &text[end..])
}

#[test]
fn a_declared_server_takes_its_password_from_the_environment_and_refuses_one_written_in() {
    let Some(sb) = Sandbox::with_server(ServerOptions {
        basic_auth: Some(format!("{USER}:{PASSWORD}")),
        ..ServerOptions::default()
    }) else {
        return;
    };
    let at = sb.server.url().replacen("http://", &format!("http://{USER}:{{env:PQ_PASSWORD}}@"), 1);
    let literal = sb.server.url().replacen("http://", &format!("http://{USER}:{}@", "hunter2"), 1);
    std::fs::write(sb.dir.path().join("mine.toml"), binance_as("mine", &at)).unwrap();
    std::fs::write(sb.dir.path().join("written.toml"), binance_as("written", &literal)).unwrap();
    let enqueue = |file: &str, source: &str, from: &str, to: &str| {
        let mut cmd = sb.command(&["-v", "--sources", file, "enqueue", "--source", source]);
        cmd.args(["--symbol", "BTCUSDT", "--allow-unknown", "--from", from, "--to", to]);
        cmd.env("PQ_PASSWORD", PASSWORD);
        run(cmd)
    };

    // A password written into the declaration is refused before anything
    // is stored, saying how to write it.
    let out = enqueue("written.toml", "written", "2020-01-01", "2020-01-03");
    hidden("the refusal", &both(&out), "hunter2");
    assert_ne!(out.code, OK, "{}", out.stderr);
    assert!(out.stderr.contains("key `server`") && out.stderr.contains("{env:NAME}"), "{}", out.stderr);
    assert!(sb.nothing_stored(), "nothing is stored");

    // From the environment: sent (the server answers only with it, and
    // `work` goes to the declared server), never kept.
    let queued = enqueue("mine.toml", "mine", "2020-01-01", "2020-01-03").expect_code(OK);
    let mut work = sb.command_without_server(&["-v", "work"]);
    work.env("PQ_PASSWORD", PASSWORD);
    let out = run(work).expect_code(OK);
    for text in [both(&queued), both(&out), sb.stored_text()] {
        hidden("enqueue, work and the database", &text, PASSWORD);
    }
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'done'"), 3, "{}", out.stderr);
    let kept: String = sb.one("SELECT declaration FROM sources WHERE name = 'mine'", &[]);
    assert!(kept.contains("{env:PQ_PASSWORD}"), "{kept}");

    // A host without the variable names it and leaves the tasks queued.
    enqueue("mine.toml", "mine", "2020-01-04", "2020-01-05").expect_code(OK);
    let mut work = sb.command_without_server(&["work"]);
    work.env_remove("PQ_PASSWORD");
    let out = run(work).expect_code(OK);
    assert!(out.stderr.contains("PQ_PASSWORD") && out.stderr.contains("left queued"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'queued'"), 2);
}
