//! Templates rendered at a day and below one, secrets kept out of sight.
use chrono::NaiveDate;

use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn render(t: &str, secrets: &Secrets) -> Rendered {
    render_at(t, secrets, Interval::D1, "1d", Interval::D1.first_slot(day("2020-01-01")), 3)
}

/// `t` rendered for `count` candles at `interval` from the slot `first`.
fn render_at(t: &str, secrets: &Secrets, interval: Interval, spelled: &str, first: i64, count: i64) -> Rendered {
    let server = Rendered { real: "http://h:1".into(), shown: "http://h:1".into() };
    let v = Values {
        server: &server,
        symbol: "BTC/USD",
        exchange: "x",
        interval,
        spelled,
        first,
        last: first + count - 1,
        rows: None,
        secrets,
    };
    Template::parse(t).unwrap().render(&v, Into::Url).unwrap()
}

#[test]
fn days_are_written_in_each_form() {
    let s = Secrets::default();
    let r = render("{server}/p/{symbol}?a={first}&b={first:unix}&c={last:ms}&d={last_end:ms}&e={days}&f={days-1}", &s);
    assert_eq!(r.real, "http://h:1/p/BTC%2FUSD?a=2020-01-01&b=1577836800&c=1578009600000&d=1578096000000&e=3&f=2");
    let r = render("{first:iso}|{first:dmy}|{last:ymd}|{first-1:unix}|{last+1:date}|{first:%Y.%m}|{{x}}", &s);
    assert_eq!(r.real, "2020-01-01T00%3A00%3A00Z|01-01-2020|20200103|1577750400|2020-01-04|2020.01|{x}");
}

#[test]
fn below_a_day_each_placeholder_is_a_candle() {
    let s = Secrets::default();
    // Three hourly candles from 2020-01-01 02:00 UTC.
    let first = Interval::H1.slot_of_ms(1_577_844_000_000);
    let t = "i={interval}&a={first:ms}&b={last:ms}&c={last_end:ms}&d={first-1:unix}&e={days}&f={count}&g={count-1}&h={last_end-1s:iso}&j={first:date}";
    let r = render_at(t, &s, Interval::H1, "1H", first, 3);
    assert_eq!(
        r.real,
        "i=1H&a=1577844000000&b=1577851200000&c=1577854800000&d=1577840400&e=3&f=3&g=2&h=2020-01-01T04%3A59%3A59Z&j=2020-01-01"
    );
    // At a day, `{last_end-1s}` is the last second of the last day.
    assert_eq!(render("{last_end-1s:iso}|{count}", &s).real, "2020-01-03T23%3A59%3A59Z|3");
    assert!(Template::parse("{interval}").unwrap().has_interval());
    assert!(Template::parse("{count-1s}").unwrap_err().contains("not seconds"));
}

#[test]
fn secrets_are_sent_and_never_shown() {
    let s = Secrets::from_lookup(&["KEY".into()], |_| Some("s3cr3t/+".into())).unwrap();
    let r = render("{server}/q?apikey={env:KEY}&s={symbol}", &s);
    assert_eq!(r.real, "http://h:1/q?apikey=s3cr3t%2F%2B&s=BTC%2FUSD");
    assert_eq!(r.shown, "http://h:1/q?apikey=***&s=BTC%2FUSD");
    assert_eq!(
        s.mask("GET http://h:1/q?apikey=s3cr3t%2F%2B: failed, key s3cr3t/+"),
        "GET http://h:1/q?apikey=***: failed, key ***"
    );
    assert!(!format!("{s:?}").contains("s3cr3t"), "Debug shows names only");
    assert_eq!(Secrets::from_lookup(&["A".into(), "B".into()], |n| (n == "A").then(|| "1".into())).unwrap_err(), "B");
}

#[test]
fn bad_placeholders_say_what_to_write() {
    for (t, says) in [
        ("{server}/{sym}", "the placeholders are"),
        ("{first:epoch}", "not a day format"),
        ("{days:ms}", "takes no format"),
        ("{env:}", "name a variable"),
        ("{server", "without its '}'"),
        ("a}b", "lone '}'"),
    ] {
        let e = Template::parse(t).unwrap_err();
        assert!(e.contains(says), "{t}: {e}");
    }
}
