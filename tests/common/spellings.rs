//! A secret's spellings, and a search of a text for them: how a test
//! shows that a password or key appears nowhere.

/// `secret` as a server or a program may write it: as is, percent-encoded
/// (either case of hex, `+` for a space), JSON-escaped (with `\/` and
/// `\uXXXX`), as Rust's `{:?}`, and HTML-escaped (every character as a
/// number, or only `&<>"'` by name).
pub fn spellings(secret: &str) -> Vec<String> {
    let percent = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
    let lower: String = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC)
        .map(|p| if p.starts_with('%') { p.to_lowercase() } else { p.to_string() })
        .collect();
    let json = serde_json::to_string(secret).unwrap();
    let json = &json[1..json.len() - 1];
    let ascii: String = json
        .encode_utf16()
        .map(|u| if u < 0x80 { char::from(u as u8).to_string() } else { format!("\\u{u:04x}") })
        .collect();
    let html: String = secret
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("&#{};", c as u32) })
        .collect();
    // As maud and most templates escape text: & < > " ' only.
    let entities = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let debug = format!("{secret:?}");
    vec![
        secret.to_string(),
        percent.clone(),
        lower,
        percent.replace("%20", "+"),
        json.to_string(),
        json.replace('/', "\\/"),
        ascii,
        debug[1..debug.len() - 1].to_string(),
        html,
        entities,
    ]
}

/// Asserts that `text` (what `place` shows or holds) has no spelling of `secret`.
#[track_caller]
pub fn hidden(place: &str, text: &str, secret: &str) {
    for form in spellings(secret) {
        assert!(!text.contains(&form), "{place} shows the secret as {form:?}:\n{text}");
    }
}
