//! The queue's operations: enqueueing, claims and leases, completions,
//! the pauses and pace every process shares about a price server, and the
//! commands that move finished tasks (retry, abandon, refresh). Where a
//! rule decides what happens to a task, it is applied here, from
//! `state.rs`, and the backend is handed the decision.

use std::time::Duration;

use anyhow::Result;
use chrono::NaiveDate;

use super::state::{self, Due, Move, Transition};
use super::{on_backend, Backend, Completion, Enqueued, Store, Task, TaskState};
use crate::interval::Interval;
use crate::selection::{Pair, Selection};

impl Store {
    /// Adds one task per cell of the selection, at its interval, to fetch
    /// from `source`; see [`Store::enqueue_days`].
    pub fn enqueue(&self, sel: &Selection, source: &str, now: i64, grace: Duration) -> Result<Enqueued> {
        self.enqueue_pairs(source, &sel.pairs, sel.interval, &sel.day_list(), now, grace)
    }

    /// Adds one task per (exchange, symbol, day) of the cross product at
    /// `interval`, to fetch from `source`; tasks already queued (in any
    /// state, from any source) are left as they are. `days` are in order,
    /// and usually consecutive (a range). Each new task starts as
    /// [`state::start`] says: a day not due at `now` waits as `not_yet_due`.
    // Eight: the cross product's lists and interval, the clock and the
    // grace, each the caller's own (tests and benchmarks build them apart).
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue_days(
        &self,
        source: &str,
        exchanges: &[String],
        symbols: &[String],
        interval: Interval,
        days: &[NaiveDate],
        now: i64,
        grace: Duration,
    ) -> Result<Enqueued> {
        self.enqueue_pairs(source, &Pair::cross(exchanges, symbols), interval, days, now, grace)
    }

    /// [`Store::enqueue_days`] for each pair of `pairs` (each once).
    fn enqueue_pairs(
        &self,
        source: &str,
        pairs: &[Pair],
        interval: Interval,
        days: &[NaiveDate],
        now: i64,
        grace: Duration,
    ) -> Result<Enqueued> {
        if days.is_empty() {
            return Ok(Enqueued::default());
        }
        let starts: Vec<(NaiveDate, TaskState, Due)> = days
            .iter()
            .map(|d| {
                let (state, due) = state::start(*d, interval, now, grace);
                (*d, state, due)
            })
            .collect();
        match &self.backend {
            Backend::Sqlite(db) => db.enqueue(source, interval, pairs, &starts),
            Backend::Postgres(db) => db.enqueue(source, interval, pairs, &starts),
        }
    }

    /// Whether any task is queued or in progress (of the `sources` named,
    /// or of any source for `None`; within the selection, when one is given).
    pub fn has_pending(&self, sources: Option<&[String]>, within: Option<&Selection>) -> Result<bool> {
        Ok(self.next_wakeup(sources, within)?.is_some())
    }

    /// When the queue next has work: `Some(t)` is the earliest time (ms) a
    /// queued task comes due, or a lease held by someone else runs out;
    /// `None` when nothing is queued or in progress. Only the tasks of the
    /// `sources` named count, or those of any source for `None`: a run
    /// waits for no task it cannot fetch; nor, given a selection, for one
    /// outside it.
    pub fn next_wakeup(&self, sources: Option<&[String]>, within: Option<&Selection>) -> Result<Option<i64>> {
        let (due, lease) = match &self.backend {
            Backend::Sqlite(db) => db.first_due_and_lease(sources, within)?,
            Backend::Postgres(db) => db.first_due_and_lease(sources, within)?,
        };
        Ok(state::next_wakeup(due, lease))
    }

    /// Claims up to `limit` tasks of the `sources` named that are due at
    /// `now` for `owner`, leased until `lease_until`, the first due first
    /// (and, among those, in the order they were queued: a pair's days in
    /// a row), of the tasks `within` the selection only when one is given
    /// (what `fetch` works on, leaving the rest of the queue alone). Each
    /// claim bumps the task's fencing token.
    pub fn claim(
        &self,
        owner: &str,
        limit: usize,
        now: i64,
        lease_until: i64,
        sources: &[String],
        within: Option<&Selection>,
    ) -> Result<Vec<Task>> {
        match &self.backend {
            Backend::Sqlite(db) => db.claim(owner, limit, now, lease_until, sources, within),
            Backend::Postgres(db) => db.claim(owner, limit, now, lease_until, sources, within),
        }
    }

