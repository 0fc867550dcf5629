//! The sources of an SQLite queue: the declarations its tasks name, and
//! which sources have work waiting.

use anyhow::Result;
use const_format::formatcp;
use rusqlite::params;

use super::Db;
use crate::selection::Selection;
use crate::store::iso_now;
use crate::store::state::sql::{COOLING, IN_PROGRESS, NOT_YET_DUE, QUEUED};

impl Db {
    pub fn store_declaration(&self, name: &str, text: &str) -> Result<()> {
        let conn = self.conn()?;
        conn.prepare_cached(
            "INSERT INTO sources (name, declaration, stored_at) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET declaration = excluded.declaration, stored_at = excluded.stored_at
             WHERE declaration <> excluded.declaration",
        )?
        .execute(params![name, text, iso_now()])?;
        Ok(())
    }

    pub fn declarations(&self) -> Result<Vec<(String, String)>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare_cached("SELECT name, declaration FROM sources ORDER BY name")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn waiting_by_source(&self) -> Result<Vec<(String, u64)>> {
        let conn = self.conn()?;
        // From the counts: the queue is not read.
        let mut stmt = conn.prepare_cached(formatcp!(
            "SELECT source, sum(n) FROM task_counts
             WHERE state IN ({QUEUED}, {IN_PROGRESS}, {NOT_YET_DUE}, {COOLING})
             GROUP BY source HAVING sum(n) > 0 ORDER BY source"
        ))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn sources_in(&self, sel: &Selection) -> Result<Vec<(String, String, Vec<String>)>> {
        let mut conn = self.conn()?;
        let tx = conn.transaction()?;
        let mut stmt = tx.prepare_cached(
            "SELECT DISTINCT source FROM tasks
             WHERE exchange = ?1 AND symbol = ?2 AND interval = ?5 AND day BETWEEN ?3 AND ?4
             ORDER BY source",
        )?;
        let mut out = Vec::new();
        for p in &sel.pairs {
            let rows = stmt.query_map(params![p.exchange, p.symbol, sel.from, sel.to, sel.interval], |r| r.get(0))?;
            let sources: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
            if !sources.is_empty() {
                out.push((p.exchange.clone(), p.symbol.clone(), sources));
            }
        }
        Ok(out)
    }
}
