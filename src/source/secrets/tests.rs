use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::prelude::*;

use super::*;

fn secrets(values: &[&str]) -> Secrets {
    let names: Vec<String> = (0..values.len()).map(|i| format!("K{i}")).collect();
    Secrets::from_lookup(&names, |n| values.get(n[1..].parse::<usize>().ok()?).map(|v| v.to_string())).unwrap()
}

/// Each of the spellings the module names, written by hand as servers write them.
#[test]
fn a_secret_is_masked_however_a_server_spells_it() {
    let s = secrets(&["k\"e/y é+1 😀"]);
    for echoed in [
        "k\"e/y é+1 😀",                         // as is
        "k%22e%2Fy%20%C3%A9%2B1%20%F0%9F%98%80", // percent-encoded, upper case
        "k%22e%2fy+%c3%a9%2b1+%f0%9f%98%80",     // form-encoded, lower case
        "k\\\"e\\/y \\u00e9+1 \\ud83d\\ude00",   // JSON, PHP's \/ and ensure_ascii
        "k\\u0022e/y \\u00E9+1 \\uD83D\\uDE00",  // JSON, every character escaped
        "k\\u{22}e/y \\u{e9}+1 \\u{1f600}",      // Rust's {:?}
        "k&quot;e/y &#233;+1 &#x1F600;",         // HTML
        "k&#34;e%2Fy&#32;\\u00e9%2B1 😀",        // mixed
    ] {
        let said = format!("{{\"error\": \"bad key {echoed}!\"}}");
        assert_eq!(s.mask(&said), "{\"error\": \"bad key ***!\"}", "{echoed}");
    }
    // What is not the secret stays: a near miss, and another key's text.
    assert_eq!(s.mask("k\"e/y é+1 😁 and k%22e"), "k\"e/y é+1 😁 and k%22e");
}

#[test]
fn a_secret_cut_by_a_quote_is_masked_before_the_cut() {
    let s = secrets(&["s3cr3t-key-0123456789"]);
    for at in 280..300 {
        let body = format!("{}{}{}", "x".repeat(at), "s3cr3t-key-0123456789", "y".repeat(100));
        let quoted = s.quote(body.as_bytes());
        assert!(!quoted.contains("s3cr3t"), "{quoted}");
        assert!(quoted.ends_with(&format!("... ({} bytes)", body.len())), "{quoted}");
    }
    assert_eq!(s.quote(b"a\nb s3cr3t-key-0123456789"), "a b ***");
    // A body of megabytes is masked as far as the cut needs, no further.
    let mut big = "x".repeat(295).into_bytes();
    big.extend(b"s3cr3t-key-0123456789");
    big.extend(std::iter::repeat_n(b'y', 8 << 20));
    let quoted = s.quote(&big);
    assert_eq!(quoted, format!("{}***{}... ({} bytes)", "x".repeat(295), "y".repeat(2), big.len()));
}

#[test]
fn a_url_s_user_and_password_are_taken_out_sent_as_basic_and_shown_masked() {
    let url = Url::parse("https://ann:p%40ss:w@api.example.com:8443/v1");
    assert_eq!(url.sent, "https://api.example.com:8443/v1");
    assert_eq!(url.shown, "https://ann:***@api.example.com:8443/v1");
    let c = url.credentials.unwrap();
    assert_eq!((c.user.as_str(), c.password.as_deref()), ("ann", Some("p@ss:w")));
    assert_eq!(c.authorization(), format!("Basic {}", base64(b"ann:p@ss:w")));
    assert!(!format!("{c:?}").contains("p@ss"), "Debug hides the password");

    // A user alone is a token: masked whole.
    let url = Url::parse("http://tok3n@h/x");
    assert_eq!((url.sent.as_str(), url.shown.as_str()), ("http://h/x", "http://***@h/x"));
    let url = Url::parse("http://ann:p'w&!@h");
    assert_eq!((url.sent.as_str(), url.shown.as_str()), ("http://h", "http://ann:***@h"));
    // An @ in the path or query is not a user-info.
    for plain in ["http://h/a@b", "http://h?mail=a@b", "http://h"] {
        assert_eq!(Url::parse(plain), Url { sent: plain.into(), shown: plain.into(), credentials: None });
    }

    // RFC 4648's test vectors, and RFC 7617's example.
    for (text, b64) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")] {
        assert_eq!(base64(text.as_bytes()), b64);
    }
    assert_eq!(base64(b"Aladdin:open sesame"), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");

    // The password and the header a server may echo are masked.
    let mut s = Secrets::default();
    s.hide_credentials(Url::parse("http://ann:pw9@h").credentials.as_ref().unwrap());
    let echoed = format!("got Authorization: Basic {} for pw9", base64(b"ann:pw9"));
    assert_eq!(s.mask(&echoed), "got Authorization: Basic *** for ***");
}

