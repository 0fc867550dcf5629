//! The sources of a PostgreSQL queue: the declarations its tasks name,
//! kept in the database so every host fetches them alike, and which
//! sources have work waiting.

use anyhow::Result;
use const_format::formatcp;

use super::Db;
use crate::selection::Selection;
use crate::store::state::sql::{COOLING, IN_PROGRESS, NOT_YET_DUE, QUEUED};

impl Db {
    pub fn store_declaration(&self, name: &str, text: &str) -> Result<()> {
        self.with(|c| {
            c.exec(
                "INSERT INTO sources (name, declaration) VALUES ($1, $2)
                 ON CONFLICT (name) DO UPDATE SET declaration = excluded.declaration, stored_at = now()
                 WHERE sources.declaration <> excluded.declaration",
                &[&name, &text],
            )?;
            Ok(())
        })
    }

    pub fn declarations(&self) -> Result<Vec<(String, String)>> {
        self.with(|c| {
            let rows = c.rows("SELECT name, declaration FROM sources ORDER BY name", &[])?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    pub fn waiting_by_source(&self) -> Result<Vec<(String, u64)>> {
        self.with(|c| {
            let rows = c.rows(
                formatcp!(
                    // From the counts: the queue is not read.
                    "SELECT source, sum(n)::bigint FROM task_count_shards
                     WHERE state IN ({QUEUED}, {IN_PROGRESS}, {NOT_YET_DUE}, {COOLING})
                     GROUP BY source HAVING sum(n) > 0 ORDER BY source"
                ),
                &[],
            )?;
            Ok(rows.iter().map(|r| (r.get(0), r.get::<_, i64>(1) as u64)).collect())
        })
    }

    pub fn sources_in(&self, sel: &Selection) -> Result<Vec<(String, String, Vec<String>)>> {
        let p = super::counts::SelectionParams::of(sel);
        self.with(|c| {
            let rows = c.rows(
                "SELECT exchange, symbol, array_agg(DISTINCT source ORDER BY source) FROM tasks
                 WHERE (exchange, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))
                   AND interval = $5 AND day BETWEEN $3 AND $4
                 GROUP BY exchange, symbol ORDER BY exchange, symbol",
                &p.params(),
            )?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect())
        })
    }
}
