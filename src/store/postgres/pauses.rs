//! What every host on a PostgreSQL database shares about a price server:
//! the pause it asked for (`Retry-After`), and the request slots of
//! `--rate`, both on the database server's clock.

use anyhow::Result;

use super::Db;

impl Db {
    pub fn pause(&self, server: &str) -> Result<Option<i64>> {
        let until = self.with(|c| {
            Ok(c.opt("SELECT until FROM server_pauses WHERE server = $1", &[&server])?.map(|r| r.get::<_, i64>(0)))
        })?;
        Ok(until.map(|t| self.local_time(t)))
    }

    pub fn set_pause(&self, server: &str, until: i64) -> Result<()> {
        let until = self.db_time(until);
        self.with(|c| {
            c.exec(
                "INSERT INTO server_pauses (server, until) VALUES ($1, $2)
                 ON CONFLICT (server) DO UPDATE SET until = greatest(server_pauses.until, excluded.until)",
                &[&server, &until],
            )?;
            Ok(())
        })
    }

    pub fn reserve_slots(&self, server: &str, n: u32, interval: i64, now: i64) -> Result<i64> {
        let span = interval.saturating_mul(i64::from(n));
        let now = self.db_time(now);
        let first = self.with(|c| {
            // One statement: the row lock it takes orders every host's claims.
            let r = c.one(
                "INSERT INTO server_slots (server, next_slot) VALUES ($1, $2::bigint + $3::bigint)
                 ON CONFLICT (server) DO UPDATE SET next_slot = greatest(server_slots.next_slot, $2::bigint) + $3::bigint
                 RETURNING next_slot - $3::bigint",
                &[&server, &now, &span],
            )?;
            Ok(r.get::<_, i64>(0))
        })?;
        Ok(self.local_time(first))
    }
}
