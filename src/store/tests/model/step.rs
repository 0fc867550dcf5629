//! One operation, done to the store and to the model alike, with its
//! return value checked.

use super::*;

impl Harness {
    pub(super) fn step(&mut self, step: usize, op: &Op) -> Result<(), TestCaseError> {
        let now = self.now;
        match op {
            Op::Enqueue { exchanges, symbols, days, grace_hours } => {
                let grace = Duration::from_secs(u64::from(*grace_hours) * 3600);
                let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
                let got = self
                    .store
                    .enqueue_days(
                        "cryptodb",
                        &strings(exchanges),
                        &strings(symbols),
                        crate::interval::Interval::D1,
                        days,
                        now,
                        grace,
                    )
                    .map_err(fail)?;
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
                                (NotYetDue, due)
                            } else {
                                (Queued, 0)
                            };
                            let row = TaskRow {
                                id: 0, // learnt from the database below
                                state,
                                attempts: 0,
                                next_attempt_at,
                                owner: None,
                                lease_until: None,
                                claims: 0,
                                last_error: None,
                                finished: false,
                                failure: None,
                                rounds: 0,
                            };
                            self.cells.insert((e, s, d), Cell { row, price: None, held: None });
                        }
                    }
                }
                prop_assert_eq!(got, want, "enqueue's counts");
                let ids: Vec<(i64, String, String, String)> =
                    testing::rows(&self.db, "SELECT id, exchange, symbol, day FROM tasks", &[]);
                for (id, e, s, d) in ids {
                    if let Some(cell) = self.cells.get_mut(&key_of(&e, &s, day(&d)?)?) {
                        if cell.row.id == 0 {
                            cell.row.id = id;
                        }
                    }
                }
            }
            Op::Claim { owner, limit, lease } => {
                let until = now + lease;
                let got = self.store.claim(owner, *limit, now, until, &["cryptodb".into()], None).map_err(fail)?;
                let due = self.cells.values().filter(|c| c.row.state == Queued && c.row.next_attempt_at <= now).count();
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
                        !(row.state == InProgress && row.lease_until.is_some_and(|l| l >= now)),
                        "{} claimed {:?}, which {:?} holds until {:?} (now {})",
                        owner,
                        key,
                        row.owner,
                        row.lease_until,
                        now
                    );
                    prop_assert_eq!(row.state, Queued, "{} claimed {:?}, which is not queued", owner, key);
                    prop_assert!(
                        row.next_attempt_at <= now,
                        "{} claimed {:?}, due only at {} (now {})",
                        owner,
                        key,
                        row.next_attempt_at,
                        now
                    );
                    prop_assert_eq!(i64::from(t.attempts), row.attempts, "the claimed task's attempts, {:?}", key);
                    prop_assert_eq!(i64::from(t.rounds), row.rounds, "the claimed task's rounds, {:?}", key);
                    prop_assert_eq!(t.token, row.claims + 1, "the claim's fencing token, {:?}", key);
                }
                for t in got {
                    let cell = self.by_id(t.id).expect("checked above");
                    cell.row.state = InProgress;
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
                    let outcome = self.outcome(kind, step, &task);
                    batch.push(Completion { task, outcome });
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
                let outcome = self.outcome(kind, step, &task);
                let late = Completion { task, outcome };
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
                    if cell.row.state == InProgress && cell.row.owner == Some(owner) {
                        cell.row.lease_until = Some(until);
                        want += 1;
                    }
                }
                prop_assert_eq!(got, want, "leases renewed for {}", owner);
            }
            Op::Advance(ms) => self.now += ms,
            Op::RecoverExpired => {
                let got = self.store.recover_expired(now).map_err(fail)?;
                let want = self.requeue(|_, r| r.state == InProgress && r.lease_until.is_some_and(|l| l < now));
                prop_assert_eq!(got, want, "expired leases recovered at {}", now);
            }
            Op::ReleaseOwner(owner) => {
                let got = self.store.release_owner(owner).map_err(fail)?;
                let want = self.requeue(|_, r| r.state == InProgress && r.owner == Some(owner));
                prop_assert_eq!(got, want, "tasks of dead owner {} released", owner);
            }
            Op::PromoteDue => {
                let got = self.store.promote_due(now).map_err(fail)?;
                let mut want = 0;
                for cell in self.cells.values_mut() {
                    if cell.row.state == NotYetDue && cell.row.next_attempt_at <= now {
                        cell.row.state = Queued;
                        want += 1;
                    }
                    // A cool-down that ended: queued with a fresh set of
                    // attempts, its rounds kept.
                    let cooling = cell.row.state == Cooling;
                    if cooling && cell.row.next_attempt_at <= now {
                        cell.row.state = Queued;
                        cell.row.attempts = 0;
                        cell.row.finished = false;
                        want += 1;
                    }
                }
                prop_assert_eq!(got, want, "tasks promoted at {}", now);
            }
            Op::RetryFailed { abandoned, cell } => {
                let got =
                    self.store.retry_failed(cell.as_ref().map(Range::selection).as_ref(), *abandoned).map_err(fail)?;
                let want = self.make(Move::retry(*abandoned), |k| cell.as_ref().is_none_or(|c| c.holds(k)));
                prop_assert_eq!(got, want, "tasks retried");
            }
            Op::Abandon(cell) => {
                let got = self.store.abandon(cell.as_ref().map(Range::selection).as_ref()).map_err(fail)?;
                let want = self.make(Move::ABANDON, |k| cell.as_ref().is_none_or(|r| r.holds(k)));
                prop_assert_eq!(got, want, "tasks abandoned");
            }
            Op::Refresh(range) => {
                let got = self.store.refresh(&range.selection()).map_err(fail)?;
                let want = self.make(Move::REFRESH, |k| range.holds(k));
                prop_assert_eq!(got, want, "tasks refreshed");
            }
            Op::Recount => self.store.recount().map_err(fail)?,
        }
        Ok(())
    }
}