    /// Writes back finished tasks in one transaction: each task moves as
    /// its outcome's [`Transition`] says, and its price commits with it. A
    /// completion whose claim is no longer current (its lease expired and
    /// another worker took the task) is ignored; returns, for each
    /// completion, whether it was applied.
    pub fn complete(&self, done: &[Completion]) -> Result<Vec<bool>> {
        if done.is_empty() {
            return Ok(Vec::new());
        }
        let applied: Vec<(&Task, Transition<'_>)> =
            done.iter().map(|c| (&c.task, Transition::of(&c.outcome))).collect();
        match &self.backend {
            Backend::Sqlite(db) => db.complete(&applied),
            Backend::Postgres(db) => db.complete(&applied),
        }
    }

    /// Queues failed tasks again with a fresh set of attempts: those of the
    /// selection, or every one when `None`; with `abandoned`, the abandoned
    /// ones too. One transaction.
    pub fn retry_failed(&self, sel: Option<&Selection>, abandoned: bool) -> Result<usize> {
        self.move_tasks(sel, Move::retry(abandoned))
    }

    /// Gives up on failed tasks for good (`retry --never`): those of the
    /// selection, or every one when `None`. They keep their error, and no
    /// run fetches them again or counts them as failures.
    pub fn abandon(&self, sel: Option<&Selection>) -> Result<usize> {
        self.move_tasks(sel, Move::ABANDON)
    }

    /// Queues the finished tasks of the selection again (done, no data or
    /// failed), to fetch them afresh; returns how many. One transaction.
    pub fn refresh(&self, sel: &Selection) -> Result<usize> {
        self.move_tasks(Some(sel), Move::REFRESH)
    }

    /// Makes `m` on the tasks of the selection (every task for `None`), in
    /// one transaction; returns how many moved.
    fn move_tasks(&self, sel: Option<&Selection>, m: Move) -> Result<usize> {
        match &self.backend {
            Backend::Sqlite(db) => db.move_tasks(sel, m),
            Backend::Postgres(db) => db.move_tasks(sel, m),
        }
    }
}

on_backend! {
    /// Marks the database as the demo's own (or no longer): only a demo's
    /// database may be replaced by `pricequeue demo`.
    fn set_demo(&self, demo: bool) -> Result<bool>;

    /// Extends the lease of every task `owner` holds, while its fetches run.
    fn renew(&self, owner: &str, lease_until: i64) -> Result<usize>;

    /// Puts back in the queue the tasks whose lease ran out before `now`
    /// (their worker died or hung); returns how many.
    fn recover_expired(&self, now: i64) -> Result<usize>;

    /// The owners of tasks in progress, each with how many it holds.
    fn owners(&self) -> Result<Vec<(String, u64)>>;

    /// Puts every task `owner` holds back in the queue, as if never
    /// claimed (its process is gone); returns how many.
    fn release_owner(&self, owner: &str) -> Result<usize>;

    /// Queues the `not_yet_due` tasks whose time has come by `now`; returns how many.
    fn promote_due(&self, now: i64) -> Result<usize>;

    /// How many tasks are not yet due, and when the first of them comes due.
    fn not_yet_due(&self) -> Result<(u64, Option<i64>)>;

    /// [`Store::not_yet_due`] of the selection's tasks only.
    fn not_yet_due_in(&self, sel: &Selection) -> Result<(u64, Option<i64>)>;

    /// Until when (ms since epoch) `server` asked not to be sent requests.
    fn pause(&self, server: &str) -> Result<Option<i64>>;

    /// Records that `server` asked for no requests before `until`; a later
    /// pause already recorded is kept.
    fn set_pause(&self, server: &str, until: i64) -> Result<()>;

    /// Takes `n` request slots for `server`, `interval` ms apart, none
    /// before `now`, from the sequence every process on this database
    /// shares; returns the first (the others follow at `interval` steps).
    fn reserve_slots(&self, server: &str, n: u32, interval: i64, now: i64) -> Result<i64>;

    /// How many tasks of the selection (of the `sources` named only; of any
    /// source for none) there are, and how many prices of theirs (below a
    /// day, candles): what [`Store::remove`] would remove. Read in one
    /// transaction.
    fn to_remove(&self, sel: &Selection, sources: &[String]) -> Result<(u64, u64)>;

    /// Removes the tasks of the selection (of the `sources` named only; of
    /// any source for none), whatever their state, and with `prices` their
    /// prices too (below a day, their days' candles; with sources, those of
    /// the cells whose task is theirs), in one transaction; returns how many
    /// tasks and prices (or candles) went. A worker that
    /// holds a removed task writes nothing when it completes it: its
    /// claim matches no task any more.
    fn remove(&self, sel: &Selection, sources: &[String], prices: bool) -> Result<(u64, u64)>;

    /// Counts the tasks again into `task_counts`, for after hand edits.
    fn recount(&self) -> Result<()>;

    /// Keeps the declaration of a declared source (its TOML text, which
    /// names environment variables but holds no secret), replacing an
    /// older one of the same name: every process on the database then
    /// fetches the source alike.
    fn store_declaration(&self, name: &str, text: &str) -> Result<()>;

    /// The declarations kept, by name.
    fn declarations(&self) -> Result<Vec<(String, String)>>;

    /// The sources of the tasks waiting (queued, in progress, not yet due,
    /// or cooling down after transient errors), each with how many.
    fn waiting_by_source(&self) -> Result<Vec<(String, u64)>>;
}