#[test]
fn any_url_s_user_info_is_masked_secret_known_or_not() {
    for (text, shown) in [
        ("GET http://ann:pw@h:1/x: HTTP 500", "GET http://ann:***@h:1/x: HTTP 500"),
        ("'https://tok@h' and ftp://u:p@q", "'https://***@h' and ftp://u:***@q"),
        // A user alone is a token in an http(s) URL, the database's user in another.
        ("postgres://ann@h/db and postgres://ann:pw@h/db", "postgres://ann@h/db and postgres://ann:***@h/db"),
        // A password may hold a ' as it is (RFC 3986's sub-delims).
        ("invalid value 'http://ann:p'w!@h' for", "invalid value 'http://ann:***@h' for"),
        // A password with a / or ? that is not percent-encoded: masked whole.
        ("'http://ann:p/w?x@h' is not a URL", "'http://ann:***@h' is not a URL"),
        ("http://h/a nothing@here", "http://h/a nothing@here"),
        ("http://ann:***@h", "http://ann:***@h"),
    ] {
        assert_eq!(mask_userinfo(text), shown, "{text}");
    }
}

/// The spellings as real encoders write them, of any text.
fn spellings(secret: &str) -> Vec<String> {
    let json = serde_json::to_string(secret).unwrap();
    let ascii: String = json[1..json.len() - 1]
        .encode_utf16()
        .map(|u| if u < 0x80 { char::from(u as u8).to_string() } else { format!("\\u{u:04x}") })
        .collect();
    let html: String = secret
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("&#{};", c as u32) })
        .collect();
    vec![
        secret.to_string(),
        utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string(),
        // Lower-case hex digits, the letters of the text as they were.
        utf8_percent_encode(secret, NON_ALPHANUMERIC)
            .map(|piece| if piece.starts_with('%') { piece.to_lowercase() } else { piece.to_string() })
            .collect(),
        json[1..json.len() - 1].to_string(),
        ascii,
        format!("{secret:?}")[1..].strip_suffix('"').unwrap_or_default().to_string(),
        html,
    ]
}

proptest! {
    #[test]
    fn no_spelling_of_a_secret_survives_masking(
        secret in "[^*]{1,12}",
        before in "[a-z \"{:]{0,8}",
        after in "[a-z \"}:]{0,8}",
    ) {
        let s = secrets(&[&secret]);
        for form in spellings(&secret) {
            let masked = s.mask(&format!("{before}{form}{after}"));
            prop_assert!(masked.contains(MASK), "{form:?} in {masked:?}");
            prop_assert!(!masked.contains(&form), "{form:?} in {masked:?}");
        }
    }
}

#[test]
fn a_panic_s_message_is_masked_with_every_secret_the_process_read() {
    let mut s = Secrets::default();
    s.hide_credentials(&Credentials::new("u", Some("panic-pw-7c1")));
    assert_eq!(
        mask_read("called `Result::unwrap()` on GET http://u:panic-pw-7c1@h/x?k=panic%2Dpw%2D7c1"),
        "called `Result::unwrap()` on GET http://u:***@h/x?k=***"
    );
}
