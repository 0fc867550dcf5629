//! Enqueueing on PostgreSQL: one task per (exchange, symbol, interval,
//! day), each once, whatever is already queued; the whole cross product in
//! one statement.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDate;
use const_format::formatcp;

use super::counts::analyze_if_grown;
use super::Db;
use crate::interval::Interval;
use crate::selection::Pair;
use crate::store::state::sql::NOT_YET_DUE;
use crate::store::state::Due;
use crate::store::{Enqueued, TaskState};

impl Db {
    pub fn enqueue(
        &self,
        source: &str,
        interval: Interval,
        pairs: &[Pair],
        days: &[(NaiveDate, TaskState, Due)],
    ) -> Result<Enqueued> {
        let interval = interval.name();
        let (Some((first, ..)), Some((last, ..))) = (days.first(), days.last()) else {
            return Ok(Enqueued::default());
        };
        let states: Vec<&str> = days.iter().map(|(_, state, _)| state.name()).collect();
        // Stored, like every queue time, on the server's clock.
        let at: Vec<i64> =
            days.iter().map(|(_, _, due)| due.next_attempt_at(|t| self.db_time(t)).unwrap_or(0)).collect();
        let days: Vec<NaiveDate> = days.iter().map(|(day, ..)| *day).collect();
        let consecutive = (*last - *first).num_days() + 1 == days.len() as i64;
        let total = (pairs.len() * days.len()) as u64;
        let (exchanges, symbols): (Vec<&str>, Vec<&str>) =
            pairs.iter().map(|p| (p.exchange.as_str(), p.symbol.as_str())).unzip();
        let enqueued = self.with(|c| {
            let mut tx = c.transaction()?;
            // A pair already complete (the nightly cron's usual case) is
            // left out: one index count per pair, in one statement.
            let mut have = BTreeMap::new();
            if consecutive {
                for row in tx.query(
                    "SELECT exchange, symbol, count(*) FROM tasks
                     WHERE (exchange, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                       AND interval = $5 AND day BETWEEN $3 AND $4
                     GROUP BY exchange, symbol",
                    &[&exchanges, &symbols, first, last, &interval],
                )? {
                    have.insert((row.get::<_, String>(0), row.get::<_, String>(1)), row.get::<_, i64>(2));
                }
            }
            let (mut pair_exchanges, mut pair_symbols) = (vec![], vec![]);
            for Pair { exchange: e, symbol: s } in pairs {
                if have.get(&(e.clone(), s.clone())).copied().unwrap_or(0) < days.len() as i64 {
                    pair_exchanges.push(e.as_str());
                    pair_symbols.push(s.as_str());
                }
            }
            let (mut added, mut later) = (0, 0);
            if !pair_exchanges.is_empty() {
                // The counts follow by trigger.
                let row = tx.query_one(
                    formatcp!(
                        "WITH added AS (
                         INSERT INTO tasks (exchange, symbol, interval, day, state, next_attempt_at, source)
                         SELECT p.e, p.s, $7, d.day, d.state, d.at, $6
                         FROM unnest($1::text[], $2::text[]) AS p(e, s)
                              CROSS JOIN unnest($3::date[], $4::text[], $5::bigint[]) AS d(day, state, at)
                         ORDER BY p.e COLLATE \"C\", p.s COLLATE \"C\", d.day
                         ON CONFLICT (exchange, symbol, interval, day) DO NOTHING
                         RETURNING state)
                     SELECT count(*), count(*) FILTER (WHERE state = {NOT_YET_DUE}) FROM added"
                    ),
                    &[&pair_exchanges, &pair_symbols, &days, &states, &at, &source, &interval],
                )?;
                (added, later) = (row.get::<_, i64>(0) as u64, row.get::<_, i64>(1) as u64);
            }
            tx.commit()?;
            Ok(Enqueued { added, existing: total - added, not_yet_due: later })
        })?;
        // Apart: were it to fail and run again, the enqueue would not.
        self.with(|c| analyze_if_grown(&mut **c, enqueued.added))?;
        Ok(enqueued)
    }
}
