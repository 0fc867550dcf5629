//! The frame every page sits in: its head, the navigation, and the strip
//! of live counts that the page's script keeps current.

use maud::{html, Markup, DOCTYPE};

use crate::store::{StateCounts, TaskState};
use crate::ui::live::{self, Snapshot};
use crate::ui::{App, PageError};

/// The frame of every page: its head, the navigation and the live counts.
pub(super) fn page(app: &App, title: &str, id: &str, counts: &Snapshot, body: Markup) -> Markup {
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
                div class={ "tile st-" (state) } title=(state.words()) {
                    span.label { (tile_words(state)) }
                    span.n #{ "count-" (state) } data-count=(state) { (n) }
                }
            }
            div.tile.st-total {
                span.label { "total" }
                span.n #count-total data-count="total" { (s.total) }
            }
            (bar(&s.counts, Some("bar")))
            p #rate { (rate_line(s)) }
            @if let Some(e) = &s.error { p.error #counts-error { (e) } }
        }
    }
}

/// A state as its tile says it: short, so the strip keeps to one line.
pub(super) fn tile_words(state: TaskState) -> &'static str {
    match state {
        TaskState::OutsideHistory => "outside history",
        other => other.words(),
    }
}

/// "1,234.5 tasks/s; about 5 min left", or that nothing runs.
fn rate_line(s: &Snapshot) -> String {
    if !s.working {
        return "no work running".into();
    }
    let eta = s
        .eta_secs
        .map(|secs| format!("; about {} left", humantime::format_duration(std::time::Duration::from_secs(secs))));
    format!("{:.1} tasks/s{}", s.rate, eta.unwrap_or_default())
}

/// The counts now, read for a page's first view.
pub(super) async fn snapshot(app: &App) -> Result<Snapshot, PageError> {
    app.blocking(|store| Ok(live::read(store, &mut live::Reader::default(), std::time::Instant::now()))).await
}

/// An exchange's name, and the source it is fetched from where that is not
/// the same name (`kraken via cryptodb`; `binance` is binance's own).
pub(super) fn exchange(exchange: &str, source: Option<&str>) -> Markup {
    html! {
        (exchange)
        @if let Some(source) = source.filter(|s| *s != exchange) { " " span.via { "via " (source) } }
    }
}

/// The finished states, in the order a bar draws them, each in its colour:
/// a pair whose every task failed is a red bar, not a full one. A task
/// cooling down is drawn as a failure, beside the failed ones.
const BAR: [TaskState; 6] = [
    TaskState::Done,
    TaskState::NoData,
    TaskState::OutsideHistory,
    TaskState::Cooling,
    TaskState::Failed,
    TaskState::Abandoned,
];
/// A bar's length in its own units; the page stretches it.
const BAR_UNITS: u64 = 1000;

/// A bar of a pair's (or the queue's) tasks: a segment per finished
/// state, the rest (still to run) left empty. SVG, since the page's
/// Content-Security-Policy allows no style attributes; the page's
/// script redraws it (`drawBar` in app.js) as the counts change.
pub(super) fn bar(counts: &StateCounts, id: Option<&str>) -> Markup {
    let total = counts.total();
    let mut x = 0;
    let segments: Vec<(TaskState, u64, u64)> = BAR
        .iter()
        .map(|&state| {
            let width = (counts[state] * BAR_UNITS).checked_div(total).unwrap_or(0);
            x += width;
            (state, x - width, width)
        })
        .collect();
    let words = bar_words(counts);
    html! {
        svg.bar id=[id] viewBox={ "0 0 " (BAR_UNITS) " 10" } preserveAspectRatio="none" role="img" aria-label=(words) {
            title { (words) }
            @for (state, x, width) in segments {
                rect class={ "s-" (state) } data-state=(state) x=(x) y="0" width=(width) height="10" {}
            }
        }
    }
}

/// What a bar says in words: "18 done, 5 no data, 8 failed of 31 tasks".
fn bar_words(counts: &StateCounts) -> String {
    let parts: Vec<String> =
        BAR.iter().filter(|s| counts[**s] > 0).map(|s| format!("{} {}", counts[*s], s.words())).collect();
    let finished = if parts.is_empty() { "none finished".to_string() } else { parts.join(", ") };
    format!("{finished} of {}", crate::words::plural(counts.total(), "task", "tasks"))
}
