//! What every process on the database shares about a price server: the
//! pause it asked for (`Retry-After`), and the request slots of `--rate`.

use anyhow::Result;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::Db;

impl Db {
    /// Until when (ms since epoch) `server` asked not to be sent requests.
    pub fn pause(&self, server: &str) -> Result<Option<i64>> {
        let conn = self.conn()?;
        let until = conn
            .prepare_cached("SELECT until FROM server_pauses WHERE server = ?1")?
            .query_row(params![server], |r| r.get(0))
            .optional()?;
        Ok(until)
    }

    /// Records that `server` asked for no requests before `until`; a later
    /// pause already recorded is kept.
    pub fn set_pause(&self, server: &str, until: i64) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO server_pauses (server, until) VALUES (?1, ?2)
             ON CONFLICT (server) DO UPDATE SET until = max(until, excluded.until)",
        )?
        .execute(params![server, until])?;
        Ok(())
    }

    /// Takes `n` request slots for `server`, `interval` ms apart, none
    /// before `now`, from the sequence every process on this database
    /// shares; returns the first (the others follow at `interval` steps).
    pub fn reserve_slots(&self, server: &str, n: u32, interval: i64, now: i64) -> Result<i64> {
        let mut conn = self.conn()?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let first: i64 = {
            let next: Option<i64> = tx
                .prepare_cached("SELECT next_slot FROM server_slots WHERE server = ?1")?
                .query_row(params![server], |r| r.get(0))
                .optional()?;
            next.unwrap_or(now).max(now)
        };
        let after = first.saturating_add(interval.saturating_mul(i64::from(n)));
        tx.prepare_cached(
            "INSERT INTO server_slots (server, next_slot) VALUES (?1, ?2)
             ON CONFLICT (server) DO UPDATE SET next_slot = excluded.next_slot",
        )?
        .execute(params![server, after])?;
        tx.commit()?;
        Ok(first)
    }
}
