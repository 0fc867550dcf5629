//! Secrets: the values of a source's `{env:NAME}` variables, and the
//! password of a URL's `user:password@` (`--server`, a declared `server`).
//! They are sent and never stored or shown: every text that leaves a
//! source (an error, a `-v` line, a request as pages show it) is masked.
//!
//! A server may echo what it was sent in another spelling: masking finds
//! a secret in each (`spelling`), and a URL's user and password inside the
//! base64 of the Basic `Authorization` header they are sent as (servers
//! that echo the request's headers, as httpbin does). Any text's
//! `user:password@` after a `scheme://` is masked too, secret known or not.

use std::collections::BTreeMap;
use std::sync::Mutex;

use percent_encoding::percent_decode_str;

use super::spelling::{mask_one, MASK};

/// Every secret this process read from its environment or a URL: a
/// panic's message is masked with them, since the panic hook cannot be
/// handed the sources (`mask_read`).
static READ: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// `text` with every secret this process has read masked, and any URL's
/// user-info: for text that reaches no source's own masking (a panic).
pub fn mask_read(text: &str) -> String {
    let read = READ.lock().unwrap_or_else(|e| e.into_inner());
    let mut text = mask_userinfo(text);
    for secret in read.iter() {
        text = mask_one(&text, secret);
    }
    text
}

fn remember(secrets: &Secrets) {
    let mut read = READ.lock().unwrap_or_else(|e| e.into_inner());
    for h in &secrets.hidden {
        if !read.contains(h) {
            read.push(h.clone());
        }
    }
    read.sort_by_key(|h| std::cmp::Reverse(h.chars().count()));
}

/// The secrets of one source, read once when it is opened: never stored,
/// never printed.
#[derive(Clone, Default)]
pub struct Secrets {
    /// `{env:NAME}` values by name, for the templates to send.
    values: BTreeMap<String, String>,
    /// Every text to mask, longest first.
    hidden: Vec<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.values.keys()).finish()
    }
}

impl Secrets {
    /// Reads `names` from the environment; `Err(name)` names the first one not set.
    pub fn from_env(names: &[String]) -> Result<Secrets, String> {
        let secrets = Secrets::from_lookup(names, |n| std::env::var(n).ok())?;
        remember(&secrets);
        Ok(secrets)
    }

    /// [`Secrets::from_env`] with another lookup, for tests.
    pub fn from_lookup(names: &[String], lookup: impl Fn(&str) -> Option<String>) -> Result<Secrets, String> {
        let mut secrets = Secrets::default();
        for name in names {
            let value = lookup(name).filter(|v| !v.is_empty()).ok_or_else(|| name.clone())?;
            secrets.hide(&value);
            secrets.values.insert(name.clone(), value);
        }
        Ok(secrets)
    }

    /// The names of the variables read.
    pub fn names(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }

    /// The value of the variable `name`, if it was read.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Masks `value` too, wherever a text holds it.
    pub fn hide(&mut self, value: &str) {
        if !value.is_empty() && !self.hidden.iter().any(|h| h == value) {
            self.hidden.push(value.to_string());
            self.hidden.sort_by_key(|h| std::cmp::Reverse(h.chars().count()));
        }
    }

    /// Masks the user-info `credentials` are sent as: the password (or a
    /// user given alone, a token), and their Basic `Authorization` value.
    pub fn hide_credentials(&mut self, credentials: &Credentials) {
        match &credentials.password {
            Some(p) => self.hide(p),
            None => self.hide(&credentials.user),
        }
        self.hide(&credentials.basic);
        remember(self);
    }

    /// `text` with every secret, however written, replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut text = mask_userinfo(text);
        for secret in &self.hidden {
            text = mask_one(&text, secret);
        }
        text
    }

    /// The first bytes of an answer, for an error message: masked whole
    /// before it is cut, so no secret is shown in part where the cut falls.
    pub fn quote(&self, body: &[u8]) -> String {
        const SHOWN: usize = 300;
        // Enough past the cut for any spelling of a secret that starts
        // before it (12 bytes at most a character, `%F0%9F%98%80`), and a
        // URL's user-info: an answer may be megabytes.
        let longest = self.hidden.first().map_or(0, |h| h.chars().count());
        let window = body.len().min(SHOWN + 2048 + 12 * longest);
        let text = self.mask(&String::from_utf8_lossy(&body[..window]));
        let mut end = text.len().min(SHOWN);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let shown: String = text[..end].chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        if end < text.len() || window < body.len() {
            format!("{shown}... ({} bytes)", body.len())
        } else {
            shown
        }
    }
}

