//! The frame every page sits in: its head, the navigation, and the strip
//! of live counts that the page's script keeps current.

use maud::{html, Markup, DOCTYPE};

use crate::ui::live::{self, Snapshot};
use crate::ui::{App, Failure};

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
                div class={ "tile st-" (state) } {
                    span.label { (state.words()) }
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
pub(super) async fn snapshot(app: &App) -> Result<Snapshot, Failure> {
    app.blocking(|store| Ok(live::read(store, &mut live::Rate::default(), std::time::Instant::now()))).await
}
