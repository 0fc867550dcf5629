//! The queue as a state machine, property-tested against a small model.
//!
//! Random interleavings of enqueue, claim, complete (current and stale
//! claims, in batches), lease renewal and expiry, dead-owner release,
//! promotion of not-yet-due days and of failures whose cool-down ended,
//! retry, abandon, refresh and recount, by
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

use super::super::state::{Due, Move, PriceChange, Transition};
use super::super::TaskState::{self, *};
use super::super::{testing, Completion, Create, Enqueued, Outcome, StateCounts, Store, Task};
use super::TestDb;
use crate::clock;
use crate::price::Price;
use crate::value::Value;

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

mod check;
mod harness;
mod ops;
mod step;

use harness::*;
use ops::*;

/// Runs the ops, checking the database against the model after each: on a
/// fresh SQLite file, or on `postgres` emptied.
fn run(ops: &[Op], postgres: Option<&TestDb>) -> Result<(), TestCaseError> {
    let mut h = Harness::new(postgres)?;
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
        run(&ops, None)?;
    }
}

/// The same on PostgreSQL: one database of the test's own, emptied
/// before each case (a database per case would cost more than the case).
#[test]
fn the_queue_behaves_like_its_model_on_postgres() {
    let Some(pg) = TestDb::postgres() else { return };
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let ops = (enqueue(), vec(op(), 0..MAX_STEPS));
    let result = runner.run(&ops, |(first, rest)| {
        let ops: Vec<Op> = std::iter::once(first).chain(rest).collect();
        run(&ops, Some(&pg))
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
