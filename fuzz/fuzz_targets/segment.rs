//! `source::segment`: exchange and symbol names as URL path segments.
//!
//! Oracle, for names a and b taken from the input:
//! - never panics;
//! - the segment is ASCII, non-empty for a non-empty name, never "." or
//!   "..", and holds no `/`, `?`, `#`, and no `%` but as the start of a
//!   valid %XX escape;
//! - percent-decoding it (`percent_decode_str(..).decode_utf8()`) gives
//!   back exactly the name;
//! - `http::Uri` (what ureq sends) parses
//!   `http://127.0.0.1:9/price/{segment(a)}/{segment(b)}/2020-03-12`, and
//!   its path is exactly that path and splits on '/' into
//!   ["", "price", segment(a), segment(b), "2020-03-12"].
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;
use pricequeue::source::segment;

#[derive(Arbitrary, Debug)]
enum Name {
    Text(String),
    /// Made of the characters that matter most here.
    Picked(Vec<u8>),
}

fn name(n: Name) -> String {
    match n {
        Name::Text(s) => s,
        Name::Picked(b) => {
            const SET: &[&str] = &[
                ".", "..", "/", "%", "%2F", "%2E", "?", "#", " ", "~", "-", "_", "a", "Z", "0", "é", "\u{0}", "+", ";",
                "\\", "@", ":", "[", "]",
            ];
            b.iter().map(|i| SET[*i as usize % SET.len()]).collect()
        }
    }
}

fn check_segment(name: &str) -> String {
    let seg = segment(name);
    assert!(seg.is_ascii(), "segment({name:?}) = {seg:?} is not ASCII");
    assert_eq!(seg.is_empty(), name.is_empty(), "segment({name:?}) = {seg:?}");
    assert!(seg != "." && seg != "..", "segment({name:?}) = {seg:?} is a dot segment");
    let b = seg.as_bytes();
    for (i, c) in b.iter().enumerate() {
        assert!(!matches!(c, b'/' | b'?' | b'#'), "segment({name:?}) = {seg:?} holds {:?}", *c as char);
        if *c == b'%' {
            let ok = i + 2 < b.len() && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            assert!(ok, "segment({name:?}) = {seg:?} has a '%' that starts no %XX escape at {i}");
        }
    }
    let back = percent_decode_str(&seg).decode_utf8();
    assert_eq!(back.as_deref(), Ok(name), "segment({name:?}) = {seg:?} does not decode back");
    seg
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let (Ok(a), Ok(b)) = (Name::arbitrary(&mut u), Name::arbitrary_take_rest(u)) else { return };
    let (a, b) = (name(a), name(b));
    let (sa, sb) = (check_segment(&a), check_segment(&b));
    let path = format!("/price/{sa}/{sb}/2020-03-12");
    let url = format!("http://127.0.0.1:9{path}");
    if url.len() >= usize::from(u16::MAX) - 1 {
        return; // http::Uri's own length limit (the client sends at most 3000 bytes)
    }
    let uri: http::Uri = match url.parse() {
        Ok(u) => u,
        Err(e) => panic!("{url:?} (names {a:?}, {b:?}) is not a URI: {e}"),
    };
    assert_eq!(uri.path(), path, "names {a:?}, {b:?}");
    assert_eq!(uri.query(), None, "names {a:?}, {b:?}");
    let parts: Vec<&str> = uri.path().split('/').collect();
    assert_eq!(parts, ["", "price", sa.as_str(), sb.as_str(), "2020-03-12"], "names {a:?}, {b:?}");
});
