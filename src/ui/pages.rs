//! The pages, as HTML: progress, failures, coverage, prices and SQL. Each
//! reads what it shows in one call to the store; the first view reads
//! only counts, so it is as fast on a million tasks as on ten.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use chrono::NaiveDate;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use serde::Deserialize;

use super::live::{self, Snapshot};
use super::{App, Failure};
use crate::cli::ReportSelectionArgs;
use crate::report::{Bucket, Day, DayCounts};
use crate::resolve;
use crate::selection::Selection;
use crate::store::{FailedTask, Store};

/// The states, in the order every view lists them.
pub const STATES: [&str; 7] = ["queued", "not_yet_due", "in_progress", "done", "no_data", "failed", "abandoned"];

/// Failed tasks listed on the failures page (the newest); the counts
/// cover them all.
const FAILURES_LISTED: usize = 1000;
/// Rows of the coverage grid, at most; a filter shows others.
const GRID_ROWS: usize = 200;
/// Columns of the coverage grid, at most.
const GRID_COLUMNS: usize = 120;

/// A selection as the address gives it: names separated by commas, days
/// as the command line writes them.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default)]
    pub exchange: String,
    #[serde(default)]
    pub symbol: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl Filter {
    /// The selection this names, the rest filled in from the database as a
    /// report's flags are; `None` when nothing is stored or queued for it.
    pub fn selection(&self, store: &Store) -> anyhow::Result<Option<Selection>> {
        let names = |s: &str| s.split(',').map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect();
        let day = |s: &str, what: &str| -> anyhow::Result<_> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            crate::dates::parse_span(s.trim())
                .map(Some)
                .map_err(|e| crate::error::Usage(format!("{what} {s:?}: {e}")).into())
        };
        let args = ReportSelectionArgs {
            exchanges: names(&self.exchange),
            symbols: names(&self.symbol),
            from: day(&self.from, "from")?,
            to: day(&self.to, "to")?,
        };
        resolve::report_selection(store, &args)
    }
}

/// The frame of every page: its head, the navigation and the live counts.
fn page(app: &App, title: &str, id: &str, counts: &Snapshot, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(app.guard.csrf);
                meta name="read-only" content=(app.guard.read_only);
                title { "pricequeue · " (title) }
                link rel="icon" href="/favicon.ico" type="image/svg+xml";
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body data-page=(id) {
                header {
                    span.brand { "pricequeue" }
                    span.db title="the database" { (app.store.location()) }
                    nav {
                        @for (href, name, page) in [("/", "Progress", "progress"), ("/failures", "Failures", "failures"),
                                                   ("/coverage", "Coverage", "coverage"), ("/prices", "Prices", "prices"),
                                                   ("/sql", "SQL", "sql")] {
                            a href=(href) aria-current=[(page == id).then_some("page")] { (name) }
                        }
                    }
                    @if app.guard.read_only { span.badge { "read-only" } }
                }
                (tiles(counts))
                main { (body) }
            }
        }
    }
}

/// Tasks by state, the rate and the time left: the strip on every page,
/// kept current by the page's script.
fn tiles(s: &Snapshot) -> Markup {
    html! {
        section #counts {
            @for (state, n) in s.counts.by_state() {
                div class={ "tile st-" (state) } {
                    span.label { (state.replace('_', " ")) }
                    span.n #{ "count-" (state) } data-count=(state) { (n) }
                }
            }
            div.tile.st-total {
                span.label { "total" }
                span.n #count-total data-count="total" { (s.total) }
            }
            progress #bar max=(s.total.max(1)) value=(s.counts.finished()) {}
            p #rate { (rate_line(s)) }
            @if let Some(e) = &s.error { p.error #counts-error { (e) } }
        }
    }
}

/// "1,234.5 tasks/s; about 5 min left", or that nothing runs.
pub fn rate_line(s: &Snapshot) -> String {
    if !s.working {
        return "no work running".into();
    }
    let eta = s
        .eta_secs
        .map(|secs| format!("; about {} left", humantime::format_duration(std::time::Duration::from_secs(secs))));
    format!("{:.1} tasks/s{}", s.rate, eta.unwrap_or_default())
}

/// The counts now, read for a page's first view.
async fn snapshot(app: &App) -> Result<Snapshot, Failure> {
    app.blocking(|store| Ok(live::read(store, &mut live::Rate::default(), std::time::Instant::now()))).await
}

