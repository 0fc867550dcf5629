//! `GET /prices`: the chart of one (exchange, symbol), its missing days,
//! and a link to its prices as CSV.

use axum::extract::{Query, State};
use maud::{html, Markup, PreEscaped};
use serde::Deserialize;

use super::frame::{page, snapshot};
use crate::selection::Pair;
use crate::ui::selection::ReportSelectionQuery;
use crate::ui::{App, PageError};

/// The prices page's address: a selection, and the chart's style.
#[derive(Debug, Default, Deserialize)]
pub struct PricesQuery {
    #[serde(flatten)]
    pub selection: ReportSelectionQuery,
    #[serde(default)]
    pub style: String,
}

/// `GET /prices`: a chart of one (exchange, symbol), with its gaps.
pub async fn prices(State(app): State<App>, Query(q): Query<PricesQuery>) -> Result<Markup, PageError> {
    let s = snapshot(&app).await?;
    let candles = q.style == "candles";
    let style_name = if candles { "candles" } else { "line" };
    let style = html! {
            label { "style "
                select name="style" {
                    option value="line" selected[!candles] { "close, a line" }
                    option value="candles" selected[candles] { "open, high, low, close" }
                }
            }
    };
    let asked = q.selection;
    let chart = app
        .blocking(move |store| {
            let asked = asked.or_latest_pair(store)?;
            // One pair: the first the address leaves (the one fetched
            // last, when it names none).
            let Some(sel) = asked.resolve(store)? else {
                return Ok(asked.is_set().then_some((asked, None)));
            };
            let Some(Pair { exchange, symbol }) = sel.pairs.first().cloned() else { return Ok(None) };
            let one = ReportSelectionQuery { exchange, symbol, ..asked };
            let Some(sel) = one.resolve(store)? else { return Ok(Some((one, None))) };
            let data = crate::report::chart::ChartData::load_at(
                store,
                &one.exchange,
                &one.symbol,
                (sel.from, sel.to),
                sel.interval,
            )?;
            let style = if candles { crate::report::chart::Style::Candles } else { crate::report::chart::Style::Line };
            let svg = crate::report::chart::svg(&data, style, (960, 420))?;
            Ok(Some((one, Some((sel, data, svg)))))
        })
        .await?;
    let form = match &chart {
        Some((one, shown)) => one.form("/prices", shown.as_ref().map(|c| &c.0), style),
        None => ReportSelectionQuery::default().form("/prices", None, style),
    };
    let body = html! {
        h1 { "Prices" }
        (form)
        @match &chart {
            None => p.note { "No prices or tasks yet." },
            Some((one, None)) => p.note { "Nothing stored or queued for "
                (if one.exchange.is_empty() || one.symbol.is_empty() { "this selection".to_string() }
                 else { format!("{} {}", one.exchange, one.symbol) }) " in that range." },
            Some((_, Some((sel, data, svg)))) => {
                p { (data.exchange) " " (data.symbol) ", " (sel.from) " to " (sel.to) ": "
                    @match &data.candles {
                        None => { (data.prices.len()) " prices, " }
                        Some(c) => { (c.candles.len()) " " (c.interval) " candles, " }
                    }
                    (data.missing.len()) " days missing. "
                    a #csv href={ "/prices.csv?exchange=" (urlencode(&data.exchange)) "&symbol=" (urlencode(&data.symbol))
                                  "&from=" (sel.from) "&to=" (sel.to) "&interval=" (sel.interval) } download { "Download as CSV" } }
                figure #chart { (PreEscaped(svg)) }
                p.zoom { (zoom(&data.exchange, &data.symbol, sel, style_name)) }
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

/// Links to the same chart over half the days (its middle) and over twice
/// as many (around it): below a day, zooming in down to one day shows
/// each candle, as the chart has a column a pixel.
fn zoom(exchange: &str, symbol: &str, sel: &crate::selection::Selection, style: &str) -> Markup {
    let days = (sel.to - sel.from).num_days() + 1;
    let link = |from: chrono::NaiveDate, to: chrono::NaiveDate| {
        format!(
            "/prices?exchange={}&symbol={}&from={from}&to={to}&interval={}&style={style}",
            urlencode(exchange),
            urlencode(symbol),
            sel.interval
        )
    };
    let quarter = chrono::Duration::days(days / 4);
    let half = chrono::Duration::days(days / 2).max(chrono::Duration::days(1));
    html! {
        @if days >= 4 { a #zoom-in href=(link(sel.from + quarter, sel.to - quarter)) { "Zoom in" } " " }
        @else if days > 1 { a #zoom-in href=(link(sel.from, sel.from)) { "Zoom in" } " " }
        a #zoom-out href=(link(sel.from - half, sel.to + half)) { "Zoom out" }
    }
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
