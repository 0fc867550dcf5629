//! Enqueueing on SQLite: one task per (exchange, symbol, interval, day),
//! each once, whatever is already queued.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use const_format::formatcp;
use rusqlite::params;

use super::counts::Counted;
use super::Db;
use crate::interval::Interval;
use crate::selection::Pair;
use crate::store::state::sql::NOT_YET_DUE;
use crate::store::state::Due;
use crate::store::{iso_now, Enqueued, TaskState};

impl Db {
    pub fn enqueue(
        &self,
        source: &str,
        interval: Interval,
        pairs: &[Pair],
        days: &[(NaiveDate, TaskState, Due)],
    ) -> Result<Enqueued> {
        let (Some((first, ..)), Some((last, ..))) = (days.first(), days.last()) else {
            return Ok(Enqueued::default());
        };
        let mut conn = self.conn()?;
        let mut tx = Counted::begin(&mut conn)?;
        let (mut added, mut later) = (0, 0);
        {
            // The days go in as one JSON array per pair, so SQLite loops
            // over them itself: a million rows cost a thousand statements.
            let (mut due, mut not_due) = (Vec::new(), Vec::new());
            for (day, state, at) in days {
                match (state, at) {
                    (TaskState::NotYetDue, Due::At(at)) => not_due.push((day.to_string(), *at)),
                    _ => due.push(day.to_string()),
                }
            }
            let due_json = serde_json::to_string(&due)?;
            let not_due_json = serde_json::to_string(&not_due)?;
            let enqueued_at = iso_now();
            const PRESENT: &str = "SELECT count(*) FROM tasks
                 WHERE exchange = ?1 AND symbol = ?2 AND interval = ?5 AND day BETWEEN ?3 AND ?4";
            const INSERT: &str = "INSERT INTO tasks (exchange, symbol, interval, day, enqueued_at, source)
                 SELECT ?1, ?2, ?6, value, ?3, ?5 FROM json_each(?4) WHERE true
                 ON CONFLICT (exchange, symbol, interval, day) DO NOTHING";
            const INSERT_LATER: &str = formatcp!(
                "INSERT INTO tasks (exchange, symbol, interval, day, state, next_attempt_at, enqueued_at, source)
                 SELECT ?1, ?2, ?6, value ->> 0, {NOT_YET_DUE}, value ->> 1, ?3, ?5 FROM json_each(?4) WHERE true
                 ON CONFLICT (exchange, symbol, interval, day) DO NOTHING"
            );
            let consecutive = (*last - *first).num_days() + 1 == days.len() as i64;
            for Pair { exchange, symbol } in pairs {
                // A pair already complete (the nightly cron's usual case) costs one index count.
                if consecutive {
                    let have: i64 = tx
                        .tx()
                        .prepare_cached(PRESENT)?
                        .query_row(params![exchange, symbol, first, last, interval], |r| r.get(0))?;
                    if have as usize >= days.len() {
                        continue;
                    }
                }
                let key = (exchange.as_str(), symbol.as_str(), interval, source);
                if !due.is_empty() {
                    let args = params![exchange, symbol, enqueued_at, due_json, source, interval];
                    added += tx.insert(INSERT, args, key, TaskState::Queued)? as u64;
                }
                if !not_due.is_empty() {
                    let args = params![exchange, symbol, enqueued_at, not_due_json, source, interval];
                    let n = tx.insert(INSERT_LATER, args, key, TaskState::NotYetDue)? as u64;
                    added += n;
                    later += n;
                }
            }
        }
        tx.commit().context("committing the new tasks")?;
        let total = (pairs.len() * days.len()) as u64;
        Ok(Enqueued { added, existing: total - added, not_yet_due: later })
    }
}
