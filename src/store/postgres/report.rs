//! Reads for the reports on PostgreSQL: counts, failures, names and days,
//! prices, and why cells have none. Each is one statement over the whole
//! selection, its pairs bound as arrays.

use anyhow::{Context, Result};
use chrono::NaiveDate;
use r2d2_postgres::postgres::fallible_iterator::FallibleIterator;
use r2d2_postgres::postgres::types::ToSql;
use r2d2_postgres::postgres::{IsolationLevel, Row};

use const_format::formatcp;

use super::pairs::PRICE_PAIRS;
use super::{describe, Db};
use crate::price::{Price, PriceRow};
use crate::selection::{Pair, Selection};
use crate::store::state::sql::{COOLING, FAILED, NOT_YET_DUE};
use crate::store::{iso, FailedTask, Reason, StateCounts, TaskState};

impl Db {
    pub fn counts(&self) -> Result<StateCounts> {
        let now = self.db_time(crate::clock::now_ms());
        self.with(|c| {
            let mut counts = StateCounts::default();
            for r in c.query("SELECT state, sum(n)::bigint FROM task_count_shards GROUP BY state", &[])? {
                counts[r.try_get::<_, TaskState>(0)?] += r.get::<_, i64>(1).max(0) as u64;
            }
            let came: i64 = c
                .query_one(
                    formatcp!("SELECT count(*) FROM tasks WHERE state = {NOT_YET_DUE} AND next_attempt_at <= $1"),
                    &[&now],
                )?
                .get(0);
            counts.came_due(came as u64);
            Ok(counts)
        })
    }

