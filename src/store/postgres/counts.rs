//! Statement parameters for a selection, and the planner's statistics.
//! The counts themselves (`task_count_shards`, read through the view
//! `task_counts`) are kept by the triggers of migration 0005, from the
//! same statement that changes a task: no code here adds to them.

use r2d2_postgres::postgres::{self, GenericClient};

use crate::selection::Selection;

/// The condition that limits tasks to a selection, its parameters numbered
/// from `$first`, and those parameters; nothing for `None`.
pub(super) fn in_selection(sel: Option<&Selection>, first: usize) -> (String, Option<SelectionParams>) {
    match sel {
        None => (String::new(), None),
        Some(sel) => (
            format!(
                " AND (exchange, symbol) IN (SELECT * FROM unnest(${first}::text[], ${}::text[])) \
                 AND day BETWEEN ${} AND ${} AND interval = ${}",
                first + 1,
                first + 2,
                first + 3,
                first + 4
            ),
            Some(SelectionParams::of(sel)),
        ),
    }
}

/// A selection as statement parameters: its pairs as two arrays (the
/// i-th exchange and the i-th symbol one pair), its days, its interval.
pub(super) struct SelectionParams {
    pub exchanges: Vec<String>,
    pub symbols: Vec<String>,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    pub interval: &'static str,
}

impl SelectionParams {
    pub(super) fn of(sel: &Selection) -> SelectionParams {
        let (exchanges, symbols) = sel.pairs.iter().map(|p| (p.exchange.clone(), p.symbol.clone())).unzip();
        SelectionParams { exchanges, symbols, from: sel.from, to: sel.to, interval: sel.interval.name() }
    }

    /// The pairs, the first and last day, the interval: `$1` to `$5`.
    pub(super) fn params(&self) -> [&(dyn postgres::types::ToSql + Sync); 5] {
        [&self.exchanges, &self.symbols, &self.from, &self.to, &self.interval]
    }
}

/// After `added` new tasks: gathers the planner's statistics of `tasks`
/// anew when they grew by a tenth or more (or were never gathered). A
/// claim's plan depends on them: without them the planner takes the
/// queue for a few rows and reads and sorts every queued task on each
/// claim (48 ms for 256 of 30,000, against 0.1 ms walking `tasks_due`).
/// Autovacuum would do it in time, but may be off or behind a backfill.
pub(super) fn analyze_if_grown(client: &mut impl GenericClient, added: u64) -> Result<(), postgres::Error> {
    if added < 1000 {
        return Ok(());
    }
    let known: f32 = client.query_one("SELECT reltuples FROM pg_class WHERE oid = 'tasks'::regclass", &[])?.get(0);
    if known < 0.0 || added as f64 > 0.1 * f64::from(known) {
        client.batch_execute("ANALYZE tasks")?;
    }
    Ok(())
}
