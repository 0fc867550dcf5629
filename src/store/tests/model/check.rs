//! After every step: the whole database against the model.

use super::*;

impl Harness {
    /// Compares the whole database with the model.
    pub(super) fn check(&self) -> Result<(), TestCaseError> {
        // 1. Each cell is one task, in the model's state (and attempts,
        //    due time, owner, lease, token, error); no other task.
        type Head = (i64, String, String, String, String, i64, i64, Option<String>, Option<i64>, i64);
        // The error, finished, failure and rounds.
        type Rest = (Option<String>, i64, Option<String>, i64);
        let raw: Vec<(Head, Rest)> = testing::rows::<Vec<crate::value::Value>>(
            &self.db,
            "SELECT id, exchange, symbol, day, state, attempts, next_attempt_at, owner, lease_until, claims,
                    last_error, CASE WHEN finished_at IS NULL THEN 0 ELSE 1 END, failure, rounds
             FROM tasks ORDER BY id",
            &[],
        )
        .into_iter()
        .map(|row| {
            let mut it = row.into_iter();
            let mut next = || it.next().unwrap_or(crate::value::Value::Null);
            let first: Head = testing::Row::from_row((0..10).map(|_| next()).collect(), "tasks");
            let error: Option<String> = testing::Row::from_row(vec![next()], "last_error");
            let finished: i64 = testing::Row::from_row(vec![next()], "finished");
            let failure: Option<String> = testing::Row::from_row(vec![next()], "failure");
            let rounds: i64 = testing::Row::from_row(vec![next()], "rounds");
            (first, (error, finished, failure, rounds))
        })
        .collect();
        let mut tasks = BTreeMap::new();
        for ((id, e, s, d, state, attempts, next_attempt_at, owner, lease_until, claims), rest) in raw {
            let (last_error, finished, failure, rounds) = rest;
            let key = key_of(&e, &s, day(&d)?)?;
            let row = TaskRow {
                id,
                state: TaskState::from_name(&state).ok_or_else(|| fail(format!("no state {state:?}")))?,
                attempts,
                next_attempt_at,
                owner: owner.as_deref().map(|o| known(&OWNERS, o)).transpose()?,
                lease_until,
                claims,
                last_error,
                finished: finished != 0,
                failure,
                rounds,
            };
            // 4. Held means one owner and a lease; anything else, neither.
            let held = row.state == InProgress;
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

        // 2. task_counts agrees with a fresh count, source by source.
        type Counts = BTreeMap<(String, String, String, String), i64>;
        let group = |sql: &str| -> Result<Counts, TestCaseError> {
            let rows: Vec<(String, String, String, String, i64)> = testing::rows(&self.db, sql, &[]);
            Ok(rows.into_iter().map(|(e, s, source, state, n)| ((e, s, source, state), n)).collect())
        };
        let kept = group("SELECT exchange, symbol, source, state, n FROM task_counts WHERE n <> 0")?;
        let fresh = group(
            "SELECT exchange, symbol, source, state, count(*) FROM tasks GROUP BY exchange, symbol, source, state",
        )?;
        prop_assert_eq!(kept, fresh, "task_counts (then a fresh count of tasks)");

        // 5. Prices: the model's (a done cell has one, a no_data cell none;
        //    a refreshed one keeps its old price until its new answer).
        let raw: Vec<(String, String, String, f64)> =
            testing::rows(&self.db, "SELECT exchange, symbol, day, close FROM prices", &[]);
        let mut prices = BTreeMap::new();
        for (e, s, d, close) in raw {
            prices.insert(key_of(&e, &s, day(&d)?)?, close);
        }
        for (key, cell) in &self.cells {
            match cell.row.state {
                Done => prop_assert!(prices.contains_key(key), "{:?} is done without a price", key),
                NoData => prop_assert!(!prices.contains_key(key), "{:?} has no data, yet a price", key),
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
            if let (Some(owner), InProgress) = (c.row.owner, c.row.state) {
                *want.entry(owner.to_string()).or_default() += 1;
            }
        }
        prop_assert_eq!(owners, want.into_iter().collect::<Vec<_>>(), "owners()");

        let not_yet: Vec<i64> =
            self.cells.values().filter(|c| c.row.state == NotYetDue).map(|c| c.row.next_attempt_at).collect();
        prop_assert_eq!(
            self.store.not_yet_due().map_err(fail)?,
            (not_yet.len() as u64, not_yet.iter().min().copied()),
            "not_yet_due()"
        );
        let cooling: Vec<i64> =
            self.cells.values().filter(|c| c.row.state == Cooling).map(|c| c.row.next_attempt_at).collect();
        prop_assert_eq!(
            self.store.cooling(None).map_err(fail)?,
            (cooling.len() as u64, cooling.iter().min().copied()),
            "cooling(None)"
        );
        let wakeup = self
            .cells
            .values()
            .filter_map(|c| match c.row.state {
                Queued => Some(c.row.next_attempt_at),
                InProgress => c.row.lease_until,
                _ => None,
            })
            .min();
        prop_assert_eq!(self.store.next_wakeup(None, None).map_err(fail)?, wakeup, "next_wakeup(None)");

        // counts() and counts_by_pair() show a not_yet_due task whose time
        // has come by the wall clock (here, all of them: the virtual clock
        // is in 2020) as queued.
        let wall = clock::now_ms();
        let mut total = StateCounts::default();
        let mut pairs: BTreeMap<(String, String), StateCounts> = BTreeMap::new();
        for ((e, s, _), c) in &self.cells {
            let state = if c.row.state == NotYetDue && c.row.next_attempt_at <= wall { Queued } else { c.row.state };
            total[state] += 1;
            pairs.entry((e.to_string(), s.to_string())).or_default()[state] += 1;
        }
        prop_assert_eq!(self.store.counts().map_err(fail)?, total, "counts()");
        let by_pair: Vec<_> = pairs.into_iter().map(|((e, s), n)| (e, s, n)).collect();
        prop_assert_eq!(self.store.counts_by_pair().map_err(fail)?, by_pair, "counts_by_pair()");

        // counts_in(): over every day (read from the counts) and over some
        // (from the tasks), the states as stored.
        let days = all_days();
        let every = crate::selection::Pair::cross(&EXCHANGES.map(String::from), &SYMBOLS.map(String::from));
        for (from, to) in [(days[0], days[5]), (days[1], days[3]), (days[0], days[4])] {
            let sel = crate::selection::Selection::new(every.clone(), from, to);
            let mut want = StateCounts::default();
            for ((_, _, d), c) in &self.cells {
                if (from..=to).contains(d) {
                    want[c.row.state] += 1;
                }
            }
            prop_assert_eq!(self.store.counts_in(&sel).map_err(fail)?, want, "counts_in({} to {})", from, to);
        }
        Ok(())
    }
}
