//! The coverage page: the grid `pricequeue coverage` draws, in HTML, with
//! why a day has no price when one points at it.

use axum::extract::{Query, State};
use chrono::NaiveDate;
use maud::{html, Markup};

use super::frame::{page, snapshot};
use crate::life::Kind;
use crate::report::{Bucket, DayCounts, Mark};
use crate::ui::selection::ReportSelectionQuery;
use crate::ui::{App, PageError};

/// Rows of the coverage grid, at most; a narrower selection shows others.
const GRID_ROWS: usize = 200;
/// Columns of the coverage grid, at most.
const GRID_COLUMNS: usize = 120;
/// Labels on the grid's axis, at most: each over as many columns as it
/// takes, written across (never turned), so a reader reads them as dates.
const AXIS_LABELS: usize = 8;

/// One column of the coverage grid: its days, and for a column of one
/// day, why it has no price.
#[derive(Default, Clone)]
struct Column {
    counts: DayCounts,
    reason: Option<String>,
}

/// `GET /coverage`: the `coverage` grid, a cell per day, week or months.
pub async fn coverage(State(app): State<App>, Query(asked): Query<ReportSelectionQuery>) -> Result<Markup, PageError> {
    let s = snapshot(&app).await?;
    let (asked, grid) = app
        .blocking(move |store| {
            let asked = asked.or_latest_pair(store)?;
            let Some(mut sel) = asked.resolve(store)? else { return Ok((asked, None)) };
            // At most GRID_ROWS rows: the first pairs.
            let all_pairs = sel.pairs.len();
            sel.pairs.truncate(GRID_ROWS);
            let bucket = Bucket::choose(sel.from, sel.to, GRID_COLUMNS);
            let first = bucket.index(sel.from);
            let width = bucket.columns(sel.from, sel.to);
            // Each column's first and last day.
            let mut spans: Vec<(NaiveDate, NaiveDate)> = Vec::with_capacity(width);
            for day in sel.from.iter_days().take_while(|d| *d <= sel.to) {
                let i = (bucket.index(day) - first) as usize;
                if i == spans.len() {
                    spans.push((day, day));
                } else if let Some(span) = spans.get_mut(i) {
                    span.1 = day;
                }
            }
            let mut rows: Vec<(String, String, Vec<Column>)> = Vec::new();
            let mut add = |exchange: &str, symbol: &str, day: NaiveDate, kind: Kind, reason: Option<String>| {
                if rows.last().is_none_or(|(e, s, _)| e != exchange || s != symbol) {
                    rows.push((exchange.to_string(), symbol.to_string(), vec![Column::default(); width]));
                }
                let i = (bucket.index(day) - first) as usize;
                if let Some(column) = rows.last_mut().and_then(|r| r.2.get_mut(i)) {
                    column.counts.add(kind);
                    if bucket == Bucket::Day {
                        column.reason = reason;
                    }
                }
            };
            if sel.interval.is_day() {
                store.for_each_cell(&sel, |exchange, symbol, day, reason| {
                    add(exchange, symbol, day, Kind::of(reason.as_ref()), reason.map(|r| r.to_string()));
                    Ok(())
                })?;
            } else {
                // Below a day, a day's candles summed up, as `coverage` does.
                let now = crate::clock::now_ms();
                store.for_each_candle_day(&sel, |day| {
                    let gaps = crate::report::DayGaps::of(&day, sel.interval, now);
                    let words = (!gaps.runs.is_empty()).then(|| {
                        let lacks = gaps.describe(sel.interval, 2);
                        format!("{} of {} candles; {lacks}", gaps.stored, gaps.expected)
                    });
                    add(&day.pair.exchange, &day.pair.symbol, day.day, gaps.kind, words);
                    Ok(())
                })?;
            }
            Ok((asked, Some((sel, bucket, spans, rows, all_pairs))))
        })
        .await?;
    let form = asked.form("/coverage", grid.as_ref().map(|g| &g.0), html! {});
    let body = html! {
        h1 { "Coverage" }
        (form)
        @match &grid {
            None => p.note { "Nothing stored or queued for this selection: every price of it is missing." },
            Some((sel, bucket, spans, rows, all_pairs)) => {
                p { (sel.describe()) "; " (bucket.describe())
                    @if rows.len() < *all_pairs { "; the first " (rows.len()) " of " (all_pairs) " rows (filter for others)" }
                    @if *all_pairs == 1 { ". " a href="/coverage?exchange=all&symbol=all" { "Show every pair" } } }
                div.legend {
                    @for mark in Mark::ALL {
                        span { span class={ "swatch c-" (mark_class(mark)) } {} " " (legend_words(mark)) }
                    }
                }
                table.grid {
                    colgroup { col.name; col.name; @for _ in spans.iter() { col; } }
                    thead { tr {
                        th { "exchange" } th { "symbol" }
                        @for (at, span) in axis(spans.len()) {
                            th.axis colspan=(span) { (axis_label(*bucket, spans[at].0)) }
                        }
                    } }
                    tbody {
                        @for (exchange, symbol, columns) in rows {
                            tr {
                                th { (exchange) } th { (symbol) }
                                @for (column, (a, b)) in columns.iter().zip(spans.iter()) {
                                    td class={ "cell c-" (mark_class(column.counts.mark())) }
                                       data-from=(a) data-to=(b)
                                       data-reason=[column.reason.as_deref()]
                                       title=(cell_title(*a, *b, column)) {}
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&app, "coverage", "coverage", &s, body))
}

/// The axis's labels: where each starts and how many columns it spans,
/// at most [`AXIS_LABELS`] of them, the last one what is left.
fn axis(columns: usize) -> Vec<(usize, usize)> {
    let step = columns.div_ceil(AXIS_LABELS).max(1);
    (0..columns).step_by(step).map(|at| (at, step.min(columns - at))).collect()
}

/// A column's date as its bucket names it: a day, or a month.
fn axis_label(bucket: Bucket, first: NaiveDate) -> String {
    match bucket {
        Bucket::Day | Bucket::Week => first.format("%Y-%m-%d").to_string(),
        Bucket::Months(n) if n % 12 == 0 => first.format("%Y").to_string(),
        Bucket::Months(_) => first.format("%Y-%m").to_string(),
    }
}

/// The class that colours a cell of `mark` (`.c-...` in app.css).
pub(crate) fn mark_class(mark: Mark) -> &'static str {
    match mark {
        Mark::Prices => "prices",
        Mark::Partial => "partial",
        Mark::NoData => "nodata",
        Mark::OutsideHistory => "outside",
        Mark::Failed => "failed",
        Mark::Pending => "pending",
        Mark::NotAsked => "notasked",
        Mark::NotYetDue => "notyetdue",
        Mark::Abandoned => "abandoned",
    }
}

/// What the page's legend says of `mark`.
fn legend_words(mark: Mark) -> &'static str {
    match mark {
        Mark::Prices => "prices",
        Mark::Partial => "prices and none for good",
        Mark::NoData => "no data",
        Mark::OutsideHistory => "outside the source's history",
        Mark::Failed => "failed",
        Mark::Pending => "queued or in progress",
        Mark::NotYetDue => "not yet due",
        Mark::Abandoned => "abandoned",
        Mark::NotAsked => "never asked",
    }
}

/// What pointing at a cell says: its day and why it has no price, or its
/// days by what they hold.
fn cell_title(from: NaiveDate, to: NaiveDate, column: &Column) -> String {
    if from == to {
        match &column.reason {
            Some(reason) => format!("{from}: {reason}"),
            None => format!("{from}: price stored"),
        }
    } else {
        format!("{from} to {to}: {}", column.counts.line())
    }
}

#[cfg(test)]
mod tests {
    use super::axis;

    #[test]
    fn the_axis_labels_cover_every_column_once() {
        assert_eq!(axis(31), [(0, 4), (4, 4), (8, 4), (12, 4), (16, 4), (20, 4), (24, 4), (28, 3)]);
        assert_eq!(axis(3), [(0, 1), (1, 1), (2, 1)]);
        for n in 1..200 {
            let labels = axis(n);
            assert!(labels.len() <= super::AXIS_LABELS, "{n}");
            assert_eq!(labels.iter().map(|l| l.1).sum::<usize>(), n, "{n}");
        }
    }
}