/// `GET /`: tasks by state, and a row per (exchange, symbol).
pub async fn progress(State(app): State<App>) -> Result<Markup, Failure> {
    let mut s = app.live.borrow().clone();
    if s.total == 0 && s.error.is_none() {
        // Before the first reading (or an empty queue): read now.
        s = snapshot(&app).await?;
    }
    let body = html! {
        h1 { "Progress" }
        @if s.total == 0 {
            p.note { "No tasks yet: `pricequeue fetch` queues and fetches some." }
        }
        table #pairs {
            thead { tr {
                th { "exchange" } th { "symbol" }
                @for state in STATES { th.num { (state.replace('_', " ")) } }
                th { "finished" }
            } }
            tbody {
                @for p in &s.pairs {
                    tr data-exchange=(p.exchange) data-symbol=(p.symbol) {
                        td { (p.exchange) } td { (p.symbol) }
                        @for (state, n) in p.counts.by_state() { td.num data-count=(state) { (n) } }
                        td { progress max=(p.counts.total().max(1)) value=(p.counts.finished()) {} }
                    }
                }
            }
        }
    };
    Ok(page(&app, "progress", "progress", &s, body))
}

/// `GET /failures`: failed tasks grouped by error, with Retry buttons.
pub async fn failures(State(app): State<App>, Query(filter): Query<Filter>) -> Result<Markup, Failure> {
    let s = snapshot(&app).await?;
    let form = filter_form("/failures", &filter, html! {});
    let (failed, sel) = app
        .blocking(move |store| {
            let sel = if filter_is_set(&filter) { filter.selection(store)? } else { None };
            let failed = store.failures(sel.as_ref(), FAILURES_LISTED)?;
            Ok((failed, sel))
        })
        .await?;
    let mut groups: BTreeMap<&str, Vec<&FailedTask>> = BTreeMap::new();
    for f in &failed {
        groups.entry(error_kind(&f.error)).or_default().push(f);
    }
    let mut groups: Vec<(&str, Vec<&FailedTask>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let read_only = app.guard.read_only;
    let body = html! {
        h1 { "Failures" }
        (form)
        p {
            (s.counts.failed) " failed tasks in all"
            @if let Some(sel) = &sel { "; listed: those of " (sel.describe()) }
            @if failed.len() == FAILURES_LISTED { "; the newest " (FAILURES_LISTED) " are listed" }
            "."
        }
        @if !read_only && s.counts.failed > 0 {
            p {
                @match &sel {
                    Some(sel) => button.retry type="button" data-scope="all" data-exchange=(sel.exchanges.join(","))
                        data-symbol=(sel.symbols.join(",")) data-from=(sel.from) data-to=(sel.to) {
                        "Retry every failed task of " (sel.describe()) },
                    None => button.retry type="button" data-scope="all" { "Retry every failed task" },
                }
            }
        }
        p.result #retry-result role="status" {}
        @for (error, tasks) in &groups {
            section.group {
                h2 { code { (error) } }
                p { (crate::report::plural(tasks.len() as u64, "task", "tasks")) }
                table.failed {
                    thead { tr { th { "exchange" } th { "symbol" } th { "day" } th.num { "attempts" } th { "state" }
                                 @if !read_only { th {} th {} } } }
                    tbody {
                        @for f in tasks {
                            tr data-exchange=(f.exchange) data-symbol=(f.symbol) data-day=(f.day) {
                                td { (f.exchange) } td { (f.symbol) } td { (f.day) } td.num { (f.attempts) }
                                td.state { "failed" }
                                @if !read_only {
                                    td { button.retry type="button" data-scope="task" data-exchange=(f.exchange)
                                         data-symbol=(f.symbol) data-day=(f.day) { "Retry" } }
                                    td { button.retry type="button" data-scope="pair" data-exchange=(f.exchange)
                                         data-symbol=(f.symbol) { "Retry the pair" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(page(&app, "failures", "failures", &s, body))
}

/// What groups failures: the error without the request it was about
/// ("GET http://host/price/e/s/2020-03-04: HTTP 502 (...)" is "HTTP 502
/// (...)"), so that one server error on many days is one group.
fn error_kind(error: &str) -> &str {
    match error.split_once(": ") {
        Some((request, rest)) if request.starts_with("GET ") => rest,
        _ => error,
    }
}

pub fn filter_is_set(f: &Filter) -> bool {
    !(f.exchange.is_empty() && f.symbol.is_empty() && f.from.is_empty() && f.to.is_empty())
}

/// The filter form of the coverage and prices pages.
fn filter_form(action: &str, f: &Filter, extra: Markup) -> Markup {
    html! {
        form.filter method="get" action=(action) {
            label { "exchange " input name="exchange" value=(f.exchange) placeholder="all"; }
            label { "symbol " input name="symbol" value=(f.symbol) placeholder="all"; }
            label { "from " input name="from" value=(f.from) placeholder="2020-03-01"; }
            label { "to " input name="to" value=(f.to) placeholder="2020-03-31"; }
            (extra)
            button type="submit" { "Show" }
        }
    }
}

/// One column of the coverage grid: its days, and for a column of one
/// day, why it has no price.
#[derive(Default, Clone)]
struct Column {
    counts: DayCounts,
    reason: Option<String>,
}

/// `GET /coverage`: the `coverage` grid, a cell per day, week or months.
pub async fn coverage(State(app): State<App>, Query(filter): Query<Filter>) -> Result<Markup, Failure> {
    let s = snapshot(&app).await?;
    let form = filter_form("/coverage", &filter, html! {});
    let grid = app
        .blocking(move |store| {
            let Some(mut sel) = filter.selection(store)? else { return Ok(None) };
            // At most GRID_ROWS rows: fewer exchanges, whole.
            let pairs = sel.exchanges.len() * sel.symbols.len();
            let all_pairs = pairs;
            if pairs > GRID_ROWS {
                sel.exchanges.truncate((GRID_ROWS / sel.symbols.len().max(1)).max(1));
                sel.symbols.truncate(GRID_ROWS);
            }
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
            store.for_each_cell(&sel, |exchange, symbol, day, reason| {
                if rows.last().is_none_or(|(e, s, _)| e != exchange || s != symbol) {
                    rows.push((exchange.to_string(), symbol.to_string(), vec![Column::default(); width]));
                }
                let i = (bucket.index(day) - first) as usize;
                if let Some(column) = rows.last_mut().and_then(|r| r.2.get_mut(i)) {
                    column.counts.add(Day::of(reason.as_ref()));
                    if bucket == Bucket::Day {
                        column.reason = reason.map(|r| r.to_string());
                    }
                }
                Ok(())
            })?;
            Ok(Some((sel, bucket, spans, rows, all_pairs)))
        })
        .await?;
    let body = html! {
        h1 { "Coverage" }
        (form)
        @match &grid {
            None => p.note { "Nothing stored or queued for this selection: every price of it is missing." },
            Some((sel, bucket, spans, rows, all_pairs)) => {
                p { (sel.describe()) "; " (bucket.describe())
                    @if rows.len() < *all_pairs { "; the first " (rows.len()) " of " (all_pairs) " rows (filter for others)" } }
                div.legend {
                    @for (class, what) in [("prices", "prices"), ("partial", "prices and no data"), ("nodata", "no data"),
                                           ("failed", "failed"), ("pending", "queued or in progress"),
                                           ("notyetdue", "not yet due"), ("abandoned", "abandoned"), ("notasked", "never asked")] {
                        span { span class={ "swatch c-" (class) } {} " " (what) }
                    }
                }
                table.grid {
                    thead { tr {
                        th { "exchange" } th { "symbol" }
                        @for (i, (a, _)) in spans.iter().enumerate() {
                            th.axis { @if i % 10 == 0 { (a.format("%Y-%m-%d")) } }
                        }
                    } }
                    tbody {
                        @for (exchange, symbol, columns) in rows {
                            tr {
                                th { (exchange) } th { (symbol) }
                                @for (column, (a, b)) in columns.iter().zip(spans.iter()) {
                                    td class={ "cell c-" (state_class(column.counts.state())) }
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

fn state_class(state: crate::report::State) -> &'static str {
    use crate::report::State;
    match state {
        State::Prices => "prices",
        State::Partial => "partial",
        State::NoData => "nodata",
        State::Failed => "failed",
        State::Pending => "pending",
        State::NotAsked => "notasked",
        State::NotYetDue => "notyetdue",
        State::Abandoned => "abandoned",
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

/// `GET /prices`: a chart of one (exchange, symbol), with its gaps.
#[derive(Debug, Default, Deserialize)]
pub struct PricesQuery {
    #[serde(flatten)]
    pub filter: Filter,
    #[serde(default)]
    pub style: String,
}

pub async fn prices(State(app): State<App>, Query(q): Query<PricesQuery>) -> Result<Markup, Failure> {
    let s = snapshot(&app).await?;
    let candles = q.style == "candles";
    let form = filter_form(
        "/prices",
        &q.filter,
        html! {
            label { "style "
                select name="style" {
                    option value="line" selected[!candles] { "close, a line" }
                    option value="candles" selected[candles] { "open, high, low, close" }
                }
            }
        },
    );
    let filter = Filter { exchange: q.filter.exchange.clone(), symbol: q.filter.symbol.clone(), ..Filter::default() };
    let (from, to) = (q.filter.from.clone(), q.filter.to.clone());
    let chart = app
        .blocking(move |store| {
            let (exchanges, symbols) = store.names()?;
            // One pair: the first named, or the first in the database.
            let exchange = filter
                .exchange
                .split(',')
                .map(str::trim)
                .find(|n| !n.is_empty())
                .map(String::from)
                .or_else(|| exchanges.first().cloned());
            let symbol = filter
                .symbol
                .split(',')
                .map(str::trim)
                .find(|n| !n.is_empty())
                .map(String::from)
                .or_else(|| symbols.first().cloned());
            let (Some(exchange), Some(symbol)) = (exchange, symbol) else { return Ok(None) };
            let one = Filter { exchange: exchange.clone(), symbol: symbol.clone(), from, to };
            let Some(sel) = one.selection(store)? else { return Ok(Some((one, None))) };
            let data = crate::report::chart::ChartData::load(store, &exchange, &symbol, sel.from, sel.to)?;
            let style = if candles { crate::report::chart::Style::Candles } else { crate::report::chart::Style::Line };
            let svg = crate::report::chart::svg(&data, style, (960, 420))?;
            Ok(Some((one, Some((sel, data, svg)))))
        })
        .await?;
    let body = html! {
        h1 { "Prices" }
        (form)
        @match &chart {
            None => p.note { "No prices or tasks yet." },
            Some((one, None)) => p.note { "Nothing stored or queued for " (one.exchange) " " (one.symbol) " in that range." },
            Some((_, Some((sel, data, svg)))) => {
                p { (data.exchange) " " (data.symbol) ", " (sel.from) " to " (sel.to) ": "
                    (data.prices.len()) " prices, " (data.missing.len()) " days missing. "
                    a #csv href={ "/prices.csv?exchange=" (urlencode(&data.exchange)) "&symbol=" (urlencode(&data.symbol))
                                  "&from=" (sel.from) "&to=" (sel.to) } download { "Download as CSV" } }
                figure #chart { (PreEscaped(svg)) }
                @if !data.missing.is_empty() {
                    h2 { "Missing days" }
                    table #missing {
                        thead { tr { th { "day" } th { "reason" } } }
                        tbody { @for (day, reason) in &data.missing { tr data-day=(day) { td { (day) } td { (reason) } } } }
                    }
                }
            }
        }
    };
    Ok(page(&app, "prices", "prices", &s, body))
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `GET /sql`: a box for one read-only statement.
pub async fn sql(State(app): State<App>) -> Result<Markup, Failure> {
    let s = snapshot(&app).await?;
    let example =
        "SELECT exchange, symbol, count(*) AS days, min(day), max(day)\nFROM prices GROUP BY exchange, symbol";
    let body = html! {
        h1 { "SQL" }
        p { "One read-only statement, as " code { "pricequeue sql" } " runs it: anything that could change the \
             database is refused, and it stops after " (humantime::format_duration(app.sql_timeout)) "." }
        form #sql-form {
            textarea name="sql" rows="6" spellcheck="false" { (example) }
            button type="submit" { "Run" }
        }
        p.result #sql-status role="status" {}
        div #sql-result {}
    };
    Ok(page(&app, "sql", "sql", &s, body))
}

#[cfg(test)]
mod tests {
    use super::error_kind;

    #[test]
    fn failures_group_by_the_error_not_the_request() {
        assert_eq!(
            error_kind("GET http://127.0.0.1:8080/price/kraken/btc/2020-03-04: HTTP 502 (gave up after 5 attempts)"),
            "HTTP 502 (gave up after 5 attempts)"
        );
        assert_eq!(error_kind("HTTP 404: no such exchange"), "HTTP 404: no such exchange");
    }
}