    pub fn counts_in(&self, sel: &Selection) -> Result<StateCounts> {
        let p = super::counts::SelectionParams::of(sel);
        self.with(|c| {
            let mut counts = StateCounts::default();
            // A pair whose every task is in the range (its first and last
            // day, two probes of the index) is read from the counts; the
            // others' tasks are counted, the pairs as a semi-join (a join
            // sorted a million tasks to merge them: 400 ms against 150 ms).
            for r in c.query(
                "WITH b AS MATERIALIZED (
                     SELECT e, s,
                            (SELECT min(day) FROM tasks WHERE exchange = e AND symbol = s AND interval = $5) AS lo,
                            (SELECT max(day) FROM tasks WHERE exchange = e AND symbol = s AND interval = $5) AS hi
                     FROM unnest($1::text[], $2::text[]) AS p(e, s))
                 SELECT state, sum(n)::bigint FROM (
                     SELECT state, n FROM task_count_shards
                     WHERE (exchange, symbol) IN (SELECT e, s FROM b WHERE lo >= $3 AND hi <= $4) AND interval = $5
                     UNION ALL
                     SELECT state, count(*) FROM tasks
                     WHERE (exchange, symbol) IN (SELECT e, s FROM b WHERE lo < $3 OR hi > $4)
                       AND interval = $5 AND day BETWEEN $3 AND $4
                     GROUP BY state) c
                 GROUP BY state",
                &p.params(),
            )? {
                counts[r.try_get::<_, TaskState>(0)?] += r.get::<_, i64>(1) as u64;
            }
            Ok(counts)
        })
    }

    pub fn counts_by_pair(&self) -> Result<Vec<(String, String, StateCounts)>> {
        let now = self.db_time(crate::clock::now_ms());
        self.with(|c| {
            let rows = c.query(
                formatcp!(
                    "SELECT exchange, symbol, state, sum(n)::bigint, 0 AS came FROM task_count_shards
                     GROUP BY exchange, symbol, state HAVING sum(n) <> 0
                     UNION ALL
                     SELECT exchange, symbol, {NOT_YET_DUE}, count(*), 1 FROM tasks
                     WHERE state = {NOT_YET_DUE} AND next_attempt_at <= $1 GROUP BY exchange, symbol
                     ORDER BY 1, 2, 5"
                ),
                &[&now],
            )?;
            // Each pair's states, then what came due of it (moved from not
            // yet due to queued, so it must come after).
            let mut out: Vec<(String, String, StateCounts)> = Vec::new();
            for r in rows {
                let (exchange, symbol, state, n, came): (String, String, TaskState, i64, i32) =
                    (r.get(0), r.get(1), r.try_get(2)?, r.get(3), r.get(4));
                if !matches!(out.last(), Some((e, s, _)) if *e == exchange && *s == symbol) {
                    out.push((exchange, symbol, StateCounts::default()));
                }
                if let Some((_, _, counts)) = out.last_mut() {
                    match came {
                        1 => counts.came_due(n as u64),
                        _ => counts[state] += n.max(0) as u64,
                    }
                }
            }
            Ok(out)
        })
    }

    pub fn failures(&self, sel: Option<&Selection>, limit: usize) -> Result<Vec<FailedTask>> {
        let (condition, args) = super::counts::in_selection(sel, 2);
        let sql = format!(
            "SELECT exchange, symbol, day, attempts, coalesce(last_error, ''),
                    CASE WHEN state = {COOLING} THEN next_attempt_at END, rounds FROM tasks
             WHERE state IN ({FAILED}, {COOLING}){condition} ORDER BY finished_at DESC LIMIT $1"
        );
        let limit = limit as i64;
        self.with(|c| {
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![&limit];
            if let Some(a) = &args {
                params.extend(a.params());
            }
            let rows = c.query(&sql, &params)?;
            Ok(rows
                .iter()
                .map(|r| FailedTask {
                    exchange: r.get(0),
                    symbol: r.get(1),
                    day: r.get(2),
                    attempts: r.get::<_, i32>(3) as u32,
                    error: r.get(4),
                    again_at: r.get::<_, Option<i64>>(5).map(|t| self.local_time(t)),
                    rounds: r.get::<_, i32>(6) as u32,
                })
                .collect())
        })
    }

    pub fn cooling(&self, sel: Option<&Selection>) -> Result<(u64, Option<i64>)> {
        let (condition, args) = super::counts::in_selection(sel, 1);
        let sql = match sel {
            // Every one: how many from the counts, the first by one probe of the index.
            None => formatcp!(
                "SELECT (SELECT coalesce(sum(n), 0)::bigint FROM task_count_shards WHERE state = {COOLING}),
                        (SELECT min(next_attempt_at) FROM tasks WHERE state = {COOLING})"
            )
            .to_string(),
            Some(_) => format!("SELECT count(*), min(next_attempt_at) FROM tasks WHERE state = {COOLING}{condition}"),
        };
        self.with(|c| {
            let mut params: Vec<&(dyn ToSql + Sync)> = vec![];
            if let Some(a) = &args {
                params.extend(a.params());
            }
            let r = c.query_one(&sql, &params)?;
            let first: Option<i64> = r.get(1);
            Ok((r.get::<_, i64>(0) as u64, first.map(|t| self.local_time(t))))
        })
    }

    pub fn pairs(&self) -> Result<Vec<(Pair, Vec<String>)>> {
        self.with(|c| {
            // The prices' pairs by a loose index scan (one probe of the
            // primary key per distinct pair, however many prices), the
            // queue's (with their intervals) from its counts; each pair's
            // first and last task at each interval by the (exchange,
            // symbol, interval, day) index, the first and last of those by
            // day kept. A pair whose count rows are all that is left of its
            // tasks has no first task.
            let rows = c.query(
                formatcp!(
                    "{PRICE_PAIRS}
                     SELECT a.e, a.s, (array_agg(first.source ORDER BY first.day))[1],
                            (array_agg(last.source ORDER BY last.day DESC NULLS LAST))[1], bool_or(a.priced)
                     FROM (SELECT e, s, NULL::text AS i, true AS priced FROM pairs
                           UNION ALL SELECT DISTINCT exchange, symbol, interval, false FROM task_count_shards) a
                     LEFT JOIN LATERAL (SELECT source, day FROM tasks WHERE exchange = a.e AND symbol = a.s
                                        AND interval = a.i ORDER BY day LIMIT 1) first ON true
                     LEFT JOIN LATERAL (SELECT source, day FROM tasks WHERE exchange = a.e AND symbol = a.s
                                        AND interval = a.i ORDER BY day DESC LIMIT 1) last ON true
                     GROUP BY a.e, a.s ORDER BY a.e, a.s"
                ),
                &[],
            )?;
            let mut out = Vec::new();
            for r in rows {
                let (first, last): (Option<String>, Option<String>) = (r.get(2), r.get(3));
                let mut sources: Vec<String> = first.into_iter().chain(last).collect();
                sources.dedup();
                if r.get::<_, bool>(4) || !sources.is_empty() {
                    out.push((Pair::new(r.get::<_, String>(0), r.get::<_, String>(1)), sources));
                }
            }
            Ok(out)
        })
    }

    pub fn day_bounds(&self, pairs: &[Pair]) -> Result<Option<(NaiveDate, NaiveDate)>> {
        let (exchanges, symbols): (Vec<&str>, Vec<&str>) =
            pairs.iter().map(|p| (p.exchange.as_str(), p.symbol.as_str())).unzip();
        self.with(|c| {
            // Each pair's ends by its index, one probe each (at each interval).
            let r = c.query_one(
                "SELECT min(b.lo), max(b.hi) FROM unnest($1::text[], $2::text[]) AS p(e, s),
                 LATERAL (SELECT min(day) AS lo, max(day) AS hi FROM unnest($3::text[]) AS i(iv),
                                 LATERAL (SELECT min(day) AS day FROM tasks
                                          WHERE exchange = p.e AND symbol = p.s AND interval = i.iv
                                          UNION ALL
                                          SELECT max(day) FROM tasks
                                          WHERE exchange = p.e AND symbol = p.s AND interval = i.iv) t
                          UNION ALL
                          SELECT min(day), max(day) FROM prices WHERE exchange = p.e AND symbol = p.s) b",
                &[&exchanges, &symbols, &crate::interval::Interval::ALL.map(|i| i.name()).to_vec()],
            )?;
            let (lo, hi): (Option<NaiveDate>, Option<NaiveDate>) = (r.get(0), r.get(1));
            Ok(lo.zip(hi))
        })
    }

    pub fn for_each_price(&self, sel: &Selection, mut each: impl FnMut(PriceRow) -> Result<()>) -> Result<()> {
        self.stream(
            "SELECT p.exchange, p.symbol, pr.day, pr.open, pr.high, pr.low, pr.close, pr.volume, pr.fetched_at
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(exchange, symbol, ord)
             JOIN prices pr ON pr.exchange = p.exchange AND pr.symbol = p.symbol AND pr.day BETWEEN $3 AND $4
             WHERE $5 = '1d'
             ORDER BY p.ord, pr.day",
            sel,
            |r| {
                each(PriceRow {
                    exchange: r.get(0),
                    symbol: r.get(1),
                    day: r.get(2),
                    price: Price { open: r.get(3), high: r.get(4), low: r.get(5), close: r.get(6), volume: r.get(7) },
                    fetched_at: iso(r.get(8)),
                })
            },
        )
    }

    pub fn for_each_cell(
        &self,
        sel: &Selection,
        mut each: impl FnMut(&str, &str, NaiveDate, Option<Reason>) -> Result<()>,
    ) -> Result<()> {
        let now = self.db_time(crate::clock::now_ms());
        self.stream(
            "SELECT p.exchange, p.symbol, d.day, pr.day IS NOT NULL, t.state, t.attempts, t.last_error,
                    t.next_attempt_at, t.rounds
             FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(exchange, symbol, ord)
             CROSS JOIN LATERAL (SELECT g::date AS day FROM generate_series($3::date, $4::date, interval '1 day') g) d
             LEFT JOIN tasks t ON t.exchange = p.exchange AND t.symbol = p.symbol AND t.interval = $5
                                  AND t.day = d.day
             LEFT JOIN prices pr ON pr.exchange = p.exchange AND pr.symbol = p.symbol AND pr.day = d.day AND $5 = '1d'
             ORDER BY p.ord, d.day",
            sel,
            |r| {
                let priced: bool = r.get(3);
                let state: Option<TaskState> = r.try_get(4)?;
                let why = match (priced, state) {
                    (true, _) => None,
                    (false, None) => Some(Reason::NotQueued),
                    (false, Some(state)) => {
                        let attempts = r.get::<_, i32>(5) as u32;
                        let at = self.local_time(r.get(7));
                        let rounds = r.get::<_, i32>(8) as u32;
                        Some(crate::life::reason(state, attempts, r.get(6), at, rounds, self.local_time(now)))
                    }
                };
                each(r.get(0), r.get(1), r.get(2), why)
            },
        )
    }

    /// Streams the rows of `sql` (parameters: the selection's pairs as two
    /// arrays, its first and last day, its interval) to `each`, in one read-only
    /// snapshot. Not run again on a lost connection: rows already passed
    /// on would be passed twice.
    fn stream(&self, sql: &str, sel: &Selection, mut each: impl FnMut(&Row) -> Result<()>) -> Result<()> {
        let (exchanges, symbols) = sel.columns();
        let mut client = self.pool.get().context("connecting to PostgreSQL")?;
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| describe(e, ""))?;
        let params: [&(dyn ToSql + Sync); 5] = [&exchanges, &symbols, &sel.from, &sel.to, &sel.interval.name()];
        let mut rows = tx.query_raw(sql, params).map_err(|e| describe(e, ""))?;
        while let Some(row) = rows.next().map_err(|e| describe(e, ""))? {
            each(&row)?;
        }
        drop(rows);
        tx.commit().map_err(|e| describe(e, ""))
    }
}
