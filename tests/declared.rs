//! The README's declared sources, taken from the README's own text and
//! run as written against the built-in server's stand-ins; and their API
//! keys, which come from the environment and never show anywhere.

use chrono::Datelike;
use pricequeue::error::OK;
use pricequeue::server::stand_ins;

use super::Sandbox;
use crate::common::day;

/// The keys the README's commands read, each a value that no other text
/// holds, so a leak anywhere is found.
const KEYS: [(&str, &str); 3] =
    [("CRYPTOCOMPARE_KEY", "cc-key-3f9a61"), ("ALPHAVANTAGE_KEY", "av-key-77d0c2"), ("COINGECKO_KEY", "cg-key-b41e08")];

/// The README's declarations (its ```toml block) and the `pricequeue`
/// lines of the ```sh block after them, in its Sources section.
fn readme() -> (String, Vec<Vec<String>>) {
    let text = include_str!("../README.md");
    let section = text.split("## Sources").nth(1).expect("a Sources section").split("\n## ").next().unwrap_or("");
    let toml = section.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("a toml block");
    let sh = section.split("```toml\n").nth(1).and_then(|b| b.split("```sh\n").nth(1)).expect("an sh block after it");
    let commands = sh
        .split("```")
        .next()
        .unwrap_or("")
        .lines()
        .filter_map(|l| l.strip_prefix("pricequeue "))
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect();
    (toml.to_string(), commands)
}

#[test]
fn the_readme_s_three_declarations_run_as_written_and_store_what_the_apis_serve() {
    let Some(sb) = Sandbox::new() else { return };
    let (toml, commands) = readme();
    assert_eq!(commands.len(), 3, "{commands:?}");
    std::fs::write(sb.dir.path().join("sources.toml"), &toml).unwrap();
    let mut seen = String::new();
    for args in &commands {
        let mut cmd = sb.command(&["-v"]);
        cmd.args(args).args(["-f", "json"]);
        for (k, v) in KEYS {
            cmd.env(k, v);
        }
        let out = crate::common::run(cmd).expect_code(OK);
        let summary = out.summary();
        assert_eq!(summary["failed"], 0, "{args:?}: {summary}");
        seen.push_str(&out.stdout);
        seen.push_str(&out.stderr);
    }
    let tasks: Vec<(String, String, String, String)> = sb.rows("SELECT source, symbol, day, state FROM tasks", &[]);
    assert_eq!(tasks.len(), 365 * 4, "cryptocompare BTC and ETH, alphavantage IBM, coingecko bitcoin");
    for (source, symbol, d, state) in tasks {
        let d = day(&d);
        let price: Option<[f64; 5]> = sb.row(
            "SELECT open, high, low, close, volume FROM prices WHERE exchange = ?1 AND symbol = ?2 AND day = ?3",
            &[&source, &symbol, &d],
        );
        match stand_ins::expected(&source, &symbol, d) {
            // A stock has no price on a weekend: no data.
            Some(_) if source == "alphavantage" && d.weekday().number_from_monday() > 5 => {
                assert_eq!((state.as_str(), price), ("no_data", None), "{source} {symbol} {d}")
            }
            Some(p) if source == "coingecko" => {
                // Closes only: open, high and low are the close.
                assert_eq!(state, "done", "{source} {symbol} {d}");
                assert_eq!(price, Some([p.close, p.close, p.close, p.close, 0.0]), "{source} {symbol} {d}");
            }
            Some(p) => {
                assert_eq!(state, "done", "{source} {symbol} {d}");
                assert_eq!(price, Some([p.open, p.high, p.low, p.close, p.volume]), "{source} {symbol} {d}");
            }
            None => assert_eq!((state.as_str(), price), ("no_data", None), "{source} {symbol} {d}"),
        }
    }

    // The keys: used (the stand-in for Alpha Vantage refuses a request
    // without one), and nowhere to be seen.
    let dump = sb.dump();
    let kept: Vec<String> = sb.rows("SELECT declaration FROM sources ORDER BY name", &[]);
    assert_eq!(kept.len(), 3, "the declarations are kept in the database");
    assert!(kept.iter().any(|d| d.contains("{env:ALPHAVANTAGE_KEY}")), "{kept:?}");
    for (name, value) in KEYS {
        assert!(!dump.contains(value), "{name}'s value is in the database");
        assert!(!seen.contains(value), "{name}'s value was printed");
    }
    assert!(seen.contains("apikey=***") || !seen.contains("apikey="), "-v shows the key masked");
}

#[test]
fn an_api_key_never_shows_in_an_error_or_in_v_output() {
    let Some(sb) = Sandbox::new() else { return };
    let (toml, _) = readme();
    std::fs::write(sb.dir.path().join("sources.toml"), &toml).unwrap();
    let (name, value) = KEYS[1];
    // A symbol the stand-in does not know: the error quotes the request.
    let mut cmd = sb.command(&[
        "-v",
        "--sources",
        "sources.toml",
        "fetch",
        "--source",
        "alphavantage",
        "--symbol",
        "NOSUCH",
        "--allow-unknown",
        "--from",
        "2021-01-04",
        "--to",
        "2021-01-05",
    ]);
    cmd.env(name, value);
    let out = crate::common::run(cmd).expect_code(pricequeue::error::FAILED);
    let error: String = sb.one("SELECT DISTINCT last_error FROM tasks", &[]);
    assert!(error.contains("apikey=***") && error.contains("NOSUCH"), "{error}");
    for text in [&out.stdout, &out.stderr, &error, &sb.dump()] {
        assert!(!text.contains(value), "the key shows: {text}");
    }
    let status = sb.run(&["status"]).expect_code(OK);
    assert!(!status.stdout.contains(value));

    // Without the variable, the host says which one is missing and leaves
    // the tasks queued.
    sb.run(&["retry"]).expect_code(OK);
    let mut cmd = sb.command(&["work"]);
    cmd.env_remove(name);
    let out = crate::common::run(cmd).expect_code(OK);
    assert!(out.stderr.contains(name) && out.stderr.contains("left queued"), "{}", out.stderr);
    assert_eq!(sb.count("SELECT count(*) FROM tasks WHERE state = 'queued'"), 2);
}
