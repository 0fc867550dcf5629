//! `task_count_shards`, kept in step with `tasks` in the same
//! transactions: what `status` reads (through the `task_counts` view)
//! instead of counting a million tasks.

use std::collections::BTreeMap;

use r2d2_postgres::postgres::{self, GenericClient};

use crate::selection::Selection;
use crate::store::TaskState;

/// Changes to the counts, gathered over a transaction and written once.
#[derive(Default)]
pub(super) struct Counts(BTreeMap<(String, String, TaskState), i64>);

impl Counts {
    pub(super) fn add(&mut self, exchange: &str, symbol: &str, state: TaskState, n: i64) {
        if n != 0 {
            *self.0.entry((exchange.to_string(), symbol.to_string(), state)).or_insert(0) += n;
        }
    }

    pub(super) fn moved(&mut self, exchange: &str, symbol: &str, from: TaskState, to: TaskState, n: i64) {
        if from != to {
            self.add(exchange, symbol, from, -n);
            self.add(exchange, symbol, to, n);
        }
    }

    /// Writes the changes to this connection's shard, in key order (so two
    /// transactions never wait on each other's rows in a cycle); returns
    /// the net change (tasks added).
    pub(super) fn write(self, tx: &mut impl GenericClient) -> Result<i64, postgres::Error> {
        let changes: Vec<_> = self.0.into_iter().filter(|(_, n)| *n != 0).collect();
        if changes.is_empty() {
            return Ok(0);
        }
        let net = changes.iter().map(|(_, n)| n).sum();
        let (mut exchanges, mut symbols, mut states, mut ns) = (vec![], vec![], vec![], vec![]);
        for ((e, s, state), n) in changes {
            exchanges.push(e);
            symbols.push(s);
            states.push(state.name());
            ns.push(n);
        }
        tx.execute(
            "INSERT INTO task_count_shards (exchange, symbol, state, shard, n)
             SELECT e, s, st, pg_backend_pid() % 8, n
             FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS c(e, s, st, n)
             ORDER BY e COLLATE \"C\", s COLLATE \"C\", st
             ON CONFLICT (exchange, symbol, state, shard) DO UPDATE SET n = task_count_shards.n + excluded.n",
            &[&exchanges, &symbols, &states, &ns],
        )?;
        Ok(net)
    }
}

/// Runs `update`, an UPDATE of tasks in state `from` (its parameters
/// `args`, numbered from $1) that returns each moved task's exchange and
/// symbol, and keeps the counts in step; returns how many moved.
pub(super) fn move_counted(
    tx: &mut impl GenericClient,
    update: &str,
    args: &[&(dyn postgres::types::ToSql + Sync)],
    from: TaskState,
    to: TaskState,
) -> Result<u64, postgres::Error> {
    let sql = format!(
        "WITH moved AS ({update} RETURNING exchange, symbol)
         SELECT exchange, symbol, count(*) FROM moved GROUP BY exchange, symbol"
    );
    let mut counts = Counts::default();
    let mut total = 0;
    for row in tx.query(&sql, args)? {
        let n: i64 = row.get(2);
        counts.moved(row.get(0), row.get(1), from, to, n);
        total += n as u64;
    }
    counts.write(tx)?;
    Ok(total)
}

/// The condition that limits tasks to a selection, its parameters numbered
/// from `$first`, and those parameters; nothing for `None`.
pub(super) fn in_selection(sel: Option<&Selection>, first: usize) -> (String, Option<SelectionParams>) {
    match sel {
        None => (String::new(), None),
        Some(sel) => (
            format!(
                " AND (exchange, symbol) IN (SELECT * FROM unnest(${first}::text[], ${}::text[])) \
                 AND day BETWEEN ${} AND ${}",
                first + 1,
                first + 2,
                first + 3
            ),
            Some(SelectionParams::of(sel)),
        ),
    }
}

/// A selection as statement parameters: its pairs as two arrays (the
/// i-th exchange and the i-th symbol one pair), its days.
pub(super) struct SelectionParams {
    pub exchanges: Vec<String>,
    pub symbols: Vec<String>,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

impl SelectionParams {
    pub(super) fn of(sel: &Selection) -> SelectionParams {
        let (exchanges, symbols) = sel.pairs.iter().map(|p| (p.exchange.clone(), p.symbol.clone())).unzip();
        SelectionParams { exchanges, symbols, from: sel.from, to: sel.to }
    }

    pub(super) fn params(&self) -> [&(dyn postgres::types::ToSql + Sync); 4] {
        [&self.exchanges, &self.symbols, &self.from, &self.to]
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
