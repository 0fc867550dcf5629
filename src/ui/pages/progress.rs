//! The progress page, the first one sees: tasks by state, and by pair.

use axum::extract::State;
use maud::{html, Markup};

use super::frame::{bar, exchange, page, snapshot, tile_words};
use crate::store::TaskState;
use crate::ui::{App, PageError};

/// `GET /`: tasks by state, and a row per (exchange, symbol).
pub async fn progress(State(app): State<App>) -> Result<Markup, PageError> {
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
                @for state in TaskState::ALL { th.num title=(state.words()) { (tile_words(state)) } }
                th { "finished" }
            } }
            tbody {
                @for p in &s.pairs {
                    tr data-exchange=(p.exchange) data-symbol=(p.symbol) {
                        td { (exchange(&p.exchange, p.source.as_deref())) } td { (p.symbol) }
                        @for (state, n) in p.counts.by_state() { td.num data-count=(state) { (n) } }
                        td { (bar(&p.counts, None)) }
                    }
                }
            }
        }
    };
    Ok(page(&app, "progress", "progress", &s, body))
}
