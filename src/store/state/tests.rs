//! The rules' own tests: each rule pinned down, and the drawing in the
//! docs checked against them.

use super::*;
use crate::price::Price;
use crate::store::Outcome;

#[test]
fn each_state_is_named_once_and_read_back() {
    for state in TaskState::ALL {
        assert_eq!(TaskState::from_name(state.name()), Some(state));
    }
    assert_eq!(TaskState::from_name("pending"), None);
    let words: Vec<&str> = TaskState::ALL.iter().map(|s| s.words()).collect();
    assert_eq!(
        words,
        [
            "queued",
            "not yet due",
            "in progress",
            "done",
            "no data",
            "outside the source's history",
            "cooling down",
            "failed",
            "abandoned"
        ]
    );
    assert_eq!(sql::FINISHED, "('done', 'no_data', 'outside_history', 'cooling', 'failed', 'abandoned')");
}

#[test]
fn each_outcome_moves_its_task_as_the_rules_say() {
    let price = Price { open: 1.0, high: 2.0, low: 0.5, close: 1.5, volume: 3.0 };
    let cases = [
        (Outcome::Price(price), Done, true, Due::Keep),
        (Outcome::NoData, NoData, true, Due::Keep),
        (Outcome::OutsideHistory, OutsideHistory, true, Due::Keep),
        (Outcome::Failed { error: "404".into() }, Failed, true, Due::Keep),
        (Outcome::Cooling { error: "502".into(), at: 9 }, Cooling, true, Due::At(9)),
        (Outcome::NotYet { note: None, at: 7, asked: false }, NotYetDue, false, Due::At(7)),
        (Outcome::NotYet { note: Some("null".into()), at: 7, asked: true }, NotYetDue, true, Due::At(7)),
        (Outcome::Retry { error: "502".into(), at: 9 }, Queued, true, Due::At(9)),
        (Outcome::Defer { error: "429".into(), at: 9 }, Queued, false, Due::At(9)),
        (Outcome::Released, Queued, false, Due::AtOnce),
    ];
    for (outcome, to, attempt, due) in &cases {
        let t = Transition::of(outcome);
        assert_eq!((t.to, t.attempt, t.due), (*to, *attempt, *due), "{outcome:?}");
        assert!(TaskState::EDGES.contains(&(Some(InProgress), *to, edge_label(outcome))), "{outcome:?} is drawn");
    }
    assert_eq!(Transition::of(&cases[0].0).price, PriceChange::Store(&price));
    assert_eq!(Transition::of(&Outcome::NoData).price, PriceChange::Delete);
    assert_eq!(Transition::of(&Outcome::OutsideHistory).price, PriceChange::Keep, "a price had stays");
    assert_eq!(Transition::of(&Outcome::Released).price, PriceChange::Keep);
}

fn edge_label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Price(_) | Outcome::Candles(_) => "a price",
        Outcome::NoData => "no price for the day",
        Outcome::OutsideHistory | Outcome::PartlyOutside(_) => "older than the source serves",
        Outcome::Failed { .. } => "a permanent error, or the last round's last attempt",
        Outcome::Cooling { .. } => "a transient error's last attempt, rounds left",
        Outcome::NotYet { .. } => "not published yet",
        _ => "a transient error, a rate limit, or released",
    }
}

#[test]
fn a_finished_task_takes_its_outcome_s_error_and_a_waiting_one_keeps_the_last() {
    let price = Price { open: 1.0, high: 1.0, low: 1.0, close: 1.0, volume: 1.0 };
    let before = Some("HTTP 502");
    // (outcome, the error after, finished)
    let cases = [
        (Outcome::Price(price), None, true),
        (Outcome::NoData, None, true),
        (Outcome::OutsideHistory, None, true),
        (Outcome::Failed { error: "HTTP 404".into() }, Some("HTTP 404"), true),
        (Outcome::Cooling { error: "HTTP 503".into(), at: 1 }, Some("HTTP 503"), true),
        (Outcome::NotYet { note: None, at: 1, asked: false }, before, false),
        (Outcome::NotYet { note: Some("null".into()), at: 1, asked: true }, Some("null"), false),
        (Outcome::Retry { error: "HTTP 503".into(), at: 1 }, Some("HTTP 503"), false),
        (Outcome::Defer { error: "HTTP 429".into(), at: 1 }, Some("HTTP 429"), false),
        (Outcome::Released, before, false),
    ];
    for (outcome, after, finished) in &cases {
        let t = Transition::of(outcome);
        assert_eq!(t.error_after(before).as_deref(), *after, "{outcome:?}");
        assert_eq!(t.finishes(), *finished, "{outcome:?}");
    }
}

#[test]
fn a_failure_is_permanent_or_transient_and_only_a_transient_one_starts_a_round() {
    let kinds: Vec<_> = [
        Outcome::Failed { error: "404".into() },
        Outcome::Cooling { error: "502".into(), at: 1 },
        Outcome::Retry { error: "502".into(), at: 1 },
    ]
    .iter()
    .map(|o| (Transition::of(o).failure(), Transition::of(o).next_round))
    .collect();
    assert_eq!(kinds, [(Some("permanent"), false), (Some("transient"), true), (None, false)]);
}

