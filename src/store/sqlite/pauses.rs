//! What every process on an SQLite database shares about a price server:
//! the pause it asked for (`Retry-After`), and the request slots of `--rate`.

use anyhow::Result;
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::Db;

impl Db {
    pub fn pause(&self, server: &str) -> Result<Option<i64>> {
        let conn = self.conn()?;
        let until = conn
            .prepare_cached("SELECT until FROM server_pauses WHERE server = ?1")?
            .query_row(params![server], |r| r.get(0))
            .optional()?;
        Ok(until)
    }

    pub fn set_pause(&self, server: &str, until: i64) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO server_pauses (server, until) VALUES (?1, ?2)
             ON CONFLICT (server) DO UPDATE SET until = max(until, excluded.until)",
        )?
        .execute(params![server, until])?;
        Ok(())
    }

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
