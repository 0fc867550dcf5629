//! The queue as a state machine, property-tested against a small model.
//!
//! Random interleavings of enqueue, claim, complete (current and stale
//! claims, in batches), lease renewal and expiry, dead-owner release,
//! promotion of not-yet-due days, retry, abandon, refresh and recount, by
//! three owners on a virtual clock, each followed by a comparison of the
//! whole database (tasks, task_counts, prices, and the store's own read
//! functions) with the model.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::NaiveDate;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::TestCaseError;
use rusqlite::types::Value;

use super::{Completion, Create, Enqueued, Outcome, StateCounts, Store, Synchronous, Task};
use crate::clock;
use crate::price::Price;

/// Cases per `cargo test` run: 64 sequences of up to 80 steps take 4-6 s
/// on 2 cores in a debug build. (At 60 steps, a NoData that kept the old
/// price of a refreshed day went unnoticed in most runs: it takes a price,
/// a refresh, a claim and a NoData on one cell.) `PROPTEST_CASES=1000`
/// runs more.
const CASES: u32 = 64;
/// Steps per case, at most: the first is always an enqueue.
const MAX_STEPS: usize = 80;

const EXCHANGES: [&str; 2] = ["kraken", "nyse"];
const SYMBOLS: [&str; 2] = ["btc", "eth"];
const OWNERS: [&str; 3] = ["a", "b", "c"];
const HOUR: i64 = 3_600_000;

/// An (exchange, symbol, day).
type Key = (&'static str, &'static str, NaiveDate);

/// Four days long past, and today and tomorrow, which are not due yet.
fn all_days() -> Vec<NaiveDate> {
    let d = |m, d| NaiveDate::from_ymd_opt(2020, m, d).unwrap();
    vec![d(3, 1), d(3, 2), d(3, 3), d(3, 4), d(6, 1), d(6, 2)]
}

/// The virtual clock's start: 2020-06-01 20:00 UTC, 4 h before today ends.
fn start() -> i64 {
    NaiveDate::from_ymd_opt(2020, 6, 1).unwrap().and_hms_opt(20, 0, 0).unwrap().and_utc().timestamp_millis()
}

// ---------------------------------------------------------------- the ops

/// How a completion ends (delays are from the virtual now).
#[derive(Debug, Clone)]
enum Kind {
    Price(u8),
    NoData,
    NotYet { note: bool, asked: bool, delay: i64 },
    Retry(i64),
    Defer(i64),
    Failed,
    Released,
}

/// Which task a completion carries.
#[derive(Debug, Clone)]
enum Pick {
    /// The n-th (mod how many) task the owner holds now.
    Held(usize, Kind),
    /// The n-th (mod how many) task ever handed out whose claim is no longer current.
    Stale(usize, Kind),
}

/// (exchange, symbol) from `from` to `to`.
#[derive(Debug, Clone)]
struct Range {
    exchange: &'static str,
    symbol: &'static str,
    from: NaiveDate,
    to: NaiveDate,
}

impl Range {
    fn cell(&self) -> (&str, &str, NaiveDate, NaiveDate) {
        (self.exchange, self.symbol, self.from, self.to)
    }

    fn holds(&self, key: &Key) -> bool {
        key.0 == self.exchange && key.1 == self.symbol && self.from <= key.2 && key.2 <= self.to
    }
}

#[derive(Debug, Clone)]
enum Op {
    Enqueue {
        exchanges: Vec<&'static str>,
        symbols: Vec<&'static str>,
        days: Vec<NaiveDate>,
        grace_hours: u8,
    },
    Claim {
        owner: &'static str,
        limit: usize,
        lease: i64,
    },
    /// One `complete` call with several completions, stale ones mixed in.
    Complete {
        owner: &'static str,
        picks: Vec<Pick>,
    },
    /// A late worker completes a task whose claim lapsed: nothing may change.
    CompleteStale {
        pick: usize,
        kind: Kind,
    },
    Renew {
        owner: &'static str,
        lease: i64,
    },
    Advance(i64),
    RecoverExpired,
    /// The owner died: its tasks go back to the queue.
    ReleaseOwner(&'static str),
    PromoteDue,
    RetryFailed {
        abandoned: bool,
        cell: Option<Range>,
    },
    Abandon(Option<Range>),
    Refresh(Range),
    Recount,
}

fn owner() -> impl Strategy<Value = &'static str> {
    select(&OWNERS[..])
}