#[test]
fn a_transient_failure_cools_down_longer_each_round_then_needs_a_person() {
    let hours: Vec<u64> = (0..8).map(|r| cool_down(r).as_secs() / 3600).collect();
    assert_eq!(hours, [1, 2, 4, 8, 16, 24, 24, 24]);
    let now = 1_000;
    for rounds in 0..ROUNDS - 1 {
        let at = now + crate::clock::ms(cool_down(rounds));
        assert_eq!(
            crate::store::RetryPolicy::round_over("HTTP 502".into(), rounds, now),
            Outcome::Cooling { error: "HTTP 502".into(), at }
        );
    }
    let Outcome::Failed { error } = crate::store::RetryPolicy::round_over("HTTP 502".into(), ROUNDS - 1, now) else {
        panic!("the last round")
    };
    assert!(error.starts_with("HTTP 502; failing for at least 2days 7h over 7 rounds"), "{error}");
    // What happened, not what to do: the advice is the reports' (status).
    assert!(!error.contains("pricequeue retry"), "{error}");
    // The promotion of a cooled task is drawn, and the SQL says what it does.
    assert!(TaskState::EDGES.contains(&(Some(Cooling), Queued, "its cool-down ends")));
    assert_eq!(sql::COOLING, "'cooling'");
    assert_eq!(sql::COOLED, "state = 'queued', attempts = 0, finished_at = NULL");
}

#[test]
fn retry_and_refresh_take_what_the_commands_promise() {
    // A task cooling down is a failure too: retry and retry --never take it.
    assert_eq!(Move::retry(false).from, &[Failed, Cooling]);
    assert_eq!(Move::retry(true).from, &[Failed, Cooling, Abandoned]);
    assert_eq!(Move::ABANDON.from, &[Failed, Cooling]);
    assert!(Move::REFRESH.from.iter().all(|s| s.is_finished() && *s != Abandoned));
    const { assert!(!Move::ABANDON.afresh, "abandoned tasks keep their attempts") };
    for m in [Move::retry(true), Move::ABANDON, Move::REFRESH] {
        for from in m.from {
            assert!(
                TaskState::EDGES.iter().any(|(a, b, _)| *a == Some(*from) && *b == m.to),
                "{from} -> {} drawn",
                m.to
            );
        }
    }
}

#[test]
fn a_day_starts_queued_once_it_has_ended_and_its_grace_has_passed() {
    let day = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    let end = crate::clock::due_at(day, Duration::ZERO);
    let hour = Duration::from_secs(3600);
    assert_eq!(start(day, Interval::D1, end, Duration::ZERO), (Queued, Due::AtOnce));
    assert_eq!(start(day, Interval::D1, end - 1, Duration::ZERO), (NotYetDue, Due::At(end)));
    assert_eq!(start(day, Interval::D1, end, hour), (NotYetDue, Due::At(end + 3_600_000)));
    assert!(TaskState::EDGES.contains(&(None, Queued, "enqueued, its day due")));
    assert!(TaskState::EDGES.contains(&(None, NotYetDue, "enqueued, its day not ended")));
}

#[test]
fn a_day_below_1d_starts_queued_once_its_first_candle_has_closed() {
    let day = NaiveDate::from_ymd_opt(2020, 3, 1).unwrap();
    let midnight = crate::clock::day_end(day.pred_opt().unwrap());
    let minute = Duration::from_secs(60);
    assert_eq!(start(day, Interval::H1, midnight + 3_600_000, Duration::ZERO), (Queued, Due::AtOnce));
    assert_eq!(start(day, Interval::H1, midnight, Duration::ZERO), (NotYetDue, Due::At(midnight + 3_600_000)));
    assert_eq!(start(day, Interval::M1, midnight, minute), (NotYetDue, Due::At(midnight + 120_000)));
    // A day long over starts queued at any interval.
    assert_eq!(start(day, Interval::M1, midnight + 86_400_000 * 2, minute), (Queued, Due::AtOnce));
}

#[test]
fn the_queue_wakes_for_the_first_due_task_or_the_first_lease_to_end() {
    assert_eq!(next_wakeup(Some(5), Some(3)), Some(3));
    assert_eq!(next_wakeup(Some(5), None), Some(5));
    assert_eq!(next_wakeup(None, Some(3)), Some(3));
    assert_eq!(next_wakeup(None, None), None);
}

#[test]
fn the_drawing_in_the_docs_is_the_rules_drawing() {
    let doc = include_str!("../../../docs/state-machine.md");
    let drawn: String = doc
        .lines()
        .skip_while(|l| *l != "```mermaid")
        .skip(1)
        .take_while(|l| *l != "```")
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        drawn,
        TaskState::mermaid(),
        "docs/state-machine.md's diagram; the rules draw it so:\n{}",
        TaskState::mermaid()
    );
    for state in TaskState::ALL {
        assert!(doc.contains(&format!("| `{state}` |")), "docs/state-machine.md does not explain {state}");
    }
}