/// A URL's `user:password@`, percent-decoded, sent as HTTP Basic
/// authentication (RFC 7617).
#[derive(Clone, PartialEq)]
pub struct Credentials {
    pub user: String,
    pub password: Option<String>,
    basic: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let userinfo = if self.password.is_some() { format!("{}:", self.user) } else { String::new() };
        write!(f, "Credentials({})", shown_userinfo(&userinfo, true))
    }
}

impl Credentials {
    /// `user` and `password` as given (not percent-encoded).
    pub fn new(user: &str, password: Option<&str>) -> Credentials {
        let basic = base64(format!("{user}:{}", password.unwrap_or("")).as_bytes());
        Credentials { user: user.to_string(), password: password.map(str::to_string), basic }
    }

    /// The `Authorization` header's value.
    pub fn authorization(&self) -> String {
        format!("Basic {}", self.basic)
    }
}

/// A URL taken apart: what is sent, what is shown, and its user-info.
#[derive(Debug, Clone, PartialEq)]
pub struct Url {
    /// The URL without its user-info: the user-info goes in a header, so
    /// no client, log or error message can repeat it from the URL.
    pub sent: String,
    /// The URL with its password `***` (`http://ann:***@host`), or its
    /// user too when it is given alone, which makes it a token (`http://***@host`).
    pub shown: String,
    pub credentials: Option<Credentials>,
}

impl Url {
    /// Takes `url`'s user-info out, if it has one (RFC 3986: between
    /// `://` and the last `@` before the path, query or fragment).
    pub fn parse(url: &str) -> Url {
        let Some((start, at)) = userinfo_span(url, 0, "/?#") else {
            return Url { sent: url.to_string(), shown: url.to_string(), credentials: None };
        };
        let userinfo = &url[start..at];
        let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
        let (user, password) = match userinfo.split_once(':') {
            Some((u, p)) => (decode(u), Some(decode(p))),
            None => (decode(userinfo), None),
        };
        Url {
            sent: format!("{}{}", &url[..start], &url[at + 1..]),
            shown: format!("{}{}{}", &url[..start], shown_userinfo(userinfo, true), &url[at..]),
            credentials: Some(Credentials::new(&user, password.as_deref())),
        }
    }
}

/// The user-info of `url` as written, if it has one.
pub fn userinfo(url: &str) -> Option<&str> {
    userinfo_span(url, 0, "/?#").map(|(start, at)| &url[start..at])
}

/// The user-info of the URLs advice writes (`--server
/// https://USER:PASSWORD@host`): not a secret, so never masked.
pub const EXAMPLE_USERINFO: &str = "USER:PASSWORD";

/// A user-info as shown: the user and `***` for the password; in an
/// http(s) URL, `***` for a user alone, which is a token there (in a
/// `postgres://` URL it is the database's user, and stays).
fn shown_userinfo(userinfo: &str, http: bool) -> String {
    if userinfo == EXAMPLE_USERINFO {
        return userinfo.to_string();
    }
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:{MASK}"),
        None if http => MASK.to_string(),
        None => userinfo.to_string(),
    }
}

/// Whether the URL whose `://` ends at `start` in `text` is http or https.
fn is_http(text: &str, start: usize) -> bool {
    let scheme = text[..start - 3].rsplit(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
    scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
}

/// Where the user-info of the first URL in `text` at or after `from`
/// lies: its start, and the `@` after it. The authority ends at white
/// space, at what never stands in a URL (`"<>` and a backquote), or at one
/// of `ends`. Not at a `'`, which a password may hold as it is.
fn userinfo_span(text: &str, from: usize, ends: &str) -> Option<(usize, usize)> {
    let mut from = from;
    loop {
        let start = from + text.get(from..)?.find("://")? + 3;
        let rest = &text[start..];
        let stop = |c: char| ends.contains(c) || "\"<>`".contains(c) || c.is_whitespace();
        let end = start + rest.find(stop).unwrap_or(rest.len());
        if let Some(at) = text[start..end].rfind('@') {
            return Some((start, start + at));
        }
        from = end;
    }
}

/// `text` with the user-info of every URL in it masked as [`Url`] shows
/// it: what a message says of a URL whose secrets nobody told us. A path
/// does not end the user-info here: a password with a `/` or `?` not
/// percent-encoded (a mistyped URL, echoed by an error) is masked whole,
/// at the price of masking a path's `@` and what comes before it.
pub fn mask_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some((start, at)) = userinfo_span(text, from, "") {
        out.push_str(&text[from..start]);
        out.push_str(&shown_userinfo(&text[start..at], is_http(text, start)));
        from = at;
    }
    out.push_str(&text[from..]);
    out
}

/// Standard base64 with padding (RFC 4648), as Basic authentication writes it.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