// Times move on a coarse grid (10 s steps, hours), so that a lease ends,
// a retry comes due and a day ends exactly at the virtual now often
// enough to pin down `<` against `<=`.

fn delay() -> impl Strategy<Value = i64> {
    prop_oneof![4 => (0i64..=4).prop_map(|n| n * 10_000), 1 => select(vec![2 * HOUR, 12 * HOUR])]
}

fn lease() -> impl Strategy<Value = i64> {
    (1i64..=4).prop_map(|n| n * 10_000)
}

fn advance() -> impl Strategy<Value = i64> {
    prop_oneof![4 => (1i64..=6).prop_map(|n| n * 5_000), 1 => select(vec![2 * HOUR, 4 * HOUR, 12 * HOUR])]
}

fn day_ix() -> impl Strategy<Value = usize> {
    0usize..all_days().len()
}

/// Days of one pair: half the time all of them.
fn range() -> impl Strategy<Value = Range> {
    let n = all_days().len();
    let days = prop_oneof![Just((0, n - 1)), (day_ix(), day_ix()).prop_map(|(a, b)| (a.min(b), a.max(b)))];
    (select(&EXCHANGES[..]), select(&SYMBOLS[..]), days).prop_map(|(exchange, symbol, (a, b))| {
        let days = all_days();
        Range { exchange, symbol, from: days[a], to: days[b] }
    })
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        3 => (1u8..100).prop_map(Kind::Price),
        2 => Just(Kind::NoData),
        1 => (any::<bool>(), any::<bool>(), delay()).prop_map(|(note, asked, delay)| Kind::NotYet { note, asked, delay }),
        2 => delay().prop_map(Kind::Retry),
        1 => delay().prop_map(Kind::Defer),
        2 => Just(Kind::Failed),
        1 => Just(Kind::Released),
    ]
}

fn enqueue() -> impl Strategy<Value = Op> {
    let n = all_days().len();
    // Ranges (as `enqueue` and `fetch` pass them) or any set of days.
    let days = prop_oneof![
        (0..n, 0..n).prop_map(|(a, b)| all_days()[a.min(b)..=a.max(b)].to_vec()),
        subsequence(all_days(), 1..=n),
    ];
    (subsequence(&EXCHANGES[..], 1..=2), subsequence(&SYMBOLS[..], 1..=2), days, 0u8..=2)
        .prop_map(|(exchanges, symbols, days, grace_hours)| Op::Enqueue { exchanges, symbols, days, grace_hours })
}

fn op() -> impl Strategy<Value = Op> {
    let pick = prop_oneof![4 => (0usize..8, kind()).prop_map(|(i, k)| Pick::Held(i, k)),
                           1 => (0usize..8, kind()).prop_map(|(i, k)| Pick::Stale(i, k))];
    prop_oneof![
        1 => enqueue(),
        6 => (owner(), 1usize..=4, lease()).prop_map(|(owner, limit, lease)| Op::Claim { owner, limit, lease }),
        10 => (owner(), vec(pick, 1..=4)).prop_map(|(owner, picks)| Op::Complete { owner, picks }),
        1 => (0usize..8, kind()).prop_map(|(pick, kind)| Op::CompleteStale { pick, kind }),
        1 => (owner(), lease()).prop_map(|(owner, lease)| Op::Renew { owner, lease }),
        3 => advance().prop_map(Op::Advance),
        2 => Just(Op::RecoverExpired),
        1 => owner().prop_map(Op::ReleaseOwner),
        2 => Just(Op::PromoteDue),
        2 => (any::<bool>(), proptest::option::of(range()))
            .prop_map(|(abandoned, cell)| Op::RetryFailed { abandoned, cell }),
        2 => proptest::option::of(range()).prop_map(Op::Abandon),
        3 => range().prop_map(Op::Refresh),
        1 => Just(Op::Recount),
    ]
}

