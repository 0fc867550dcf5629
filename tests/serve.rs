//! The built-in server keeps the API contract of shared/API.md.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use pricequeue::server::data;
use serde_json::Value;

use crate::common::SqliteSandbox as Sandbox;

fn get(url: &str) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut resp = agent.get(url).call().expect("request");
    let status = resp.status().as_u16();
    let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    (status, ctype, resp.body_mut().read_to_string().unwrap())
}

#[test]
fn the_server_answers_as_the_api_says() {
    let sb = Sandbox::sqlite();
    let base = sb.server.url();

    let (status, _, body) = get(&format!("{base}/exchanges"));
    let exchanges: Vec<String> = serde_json::from_str(&body).unwrap();
    assert_eq!(status, 200);
    assert_eq!(exchanges.len(), 12);
    assert!(exchanges.windows(2).all(|w| w[0] < w[1]), "sorted: {exchanges:?}");
    let (_, _, body) = get(&format!("{base}/symbols"));
    assert_eq!(serde_json::from_str::<Vec<String>>(&body).unwrap(), ["btc", "eth", "ltc"]);

    let d =
        crate::common::day("2020-03-01").iter_days().find(|d| data::price("bitstamp", "btc", *d).is_some()).unwrap();
    let (status, ctype, body) = get(&format!("{base}/price/bitstamp/btc/{d}"));
    assert_eq!((status, ctype.as_str()), (200, "application/json"));
    let p: Value = serde_json::from_str(&body).unwrap();
    let want = data::price("bitstamp", "btc", d).unwrap();
    assert_eq!(
        (p["exchange"].as_str(), p["symbol"].as_str(), p["day"].as_str()),
        (Some("bitstamp"), Some("btc"), Some(&*d.to_string()))
    );
    assert_eq!(p["close"].as_f64(), Some(want.close));

    for null in ["/price/bitstamp/btc/1999-01-01", "/price/nowhere/btc/2020-03-01", "/price/bitstamp/btc/2020-3-1x"] {
        let (status, _, body) = get(&format!("{base}{null}"));
        assert_eq!((status, body.as_str()), (200, "null"), "{null}");
    }
    for missing in ["/", "/price", "/price/bitstamp/btc", "/price/bit%2Fstamp/btc/2020-03-01", "/exchanges/x"] {
        let (status, ctype, body) = get(&format!("{base}{missing}"));
        assert_eq!((status, ctype.as_str()), (404, "text/html"), "{missing}");
        assert!(body.contains("<html>"));
    }
}

#[test]
fn pricequeue_serve_runs_the_server_from_the_command_line_with_faults_and_counts() {
    let mut child = Command::new(crate::common::bin())
        .args(["serve", "--addr", "127.0.0.1:0", "--close-connections", "--fault", "error=first:1"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    // Read the first line and close the pipe: the server's later lines then
    // fail to write, and it must go on serving regardless.
    BufReader::new(child.stderr.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).map(str::to_string);
    let result = url.as_deref().map(|u| {
        let price = format!("{u}/price/kraken/btc/2020-03-02");
        (get(&format!("{u}/symbols")), get(&price), get(&price), get(&format!("{u}/__pricequeue/requests")))
    });
    let _ = child.kill();
    let _ = child.wait();
    let (symbols, first, second, counts) = result.unwrap_or_else(|| panic!("no URL in {line:?}"));
    assert_eq!((symbols.0, symbols.2.as_str()), (200, r#"["btc", "eth", "ltc"]"#));
    assert!(first.0 >= 500, "the first request of a price gets the injected 5xx: {}", first.0);
    assert_eq!(second.0, 200);
    let counts: Value = serde_json::from_str(&counts.2).unwrap();
    let path = &counts["/price/kraken/btc/2020-03-02"];
    assert_eq!((path["requests"].as_u64(), path["faults"].as_u64()), (Some(2), Some(1)), "{counts}");
}
