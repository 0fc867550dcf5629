//! Faults the built-in server can inject into price answers, so tests can
//! show what pricequeue does with each one a real price API sends.

use std::time::Duration;

/// One way to answer a price request badly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `500`, `502` or `504`, taken in turn.
    ServerError,
    /// `429 Too Many Requests`, with `Retry-After` if the options set one.
    RateLimited,
    /// `503 Service Unavailable`, with `Retry-After` like `RateLimited`.
    Unavailable,
    /// Say nothing for the stall time, then close without answering.
    Stall,
    /// Reset the connection (RST) without answering.
    Reset,
    /// `200` with a body that is not valid JSON.
    Malformed,
    /// `200` announcing a whole body, then closing halfway through it.
    Truncated,
    /// `200` announcing a body far larger than any price (64 MiB) and
    /// streaming it until the client hangs up.
    Oversized,
    /// A stand-in's candle answer that stops early: the first half of the
    /// rows it should hold, as a cap lower than documented would.
    ShortPage,
    /// A stand-in's candle answer with every time 8 hours late, off the
    /// UTC day (as OKX's `1D` bars, which are Hong Kong days); below a
    /// day, 8 hours where that is off the interval's edges (6h, 12h),
    /// else half an interval.
    OffUtc,
    /// A stand-in's candle answer with one day twice, the second with
    /// another close.
    Duplicate,
    /// An IP ban: Binance's `418` with `Retry-After`; the other stand-ins
    /// answer `429`.
    Ban,
    /// A rate limit said in a `200` body, where the source does that
    /// (Kraken, Bitfinex, CryptoCompare, Alpha Vantage); `429` elsewhere.
    BodyLimit,
    /// A stand-in's "busy" in its source's form: OKX's code `50013` in
    /// a `200` body, Kraken's `EGeneral:Internal error` in a `200` body,
    /// Binance's `-1008` and Bitfinex's `temporarily_unavailable` with
    /// `503`; a `503` without `Retry-After` elsewhere.
    Busy,
    /// A stand-in's candle answer whose candles are not closed, past days
    /// too: OKX's `confirm` `"0"` on every row; Kraken's answer stopping
    /// ten candles ago (ten days at `1d`), its last row (by Kraken's
    /// documentation the current candle) that one. Elsewhere a normal answer.
    Unclosed,
    // Range answers that prove less than they seem to (`Fault::RANGE`).
    /// A stand-in's candle answer that ignores the range asked: its latest
    /// 300 candles at the interval asked, up to the current one.
    IgnoreRange,
    /// A stand-in's candle answer cut at its start: the newest half of the
    /// rows it should hold (never none).
    CutStart,
    /// A stand-in's candle answer cut at its end: the oldest half (never none).
    CutEnd,
    /// A stand-in's candle answer with its times in the other unit: seconds
    /// where the source writes milliseconds, milliseconds where seconds.
    WrongUnit,
    /// A stand-in's candle answer with every time 8 hours early, each day's
    /// row at 16:00 UTC the day before (a Hong Kong day, as OKX's `1D` bars);
    /// below a day, early by as much as `OffUtc` is late.
    OffUtcEarly,
}

impl Fault {
    /// Every fault, in a fixed order.
    pub const ALL: [Fault; 8] = [
        Fault::ServerError,
        Fault::RateLimited,
        Fault::Unavailable,
        Fault::Stall,
        Fault::Reset,
        Fault::Malformed,
        Fault::Truncated,
        Fault::Oversized,
    ];

    /// The faults of the stand-ins' candle answers, each in the
    /// source's own form; on the reference API's paths, `ban`,
    /// `body-limit` and `busy` answer 418, 429 and 503, the others 500.
    pub const STAND_IN: [Fault; 7] =
        [Fault::ShortPage, Fault::OffUtc, Fault::Duplicate, Fault::Ban, Fault::BodyLimit, Fault::Busy, Fault::Unclosed];

    /// The stand-ins' faults of range answers, each in the source's own
    /// form; on the reference API's paths a `500`. (A stand-in without
    /// times, only days, sends `wrong-unit` and `off-utc-early` as normal
    /// answers.)
    pub const RANGE: [Fault; 5] =
        [Fault::IgnoreRange, Fault::CutStart, Fault::CutEnd, Fault::WrongUnit, Fault::OffUtcEarly];

    /// A short name, as the request log and `--fault` use it.
    pub fn name(self) -> &'static str {
        match self {
            Fault::ServerError => "error",
            Fault::RateLimited => "429",
            Fault::Unavailable => "503",
            Fault::Stall => "stall",
            Fault::Reset => "reset",
            Fault::Malformed => "malformed",
            Fault::Truncated => "truncated",
            Fault::Oversized => "oversized",
            Fault::ShortPage => "short-page",
            Fault::OffUtc => "off-utc",
            Fault::Duplicate => "duplicate",
            Fault::Ban => "ban",
            Fault::BodyLimit => "body-limit",
            Fault::Busy => "busy",
            Fault::Unclosed => "unclosed",
            Fault::IgnoreRange => "ignore-range",
            Fault::CutStart => "cut-start",
            Fault::CutEnd => "cut-end",
            Fault::WrongUnit => "wrong-unit",
            Fault::OffUtcEarly => "off-utc-early",
        }
    }
}

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Fault, String> {
        let all = || Fault::ALL.into_iter().chain(Fault::STAND_IN).chain(Fault::RANGE);
        all().find(|f| f.name() == s).ok_or_else(|| {
            let names: Vec<&str> = all().map(|f| f.name()).collect();
            format!("unknown fault '{s}'; one of: {}", names.join(", "))
        })
    }
}

