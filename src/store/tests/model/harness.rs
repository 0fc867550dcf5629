//! The model of the queue, and the database beside it.

use super::*;

/// A task row as the checks compare it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TaskRow {
    pub(super) id: i64,
    pub(super) state: TaskState,
    pub(super) attempts: i64,
    pub(super) next_attempt_at: i64,
    pub(super) owner: Option<&'static str>,
    pub(super) lease_until: Option<i64>,
    /// The fencing token of the latest claim.
    pub(super) claims: i64,
    pub(super) last_error: Option<String>,
    pub(super) finished: bool,
    /// `tasks.failure`: the kind of the task's latest failure.
    pub(super) failure: Option<String>,
    /// `tasks.rounds`: rounds of attempts that ended in a cool-down.
    pub(super) rounds: i64,
}

#[derive(Debug, Clone)]
pub(super) struct Cell {
    pub(super) row: TaskRow,
    /// The close of the row in `prices`, if there should be one.
    pub(super) price: Option<f64>,
    /// The task as its current claim handed it out (while in progress).
    pub(super) held: Option<Task>,
}

pub(super) fn fail(e: impl std::fmt::Display) -> TestCaseError {
    TestCaseError::fail(format!("{e:#}"))
}

pub(super) fn known<const N: usize>(names: &[&'static str; N], s: &str) -> Result<&'static str, TestCaseError> {
    names.iter().find(|n| **n == s).copied().ok_or_else(|| fail(format!("unknown name {s:?} in the database")))
}

/// A day as both backends' rows give it: `YYYY-MM-DD`.
pub(super) fn day(text: &str) -> Result<NaiveDate, TestCaseError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(fail)
}

pub(super) fn key_of(exchange: &str, symbol: &str, day: NaiveDate) -> Result<Key, TestCaseError> {
    Ok((known(&EXCHANGES, exchange)?, known(&SYMBOLS, symbol)?, day))
}

pub(super) struct Harness {
    /// The database, as `--db` names it.
    pub(super) db: String,
    pub(super) _dir: Option<tempfile::TempDir>,
    pub(super) store: Store,
    pub(super) now: i64,
    pub(super) cells: BTreeMap<Key, Cell>,
    /// Every task any claim handed out, in order.
    pub(super) handed: Vec<Task>,
}

impl Harness {
    /// A harness on a fresh SQLite file, or on `postgres` emptied.
    pub(super) fn new(postgres: Option<&TestDb>) -> Result<Harness, TestCaseError> {
        let (db, dir) = match postgres {
            Some(pg) => {
                let url = pg.url();
                // Made by the first case; each later one empties it.
                if testing::one::<i64>(&url, "SELECT count(*) FROM pg_tables WHERE tablename = 'tasks'", &[]) > 0 {
                    testing::execute_batch(
                        &url,
                        "TRUNCATE tasks, task_count_shards, prices, server_pauses, server_slots RESTART IDENTITY",
                    );
                }
                (url, None)
            }
            None => {
                let dir = tempfile::tempdir().map_err(fail)?;
                (dir.path().join("q.db").to_string_lossy().into_owned(), Some(dir))
            }
        };
        let store = Store::open(&crate::store::Options::new(db.as_str(), Create::IfMissing)).map_err(fail)?;
        Ok(Harness { db, _dir: dir, store, now: start(), cells: BTreeMap::new(), handed: Vec::new() })
    }

    pub(super) fn by_id(&mut self, id: i64) -> Option<&mut Cell> {
        self.cells.values_mut().find(|c| c.row.id == id)
    }

    /// Whether `t` carries the current claim of its task.
    pub(super) fn is_current(&self, t: &Task) -> bool {
        self.cells.values().any(|c| c.row.id == t.id && c.row.state == InProgress && c.row.claims == t.token)
    }

    pub(super) fn stale(&self, n: usize) -> Option<Task> {
        let stale: Vec<&Task> = self.handed.iter().filter(|t| !self.is_current(t)).collect();
        (!stale.is_empty()).then(|| stale[n % stale.len()].clone())
    }

    pub(super) fn held(&self, owner: &str) -> Vec<Task> {
        self.cells.values().filter(|c| c.row.owner == Some(owner)).filter_map(|c| c.held.clone()).collect()
    }

    /// The outcome `kind` of a completion of `task`, at the virtual now.
    pub(super) fn outcome(&self, kind: &Kind, step: usize, task: &Task) -> Outcome {
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
            // As a fetcher decides it, from the rounds the claim handed out.
            Kind::GaveUp => {
                super::super::super::RetryPolicy::round_over(format!("gave up, step {step}"), task.rounds, self.now)
            }
            Kind::Released => Outcome::Released,
        }
    }

    /// Applies a completion to the model, by the rules of `state.rs`
    /// (which its own tests pin down); returns whether it counts.
    pub(super) fn apply(&mut self, c: &Completion) -> bool {
        let Some(cell) = self.by_id(c.task.id) else { return false };
        if cell.row.state != InProgress || cell.row.claims != c.task.token {
            return false;
        }
        let to = Transition::of(&c.outcome);
        let row = &mut cell.row;
        row.owner = None;
        row.lease_until = None;
        cell.held = None;
        row.state = to.to;
        row.attempts += i64::from(to.attempt);
        row.last_error = to.error_after(row.last_error.as_deref());
        match to.due {
            Due::Keep => {}
            Due::AtOnce => row.next_attempt_at = 0,
            Due::At(at) => row.next_attempt_at = at,
        }
        row.finished |= to.finishes();
        if let Some(f) = to.failure() {
            row.failure = Some(f.to_string());
        }
        row.rounds += i64::from(to.next_round);
        match to.price {
            PriceChange::Keep => {}
            PriceChange::Store(p) => cell.price = Some(p.close),
            PriceChange::Candles(c) => cell.price = c.last().map(|c| c.price.close),
            PriceChange::Delete => cell.price = None,
        }
        true
    }

    /// Moves the cells that `pick` selects to queued (as the requeue
    /// functions do); returns how many.
    pub(super) fn requeue(&mut self, pick: impl Fn(&Key, &TaskRow) -> bool) -> usize {
        let mut n = 0;
        for (key, cell) in &mut self.cells {
            if pick(key, &cell.row) {
                cell.row.state = Queued;
                cell.row.owner = None;
                cell.row.lease_until = None;
                cell.held = None;
                n += 1;
            }
        }
        n
    }

    /// Makes the move `m` on the cells `pick` selects, as `retry_failed`,
    /// `abandon` and `refresh` do; returns how many moved.
    pub(super) fn make(&mut self, m: Move, pick: impl Fn(&Key) -> bool) -> usize {
        let mut n = 0;
        for (key, cell) in &mut self.cells {
            if m.from.contains(&cell.row.state) && pick(key) {
                cell.row.state = m.to;
                if m.afresh {
                    cell.row.attempts = 0;
                    cell.row.next_attempt_at = 0;
                    cell.row.finished = false;
                    cell.row.rounds = 0;
                }
                n += 1;
            }
        }
        n
    }

    /// Every row of tasks, prices and task_counts, to show that nothing changed.
    pub(super) fn dump(&self) -> Result<Vec<Vec<Value>>, TestCaseError> {
        let mut all = Vec::new();
        for sql in [
            "SELECT * FROM tasks ORDER BY id",
            "SELECT * FROM prices ORDER BY exchange, symbol, day",
            "SELECT * FROM task_counts ORDER BY exchange, symbol, state",
        ] {
            all.extend(testing::rows::<Vec<Value>>(&self.db, sql, &[]));
        }
        Ok(all)
    }
}
