//! The failures page, and how it groups failed tasks by their error.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use maud::{html, Markup};

use super::frame::{exchange, page, snapshot};
use crate::store::{FailedTask, TaskState};
use crate::ui::selection::ReportSelectionQuery;
use crate::ui::{App, Failure};

/// Failed tasks listed on the failures page (the newest); the counts
/// cover them all.
const FAILURES_LISTED: usize = 1000;

/// `GET /failures`: failed tasks grouped by error, with Retry buttons.
pub async fn failures(State(app): State<App>, Query(asked): Query<ReportSelectionQuery>) -> Result<Markup, Failure> {
    let s = snapshot(&app).await?;
    let (failed, sel, sources, asked) = app
        .blocking(move |store| {
            let sel = if asked.is_set() { asked.resolve(store)? } else { None };
            // A selection that holds nothing lists no failure (not every one).
            let failed = match (&sel, asked.is_set()) {
                (None, true) => Vec::new(),
                _ => store.failures(sel.as_ref(), FAILURES_LISTED)?,
            };
            let sources: HashMap<(String, String), String> =
                store.pair_sources()?.into_iter().map(|(e, s, source)| ((e, s), source)).collect();
            Ok((failed, sel, sources, asked))
        })
        .await?;
    let form = asked.form("/failures", sel.as_ref(), html! {});
    let source = |f: &FailedTask| sources.get(&(f.exchange.clone(), f.symbol.clone())).map(String::as_str);
    let mut groups: BTreeMap<&str, Vec<&FailedTask>> = BTreeMap::new();
    for f in &failed {
        groups.entry(error_kind(&f.error)).or_default().push(f);
    }
    let mut groups: Vec<(&str, Vec<&FailedTask>)> = groups.into_iter().collect();
    groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    let read_only = app.guard.read_only;
    let transient = failed.iter().filter(|f| f.again_at.is_some()).count();
    let body = html! {
        h1 { "Failures" }
        (form)
        p {
            (s.counts.failed + s.counts.cooling) " failed tasks in all"
            @if let Some(sel) = &sel { "; listed: those of " (sel.describe()) }
            @if failed.len() == FAILURES_LISTED { "; the newest " (FAILURES_LISTED) " are listed" }
            "."
            @if transient > 0 {
                " Of those listed, " (transient) " failed on transient errors (server errors, timeouts): \
                they cool down, and a later run asks again; the permanent ones need a person."
            }
        }
        @if !read_only && s.counts.failed + s.counts.cooling > 0 {
            p {
                @match &sel {
                    // What was asked, resolved again by the same rule on the server.
                    Some(sel) => button.retry type="button" data-scope="all" data-exchange=(asked.exchange)
                        data-symbol=(asked.symbol) data-source=(asked.source) data-from=(sel.from) data-to=(sel.to) {
                        "Retry every failed task of " (sel.describe()) },
                    None => button.retry type="button" data-scope="all" { "Retry every failed task" },
                }
            }
        }
        p.result #retry-result role="status" {}
        @for (error, tasks) in &groups {
            section.group {
                h2 { code { (error) } }
                p { (crate::words::plural(tasks.len() as u64, "task", "tasks"))
                    // The request the newest one was about (its secrets masked, as stored).
                    @if let Some(first) = tasks.first().filter(|f| f.error.len() > error.len()) {
                        "; the newest: " code.request { (first.error[..first.error.len() - error.len()].trim_end_matches(": ")) } } }
                table.failed {
                    thead { tr { th { "exchange" } th { "symbol" } th { "day" } th.num { "attempts" } th { "state" }
                                 @if !read_only { th {} th {} } } }
                    tbody {
                        @for f in tasks {
                            tr data-exchange=(f.exchange) data-symbol=(f.symbol) data-day=(f.day) {
                                td { (exchange(&f.exchange, source(f))) } td { (f.symbol) } td { (f.day) } td.num { (f.attempts) }
                                @match f.again_at {
                                    Some(at) => td.state.transient title="failed on transient errors: no person needed yet" {
                                        (TaskState::Failed) ", transient: asked again from " (crate::clock::show(at)) },
                                    None => td.state.permanent title="a person is needed: retry once the cause is mended" {
                                        (TaskState::Failed) ", permanent" },
                                }
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