/// When a fault strikes: for the first `first` requests of every price
/// path, and then at random for a `rate` share of all price requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FaultRule {
    pub fault: Fault,
    /// The share of price requests (0 to 1) that get this fault at random.
    pub rate: f64,
    /// The first this many requests of each price path get this fault.
    pub first: u32,
    /// Only price paths containing this (a test's way to aim a fault).
    pub only: Option<&'static str>,
}

impl FaultRule {
    /// A fault for a random share of requests.
    pub fn rate(fault: Fault, rate: f64) -> FaultRule {
        FaultRule { fault, rate, first: 0, only: None }
    }

    /// A fault for the first `n` requests of every price path.
    pub fn first(fault: Fault, n: u32) -> FaultRule {
        FaultRule { fault, rate: 0.0, first: n, only: None }
    }

    /// The same rule, for price paths containing `part` only.
    pub fn only(self, part: &'static str) -> FaultRule {
        FaultRule { only: Some(part), ..self }
    }
}

/// Parses `--fault NAME=RATE` (like `error=0.05`) or `NAME=first:N`.
pub fn parse_rule(s: &str) -> Result<FaultRule, String> {
    let (name, how) =
        s.split_once('=').ok_or_else(|| format!("'{s}': write NAME=RATE like error=0.05, or NAME=first:N"))?;
    let fault: Fault = name.trim().parse()?;
    if let Some(n) = how.trim().strip_prefix("first:") {
        let n = n.parse().map_err(|_| format!("'{s}': first:N takes a whole number"))?;
        return Ok(FaultRule::first(fault, n));
    }
    let rate: f64 = how.trim().parse().map_err(|_| format!("'{s}': the rate is a number from 0 to 1"))?;
    if !(0.0..=1.0).contains(&rate) {
        return Err(format!("'{s}': the rate is a number from 0 to 1"));
    }
    Ok(FaultRule::rate(fault, rate))
}

/// How `Retry-After` is written on 429 and 503 answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryAfter {
    /// No header: the client must back off on its own.
    #[default]
    None,
    /// Whole seconds.
    Seconds(u64),
    /// An HTTP date this many seconds ahead.
    Date(u64),
    /// This text, as it is: for trying what a client makes of a malformed,
    /// negative, fractional or absurd value.
    Raw(&'static str),
}

/// Picks the fault, if any, for the `nth` request (counting from 1) of the
/// price path `path`; `roll` is a uniform draw in [0, 1).
pub fn choose(rules: &[FaultRule], path: &str, nth: u64, roll: f64) -> Option<Fault> {
    let aimed = |r: &&FaultRule| r.only.is_none_or(|part| path.contains(part));
    if let Some(r) = rules.iter().filter(aimed).find(|r| nth <= u64::from(r.first)) {
        return Some(r.fault);
    }
    let mut edge = 0.0;
    for r in rules.iter().filter(aimed) {
        edge += r.rate;
        if roll < edge {
            return Some(r.fault);
        }
    }
    None
}

/// Default time a stalled answer waits before the server gives up on it.
pub const DEFAULT_STALL: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_choose() {
        let rules =
            [parse_rule("reset=first:2").unwrap(), parse_rule("error=0.25").unwrap(), parse_rule("429=0.25").unwrap()];
        let p = "/price/kraken/btc/2020-03-01";
        assert_eq!(choose(&rules, p, 1, 0.99), Some(Fault::Reset));
        assert_eq!(choose(&rules, p, 2, 0.99), Some(Fault::Reset));
        assert_eq!(choose(&rules, p, 3, 0.1), Some(Fault::ServerError));
        assert_eq!(choose(&rules, p, 3, 0.3), Some(Fault::RateLimited));
        assert_eq!(choose(&rules, p, 3, 0.6), None);
        let aimed = [FaultRule::first(Fault::Stall, 1).only("/2020-03-05")];
        assert_eq!(choose(&aimed, p, 1, 0.0), None);
        assert_eq!(choose(&aimed, "/price/kraken/btc/2020-03-05", 1, 0.0), Some(Fault::Stall));
        assert!(parse_rule("teapot=0.1").unwrap_err().contains("one of: error, 429"));
        for f in Fault::RANGE {
            assert_eq!(parse_rule(&format!("{}=first:1", f.name())), Ok(FaultRule::first(f, 1)));
        }
        assert!(parse_rule("error=2").is_err());
        assert!(parse_rule("error").is_err());
    }
}
