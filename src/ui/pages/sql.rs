//! `GET /sql`: the SQL box (its statements run in `actions.rs`).

use axum::extract::State;
use maud::{html, Markup};

use super::frame::{page, snapshot};
use crate::ui::{App, PageError};

/// `GET /sql`: a box for one read-only statement.
pub async fn sql(State(app): State<App>) -> Result<Markup, PageError> {
    let s = snapshot(&app).await?;
    let example =
        "SELECT exchange, symbol, count(*) AS days, min(day), max(day)\nFROM prices GROUP BY exchange, symbol";
    let body = html! {
        h1 { "SQL" }
        p { "One read-only statement, as " code { "pricequeue sql" } " runs it: anything that could change the \
             database is refused, and it stops after " (humantime::format_duration(app.sql_timeout)) "." }
        form #sql-form {
            textarea name="sql" rows="6" spellcheck="false" aria-label="SQL statement" { (example) }
            div.run { button type="submit" { "Run" } span.hint { "one statement; its first " (crate::ui::actions::SQL_ROWS) " rows are shown" } }
        }
        p.result #sql-status role="status" {}
        div #sql-result {}
    };
    Ok(page(&app, "sql", "sql", &s, body))
}
