//! How a server may spell a secret back: as is; percent-encoded by any
//! encoder (either case of hex, `+` for a space: a URL echoed back);
//! JSON-escaped (`\"`, `\/`, `\u0022`, surrogate pairs: an error object
//! quoting the request); Rust-escaped (`\u{22}`: a `{:?}`); HTML-escaped
//! (`&quot;`, `&#34;`, `&#x22;`: an error page quoting the URL); or any mix
//! of these, a character at a time. Masking reads each character of a text
//! every way it may be read, so it needs no list of encoders.

/// What a masked secret reads as.
pub const MASK: &str = "***";

/// `text` with every spelling of `secret` replaced by `***`.
pub(super) fn mask_one(text: &str, secret: &str) -> String {
    let secret: Vec<char> = secret.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(c) = text[i..].chars().next() {
        // Only the character itself or an escape's first can begin a spelling.
        let may_begin = secret.first() == Some(&c) || matches!(c, '+' | '%' | '\\' | '&');
        match may_begin.then(|| spelled_at(text, i, &secret)).flatten() {
            Some(end) => {
                out.push_str(MASK);
                i = end;
            }
            None => {
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

/// The end of the longest spelling of `secret` that starts at `at`, if any.
/// Every character may be written several ways, so the positions reached
/// so far are a set (a handful at most), walked one character at a time.
fn spelled_at(text: &str, at: usize, secret: &[char]) -> Option<usize> {
    let mut reached = vec![at];
    for &c in secret {
        let mut next = Vec::new();
        for &p in &reached {
            for (decoded, len) in readings(&text[p..]) {
                if decoded == c && !next.contains(&(p + len)) {
                    next.push(p + len);
                }
            }
        }
        if next.is_empty() {
            return None;
        }
        reached = next;
    }
    reached.into_iter().max()
}

/// Every character the start of `s` may be the spelling of, with the
/// spelling's length in bytes.
fn readings(s: &str) -> Vec<(char, usize)> {
    let mut found = Vec::new();
    let Some(first) = s.chars().next() else { return found };
    found.push((first, first.len_utf8()));
    match first {
        '+' => found.push((' ', 1)),
        '%' => found.extend(percent(s)),
        '\\' => found.extend(backslash(s)),
        '&' => found.extend(entity(s)),
        _ => {}
    }
    found
}

/// `%XX` bytes (one to four) that make one UTF-8 character.
fn percent(s: &str) -> Option<(char, usize)> {
    let mut bytes = Vec::new();
    for n in 0..4 {
        let hex = s.get(n * 3..n * 3 + 3).filter(|h| h.starts_with('%'))?;
        bytes.push(u8::from_str_radix(&hex[1..], 16).ok()?);
        if let Ok(text) = std::str::from_utf8(&bytes) {
            return text.chars().next().map(|c| (c, bytes.len() * 3));
        }
    }
    None
}

/// A JSON or Rust escape: `\"`, `\n`, `\u0022`, a surrogate pair, `\u{22}`.
fn backslash(s: &str) -> Option<(char, usize)> {
    let short = match s.as_bytes().get(1)? {
        b'"' => Some('"'),
        b'\\' => Some('\\'),
        b'/' => Some('/'),
        b'\'' => Some('\''),
        b'n' => Some('\n'),
        b'r' => Some('\r'),
        b't' => Some('\t'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'0' => Some('\0'),
        _ => None,
    };
    if let Some(c) = short {
        return Some((c, 2));
    }
    let rest = s.strip_prefix("\\u")?;
    if let Some(braced) = rest.strip_prefix('{') {
        let close = braced.find('}')?;
        let c = char::from_u32(u32::from_str_radix(braced.get(..close)?, 16).ok()?)?;
        return Some((c, 4 + close));
    }
    let unit = |h: Option<&str>| h.filter(|h| h.len() == 4).and_then(|h| u16::from_str_radix(h, 16).ok());
    let high = unit(rest.get(..4))?;
    if let Some(c) = char::from_u32(u32::from(high)) {
        return Some((c, 6));
    }
    let low = unit(rest.get(4..6).filter(|p| *p == "\\u").and(rest.get(6..10)))?;
    char::decode_utf16([high, low]).next()?.ok().map(|c| (c, 12))
}

/// An HTML character reference: `&quot;`, `&#34;`, `&#x22;`.
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s.find(';').filter(|e| *e <= 10)?;
    let name = &s[1..end];
    let c = match name {
        "quot" => '"',
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}
