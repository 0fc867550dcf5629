//! What the page asks besides pages: queueing failed tasks again, running
//! a statement of the SQL box, and the prices as CSV.

use std::io::Write;
use std::sync::atomic::AtomicBool;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::selection::ReportSelectionQuery;
use super::{App, PageError};
use crate::error::Usage;
use crate::report::{Format, Value};
use crate::selection::{Pair, Selection};
use crate::store;

/// Rows of a statement's result sent to the page, at most.
pub(super) const SQL_ROWS: usize = 1000;

/// Never set: a statement of the SQL box ends by its time limit.
static NEVER: AtomicBool = AtomicBool::new(false);

/// `POST /retry`: which failed tasks to queue again.
#[derive(Debug, Deserialize)]
pub struct Retry {
    /// `task` (one exchange, symbol and day), `pair` (every day of one
    /// exchange and symbol) or `all` (every failed task, or those of the
    /// page's selection).
    scope: String,
    #[serde(flatten)]
    selection: ReportSelectionQuery,
    #[serde(default)]
    day: String,
}

#[derive(Serialize)]
pub struct Retried {
    queued: usize,
}

pub async fn retry(State(app): State<App>, Form(r): Form<Retry>) -> Result<Json<Retried>, PageError> {
    let queued = app
        .blocking(move |store| {
            let one = |name: &str, what: &str| -> anyhow::Result<String> {
                let name = name.trim();
                if name.is_empty() || name.contains(',') {
                    anyhow::bail!(Usage(format!("retry of a {}: name one {what}", r.scope)));
                }
                Ok(name.to_string())
            };
            let sel = match r.scope.as_str() {
                "task" => {
                    let day = crate::dates::parse_day(r.day.trim())
                        .map_err(|e| Usage(format!("retry of a task: day {:?}: {e}", r.day)))?;
                    let (exchange, symbol) =
                        (one(&r.selection.exchange, "exchange")?, one(&r.selection.symbol, "symbol")?);
                    Some(Selection::one(&exchange, &symbol, day, day))
                }
                "pair" => {
                    let (exchange, symbol) =
                        (one(&r.selection.exchange, "exchange")?, one(&r.selection.symbol, "symbol")?);
                    let Some((from, to)) = store.day_bounds(&[Pair::new(&exchange, &symbol)])? else {
                        return Ok(0);
                    };
                    Some(Selection::one(&exchange, &symbol, from, to))
                }
                "all" if !r.selection.is_set() => None,
                "all" => match r.selection.resolve(store)? {
                    Some(sel) => Some(sel),
                    None => return Ok(0),
                },
                other => anyhow::bail!(Usage(format!("retry: scope {other:?} is not task, pair or all"))),
            };
            store.retry_failed(sel.as_ref(), false)
        })
        .await?;
    Ok(Json(Retried { queued }))
}

/// `POST /sql`: one statement of the user's.
#[derive(Debug, Deserialize)]
pub struct Statement {
    sql: String,
}

/// What the SQL box gets back for a statement: its columns and rows, or
/// its error.
#[derive(Default, Serialize)]
pub struct SqlAnswer {
    columns: Vec<String>,
    rows: Vec<Vec<serde_json::Value>>,
    /// Whether rows past [`SQL_ROWS`] were left out.
    truncated: bool,
    error: Option<String>,
}

pub async fn sql(State(app): State<App>, Json(s): Json<Statement>) -> Json<SqlAnswer> {
    let Ok(_turn) = app.sql_turns.clone().acquire_owned().await else {
        return Json(SqlAnswer { error: Some("the page is stopping".into()), ..SqlAnswer::default() });
    };
    let (options, timeout) = (app.options.clone(), app.sql_timeout);
    let ran = tokio::task::spawn_blocking(move || {
        let mut out = SqlAnswer::default();
        let mut columns = Vec::new();
        let result = store::run_readonly(
            &options,
            &s.sql,
            timeout,
            &NEVER,
            |names| {
                columns = names.to_vec();
                Ok(())
            },
            |row| {
                if out.rows.len() == SQL_ROWS {
                    out.truncated = true;
                    return Ok(());
                }
                out.rows.push(row.iter().map(json).collect());
                Ok(())
            },
        );
        out.columns = columns;
        if let Err(e) = result {
            out.error = Some(format!("{e:#}"));
        }
        out
    })
    .await;
    Json(ran.unwrap_or_else(|e| SqlAnswer {
        error: Some(format!("the statement's thread stopped: {e}")),
        ..SqlAnswer::default()
    }))
}

fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(x) => serde_json::Number::from_f64(*x).map_or_else(|| x.to_string().into(), Into::into),
        Value::Text(t) => t.clone().into(),
    }
}

/// `GET /prices.csv`: the selection's prices and missing cells, as
/// `query --format csv` writes them, sent as they are read: a selection of
/// millions of cells never sits in memory.
pub async fn prices_csv(
    State(app): State<App>,
    Query(asked): Query<ReportSelectionQuery>,
) -> Result<Response, PageError> {
    // The selection first, so that a bad one is a 400, not a cut-off file.
    let sel = app.blocking(move |store| asked.resolve(store)).await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Chunks { tx: tx.clone(), buffer: Vec::with_capacity(CHUNK) };
        let written = (|| -> anyhow::Result<()> {
            if let Some(sel) = sel {
                crate::report::query(&store, &sel, Format::Csv, false, crate::report::Listing::Spans, &mut out)?;
            }
            out.flush()?;
            Ok(())
        })();
        if let Err(e) = written {
            // The page has the file so far; this ends it as broken.
            let _ = tx.blocking_send(Err(std::io::Error::other(format!("{e:#}"))));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|chunk| (chunk, rx)) });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"prices.csv\""),
        ],
        axum::body::Body::from_stream(body),
    )
        .into_response())
}

/// Bytes of CSV sent to the page at a time.
const CHUNK: usize = 64 * 1024;

/// A writer that hands its bytes to the page's answer a chunk at a time,
/// waiting while the page reads; it fails once the page is gone, which
/// stops the report.
struct Chunks {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    buffer: Vec<u8>,
}

impl Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}