// -------------------------------------------------------------- the model

/// A task row as the checks compare it.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    id: i64,
    state: &'static str,
    attempts: i64,
    next_attempt_at: i64,
    owner: Option<&'static str>,
    lease_until: Option<i64>,
    /// The fencing token of the latest claim.
    claims: i64,
    last_error: Option<String>,
    finished: bool,
}

#[derive(Debug, Clone)]
struct Cell {
    row: Row,
    /// The close of the row in `prices`, if there should be one.
    price: Option<f64>,
    /// The task as its current claim handed it out (while in progress).
    held: Option<Task>,
}

const STATES: [&str; 7] = ["queued", "not_yet_due", "in_progress", "done", "no_data", "failed", "abandoned"];

fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{e:#}"))
}

fn known<const N: usize>(names: &[&'static str; N], s: &str) -> Result<&'static str, TestCaseError> {
    names.iter().find(|n| **n == s).copied().ok_or_else(|| fail(format!("unknown name {s:?} in the database")))
}

fn key_of(exchange: &str, symbol: &str, day: NaiveDate) -> Result<Key, TestCaseError> {
    Ok((known(&EXCHANGES, exchange)?, known(&SYMBOLS, symbol)?, day))
}

fn add(counts: &mut StateCounts, state: &str) {
    match state {
        "queued" => counts.queued += 1,
        "not_yet_due" => counts.not_yet_due += 1,
        "in_progress" => counts.in_progress += 1,
        "done" => counts.done += 1,
        "no_data" => counts.no_data += 1,
        "failed" => counts.failed += 1,
        "abandoned" => counts.abandoned += 1,
        other => panic!("no state {other}"),
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    store: Store,
    now: i64,
    cells: BTreeMap<Key, Cell>,
    /// Every task any claim handed out, in order.
    handed: Vec<Task>,
}

impl Harness {
    fn new() -> Result<Harness, TestCaseError> {
        let dir = tempfile::tempdir().map_err(fail)?;
        let store = Store::open(&dir.path().join("q.db"), Create::IfMissing, Synchronous::Normal).map_err(fail)?;
        Ok(Harness { _dir: dir, store, now: start(), cells: BTreeMap::new(), handed: Vec::new() })
    }

    fn by_id(&mut self, id: i64) -> Option<&mut Cell> {
        self.cells.values_mut().find(|c| c.row.id == id)
    }

    /// Whether `t` carries the current claim of its task.
    fn is_current(&self, t: &Task) -> bool {
        self.cells.values().any(|c| c.row.id == t.id && c.row.state == "in_progress" && c.row.claims == t.token)
    }

    fn stale(&self, n: usize) -> Option<Task> {
        let stale: Vec<&Task> = self.handed.iter().filter(|t| !self.is_current(t)).collect();
        (!stale.is_empty()).then(|| stale[n % stale.len()].clone())
    }

    fn held(&self, owner: &str) -> Vec<Task> {
        self.cells.values().filter(|c| c.row.owner == Some(owner)).filter_map(|c| c.held.clone()).collect()
    }

    fn outcome(&self, kind: &Kind, step: usize) -> Outcome {
        match *kind {
            Kind::Price(close) => {
                let close = f64::from(close);
                Outcome::Price(Price { open: close, high: close, low: close, close, volume: 1.0 })
            }
            Kind::NoData => Outcome::NoData,
            Kind::NotYet { note, asked, delay } => {
                Outcome::NotYet { note: note.then(|| format!("not yet, step {step}")), at: self.now + delay, asked }
            }
            Kind::Retry(delay) => Outcome::Retry { error: format!("retry, step {step}"), at: self.now + delay },
            Kind::Defer(delay) => Outcome::Defer { error: format!("defer, step {step}"), at: self.now + delay },
            Kind::Failed => Outcome::Failed { error: format!("failed, step {step}") },
            Kind::Released => Outcome::Released,
        }
    }

    /// Applies a completion to the model; returns whether it counts.
    fn apply(&mut self, c: &Completion) -> bool {
        let Some(cell) = self.by_id(c.task.id) else { return false };
        if cell.row.state != "in_progress" || cell.row.claims != c.task.token {
            return false;
        }
        let row = &mut cell.row;
        row.owner = None;
        row.lease_until = None;
        cell.held = None;
        let finish = |row: &mut Row, state, error: Option<&String>| {
            row.state = state;
            row.attempts += 1;
            row.last_error = error.cloned();
            row.finished = true;
        };
        match &c.outcome {
            Outcome::Price(p) => {
                finish(row, "done", None);
                cell.price = Some(p.close);
            }
            Outcome::NoData => {
                finish(row, "no_data", None);
                cell.price = None;
            }
            Outcome::Failed { error } => finish(row, "failed", Some(error)),
            Outcome::NotYet { note, at, asked } => {
                row.state = "not_yet_due";
                row.attempts += i64::from(*asked);
                row.last_error = note.clone().or(row.last_error.take());
                row.next_attempt_at = *at;
            }
            Outcome::Retry { error, at } | Outcome::Defer { error, at } => {
                row.state = "queued";
                row.attempts += i64::from(matches!(c.outcome, Outcome::Retry { .. }));
                row.last_error = Some(error.clone());
                row.next_attempt_at = *at;
            }
            Outcome::Released => {
                row.state = "queued";
                row.next_attempt_at = 0;
            }
        }
        true
    }

    /// Moves the cells that `pick` selects to queued (as the requeue
    /// functions do); returns how many.
    fn requeue(&mut self, pick: impl Fn(&Key, &Row) -> bool) -> usize {
        let mut n = 0;
        for (key, cell) in &mut self.cells {
            if pick(key, &cell.row) {
                cell.row.state = "queued";
                cell.row.owner = None;
                cell.row.lease_until = None;
                cell.held = None;
                n += 1;
            }
        }
        n
    }

    /// Queues cells afresh, as `retry_failed` and `refresh` do.
    fn reset(&mut self, pick: impl Fn(&Key, &Row) -> bool) -> usize {
        let mut n = 0;
        for (key, cell) in &mut self.cells {
            if pick(key, &cell.row) {
                cell.row.state = "queued";
                cell.row.attempts = 0;
                cell.row.next_attempt_at = 0;
                cell.row.finished = false;
                n += 1;
            }
        }
        n
    }

    fn step(&mut self, step: usize, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now;
        match op {
            Op::Enqueue { exchanges, symbols, days, grace_hours } => {
                let grace = Duration::from_secs(u64::from(*grace_hours) * 3600);
                let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
                let got = self.store.enqueue(&strings(exchanges), &strings(symbols), days, now, grace).map_err(fail)?;
                let mut want = Enqueued::default();
                for &e in exchanges {
                    for &s in symbols {
                        for &d in days {
                            if self.cells.contains_key(&(e, s, d)) {
                                want.existing += 1;
                                continue;
                            }
                            want.added += 1;
                            let due = clock::due_at(d, grace);
                            let (state, next_attempt_at) = if due > now {
                                want.not_yet_due += 1;
                                ("not_yet_due", due)
                            } else {
                                ("queued", 0)
                            };
                            let row = Row {
                                id: 0, // learnt from the database below
                                state,
                                attempts: 0,
                                next_attempt_at,
                                owner: None,
                                lease_until: None,
                                claims: 0,
                                last_error: None,
                                finished: false,
                            };
                            self.cells.insert((e, s, d), Cell { row, price: None, held: None });
                        }
                    }
                }
                prop_assert_eq!(got, want, "enqueue's counts");
                let conn = self.store.conn().map_err(fail)?;
                let mut stmt = conn.prepare("SELECT id, exchange, symbol, day FROM tasks").map_err(fail)?;
                let ids = stmt
                    .query_map([], |r| {
                        Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get(3)?))
                    })
                    .map_err(fail)?
                    .collect::<rusqlite::Result<Vec<(i64, String, String, NaiveDate)>>>()
                    .map_err(fail)?;
                for (id, e, s, d) in ids {
                    if let Some(cell) = self.cells.get_mut(&key_of(&e, &s, d)?) {
                        if cell.row.id == 0 {
                            cell.row.id = id;
                        }
                    }
                }
            }
            Op::Claim { owner, limit, lease } => {
                let until = now + lease;
                let got = self.store.claim(owner, *limit, now, until).map_err(fail)?;
                let due =
                    self.cells.values().filter(|c| c.row.state == "queued" && c.row.next_attempt_at <= now).count();
                prop_assert_eq!(
                    got.len(),
                    (*limit).min(due),
                    "tasks claimed (limit {}, {} due in the model)",
                    limit,
                    due
                );
                let mut seen = BTreeSet::new();
                for t in &got {
                    let key = key_of(&t.exchange, &t.symbol, t.day)?;
                    prop_assert!(seen.insert(t.id), "one claim returned task {} twice", t.id);
                    let Some(cell) = self.cells.get(&key) else {
                        return Err(fail(format!("claimed {key:?}, which was never enqueued")));
                    };
                    let row = &cell.row;
                    prop_assert_eq!(t.id, row.id, "the claimed task's id, {:?}", key);
                    prop_assert!(
                        !(row.state == "in_progress" && row.lease_until.is_some_and(|l| l >= now)),
                        "{} claimed {:?}, which {:?} holds until {:?} (now {})",
                        owner,
                        key,
                        row.owner,
                        row.lease_until,
                        now
                    );
                    prop_assert_eq!(row.state, "queued", "{} claimed {:?}, which is not queued", owner, key);
                    prop_assert!(
                        row.next_attempt_at <= now,
                        "{} claimed {:?}, due only at {} (now {})",
                        owner,
                        key,
                        row.next_attempt_at,
                        now
                    );
                    prop_assert_eq!(i64::from(t.attempts), row.attempts, "the claimed task's attempts, {:?}", key);
                    prop_assert_eq!(t.token, row.claims + 1, "the claim's fencing token, {:?}", key);
                }
                for t in got {
                    let cell = self.by_id(t.id).expect("checked above");
                    cell.row.state = "in_progress";
                    cell.row.owner = Some(owner);
                    cell.row.lease_until = Some(until);
                    cell.row.claims = t.token;
                    cell.held = Some(t.clone());
                    self.handed.push(t);
                }
            }
            Op::Complete { owner, picks } => {
                let held = self.held(owner);
                let mut batch = Vec::new();
                for pick in picks {
                    let (task, kind) = match pick {
                        Pick::Held(_, _) if held.is_empty() => continue,
                        Pick::Held(n, kind) => (held[n % held.len()].clone(), kind),
                        Pick::Stale(n, kind) => match self.stale(*n) {
                            Some(t) => (t, kind),
                            None => continue,
                        },
                    };
                    batch.push(Completion { task, outcome: self.outcome(kind, step) });
                }
                if batch.is_empty() {
                    return Ok(());
                }
                let got = self.store.complete(&batch).map_err(fail)?;
                let want: Vec<bool> = batch.iter().map(|c| self.apply(c)).collect();
                prop_assert_eq!(got, want, "which completions were applied, of {:#?}", batch);
            }
            Op::CompleteStale { pick, kind } => {
                let Some(task) = self.stale(*pick) else { return Ok(()) };
                let before = self.dump()?;
                let late = Completion { task, outcome: self.outcome(kind, step) };
                let got = self.store.complete(std::slice::from_ref(&late)).map_err(fail)?;
                prop_assert_eq!(got, vec![false], "a stale completion was applied: {:?}", late);
                prop_assert!(!self.apply(&late));
                prop_assert_eq!(self.dump()?, before, "a stale completion changed the database: {:?}", late);
            }
            Op::Renew { owner, lease } => {
                let until = now + lease;
                let got = self.store.renew(owner, until).map_err(fail)?;
                let mut want = 0;
                for cell in self.cells.values_mut() {
                    if cell.row.state == "in_progress" && cell.row.owner == Some(owner) {
                        cell.row.lease_until = Some(until);
                        want += 1;
                    }
                }
                prop_assert_eq!(got, want, "leases renewed for {}", owner);
            }
            Op::Advance(ms) => self.now += ms,
            Op::RecoverExpired => {
                let got = self.store.recover_expired(now).map_err(fail)?;
                let want = self.requeue(|_, r| r.state == "in_progress" && r.lease_until.is_some_and(|l| l < now));
                prop_assert_eq!(got, want, "expired leases recovered at {}", now);
            }
            Op::ReleaseOwner(owner) => {
                let got = self.store.release_owner(owner).map_err(fail)?;
                let want = self.requeue(|_, r| r.state == "in_progress" && r.owner == Some(owner));
                prop_assert_eq!(got, want, "tasks of dead owner {} released", owner);
            }
            Op::PromoteDue => {
                let got = self.store.promote_due(now).map_err(fail)?;
                let mut want = 0;
                for cell in self.cells.values_mut() {
                    if cell.row.state == "not_yet_due" && cell.row.next_attempt_at <= now {
                        cell.row.state = "queued";
                        want += 1;
                    }
                }
                prop_assert_eq!(got, want, "tasks promoted at {}", now);
            }
            Op::RetryFailed { abandoned, cell } => {
                let got = self.store.retry_failed(cell.as_ref().map(Range::cell), *abandoned).map_err(fail)?;
                let want = self.reset(|k, r| {
                    (r.state == "failed" || (*abandoned && r.state == "abandoned"))
                        && cell.as_ref().is_none_or(|c| c.holds(k))
                });
                prop_assert_eq!(got, want, "tasks retried");
            }
            Op::Abandon(cell) => {
                let got = self.store.abandon(cell.as_ref().map(Range::cell)).map_err(fail)?;
                let mut want = 0;
                for (k, c) in &mut self.cells {
                    if c.row.state == "failed" && cell.as_ref().is_none_or(|r| r.holds(k)) {
                        c.row.state = "abandoned";
                        want += 1;
                    }
                }
                prop_assert_eq!(got, want, "tasks abandoned");
            }
            Op::Refresh(range) => {
                let got = self.store.refresh(range.exchange, range.symbol, range.from, range.to).map_err(fail)?;
                let want = self.reset(|k, r| ["done", "no_data", "failed"].contains(&r.state) && range.holds(k));
                prop_assert_eq!(got, want, "tasks refreshed");
            }
            Op::Recount => self.store.recount().map_err(fail)?,
        }
        Ok(())
    }

    /// Every row of tasks, prices and task_counts, to show that nothing changed.
    fn dump(&self) -> Result<Vec<Vec<Value>>, TestCaseError> {
        let conn = self.store.conn().map_err(fail)?;
        let mut all = Vec::new();
        for sql in [
            "SELECT * FROM tasks ORDER BY id",
            "SELECT * FROM prices ORDER BY exchange, symbol, day",
            "SELECT * FROM task_counts ORDER BY exchange, symbol, state",
        ] {
            let mut stmt = conn.prepare(sql).map_err(fail)?;
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect::<rusqlite::Result<Vec<_>>>())
                .map_err(fail)?;
            for row in rows {
                all.push(row.map_err(fail)?);
            }
        }
        Ok(all)
    }

    /// Compares the whole database with the model.
    fn check(&self) -> Result<(), TestCaseError> {
        let conn = self.store.conn().map_err(fail)?;

        // 1. Each cell is one task, in the model's state (and attempts,
        //    due time, owner, lease, token, error); no other task.
        let mut stmt = conn
            .prepare(
                "SELECT id, exchange, symbol, day, state, attempts, next_attempt_at, owner, lease_until, claims,
                        last_error, finished_at IS NOT NULL
                 FROM tasks ORDER BY id",
            )
            .map_err(fail)?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, NaiveDate>(3)?),
                    (r.get::<_, String>(4)?, r.get::<_, i64>(5)?, r.get::<_, i64>(6)?),
                    (r.get::<_, Option<String>>(7)?, r.get::<_, Option<i64>>(8)?, r.get::<_, i64>(9)?),
                    (r.get::<_, Option<String>>(10)?, r.get::<_, bool>(11)?),
                ))
            })
            .map_err(fail)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(fail)?;
        let mut tasks = BTreeMap::new();
        for (id, (e, s, d), (state, attempts, next_attempt_at), (owner, lease_until, claims), (last_error, finished)) in
            raw
        {
            let key = key_of(&e, &s, d)?;
            let row = Row {
                id,
                state: known(&STATES, &state)?,
                attempts,
                next_attempt_at,
                owner: owner.as_deref().map(|o| known(&OWNERS, o)).transpose()?,
                lease_until,
                claims,
                last_error,
                finished,
            };
            // 4. Held means one owner and a lease; anything else, neither.
            let held = row.state == "in_progress";
            prop_assert!(
                row.owner.is_some() == held && row.lease_until.is_some() == held,
                "task {:?} is {} with owner {:?} and lease {:?}",
                key,
                row.state,
                row.owner,
                row.lease_until
            );
            prop_assert!(tasks.insert(key, row).is_none(), "two tasks for {:?}", key);
        }
        let extra: Vec<_> = tasks.keys().filter(|k| !self.cells.contains_key(*k)).collect();
        let missing: Vec<_> = self.cells.keys().filter(|k| !tasks.contains_key(*k)).collect();
        prop_assert!(
            extra.is_empty() && missing.is_empty(),
            "tasks not in the model: {:?}; missing: {:?}",
            extra,
            missing
        );
        for (key, cell) in &self.cells {
            // 1 and 4: the state, and for a held task its owner and token.
            prop_assert_eq!(&tasks[key], &cell.row, "task {:?} (database, then model)", key);
        }

        // 2. task_counts agrees with a fresh count.
        let group = |sql: &str| -> Result<BTreeMap<(String, String, String), i64>, TestCaseError> {
            let mut stmt = conn.prepare(sql).map_err(fail)?;
            let rows = stmt
                .query_map([], |r| Ok(((r.get(0)?, r.get(1)?, r.get(2)?), r.get(3)?)))
                .map_err(fail)?
                .collect::<rusqlite::Result<_>>()
                .map_err(fail)?;
            Ok(rows)
        };
        let kept = group("SELECT exchange, symbol, state, n FROM task_counts WHERE n <> 0")?;
        let fresh = group("SELECT exchange, symbol, state, count(*) FROM tasks GROUP BY exchange, symbol, state")?;
        prop_assert_eq!(kept, fresh, "task_counts (then a fresh count of tasks)");

        // 5. Prices: the model's (a done cell has one, a no_data cell none;
        //    a refreshed one keeps its old price until its new answer).
        let mut stmt = conn.prepare("SELECT exchange, symbol, day, close FROM prices").map_err(fail)?;
        let raw = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, NaiveDate>(2)?, r.get(3)?))
            })
            .map_err(fail)?
            .collect::<rusqlite::Result<Vec<(String, String, NaiveDate, f64)>>>()
            .map_err(fail)?;
        let mut prices = BTreeMap::new();
        for (e, s, d, close) in raw {
            prices.insert(key_of(&e, &s, d)?, close);
        }
        for (key, cell) in &self.cells {
            match cell.row.state {
                "done" => prop_assert!(prices.contains_key(key), "{:?} is done without a price", key),
                "no_data" => prop_assert!(!prices.contains_key(key), "{:?} has no data, yet a price", key),
                _ => {}
            }
        }
        let want: BTreeMap<Key, f64> = self.cells.iter().filter_map(|(k, c)| c.price.map(|p| (*k, p))).collect();
        prop_assert_eq!(prices, want, "prices (database, then model)");

        // The store's own reads of the queue.
        let mut owners = self.store.owners().map_err(fail)?;
        owners.sort();
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for c in self.cells.values() {
            if let (Some(owner), "in_progress") = (c.row.owner, c.row.state) {
                *want.entry(owner.to_string()).or_default() += 1;
            }
        }
        prop_assert_eq!(owners, want.into_iter().collect::<Vec<_>>(), "owners()");

        let not_yet: Vec<i64> =
            self.cells.values().filter(|c| c.row.state == "not_yet_due").map(|c| c.row.next_attempt_at).collect();
        prop_assert_eq!(
            self.store.not_yet_due().map_err(fail)?,
            (not_yet.len() as u64, not_yet.iter().min().copied()),
            "not_yet_due()"
        );
        let wakeup = self
            .cells
            .values()
            .filter_map(|c| match c.row.state {
                "queued" => Some(c.row.next_attempt_at),
                "in_progress" => c.row.lease_until,
                _ => None,
            })
            .min();
        prop_assert_eq!(self.store.next_wakeup().map_err(fail)?, wakeup, "next_wakeup()");

        // counts() and counts_by_pair() show a not_yet_due task whose time
        // has come by the wall clock (here, all of them: the virtual clock
        // is in 2020) as queued.
        let wall = clock::now_ms();
        let mut total = StateCounts::default();
        let mut pairs: BTreeMap<(String, String), StateCounts> = BTreeMap::new();
        for ((e, s, _), c) in &self.cells {
            let state =
                if c.row.state == "not_yet_due" && c.row.next_attempt_at <= wall { "queued" } else { c.row.state };
            add(&mut total, state);
            add(pairs.entry((e.to_string(), s.to_string())).or_default(), state);
        }
        prop_assert_eq!(self.store.counts().map_err(fail)?, total, "counts()");
        let by_pair: Vec<_> = pairs.into_iter().map(|((e, s), n)| (e, s, n)).collect();
        prop_assert_eq!(self.store.counts_by_pair().map_err(fail)?, by_pair, "counts_by_pair()");
        Ok(())
    }
}

/// Runs the ops, checking the database against the model after each.
fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut h = Harness::new()?;
    for (i, op) in ops.iter().enumerate() {
        h.step(i, op).and_then(|()| h.check()).map_err(|e| match e {
            TestCaseError::Fail(why) => TestCaseError::fail(format!("at step {i}, {op:?} (now {}):\n{why}", h.now)),
            other => other,
        })?;
    }
    Ok(())
}

fn config() -> ProptestConfig {
    // An explicit `cases` would hide PROPTEST_CASES, so it is read here.
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES);
    // No failure persistence: it would write files beside the sources.
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_queue_behaves_like_its_model(first in enqueue(), rest in vec(op(), 0..MAX_STEPS)) {
        let ops: Vec<Op> = std::iter::once(first).chain(rest).collect();
        run(&ops)?;
    }
}
