//! `pricequeue ui`: a web page to watch and steer a long fetch, and to
//! look at the prices, served for the database `--db` names.
//!
//! The HTTP side is axum on a small tokio runtime that lives only inside
//! this command; every store call runs on the runtime's blocking threads
//! (the store is synchronous, and its PostgreSQL client must not run on
//! an async thread). Pages are HTML made with maud, which escapes every
//! value; the page's script, styles and icon are compiled into the binary.

mod actions;
mod guard;
mod live;
mod pages;
mod selection;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::watch;

use crate::store::{self, Store};

pub use guard::random_token;

/// How the page is served.
pub struct Options {
    pub addr: SocketAddr,
    /// Required of every request; `None` on loopback means none.
    pub token: Option<String>,
    pub read_only: bool,
    /// How long a statement of the SQL box may run.
    pub sql_timeout: Duration,
}

/// What every handler shares.
#[derive(Clone)]
pub struct App {
    store: Arc<Store>,
    /// How to open the database, for the SQL box (it opens its own
    /// read-only connection, as `sql` does).
    options: Arc<store::Options>,
    guard: Arc<guard::Guard>,
    sql_timeout: Duration,
    /// Statements of the SQL box running at once, at most two: each holds
    /// a connection of its own for up to `sql_timeout`.
    sql_turns: Arc<tokio::sync::Semaphore>,
    /// The latest counts, for the live pages.
    live: watch::Receiver<live::Snapshot>,
    /// Set when the server stops: live pages end their streams.
    stop: watch::Receiver<bool>,
}

/// The page's script, styles and icon, compiled in.
const APP_JS: &str = include_str!("../../assets/ui/app.js");
const APP_CSS: &str = include_str!("../../assets/ui/app.css");
const FAVICON: &str = include_str!("../../assets/ui/favicon.svg");

/// Serves the page until `stopping` is set (Ctrl-C); `listening` is told
/// the address once the socket is bound.
pub fn serve(
    store: Store,
    store_options: store::Options,
    options: Options,
    stopping: &'static AtomicBool,
    listening: impl FnOnce(SocketAddr, Option<&str>),
) -> Result<()> {
    let listener = std::net::TcpListener::bind(options.addr).with_context(|| {
        format!("listening on {} (is another program using that port? try --addr 127.0.0.1:0)", options.addr)
    })?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let guard = guard::Guard::new(addr, options.token.clone(), options.read_only);
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().context("starting the page's runtime")?;
    let store = Arc::new(store);
    let (publish, live) = watch::channel(live::Snapshot::default());
    let (stop_tx, stop) = watch::channel(false);
    let app = App {
        store: store.clone(),
        options: Arc::new(store_options),
        guard: Arc::new(guard),
        sql_timeout: options.sql_timeout,
        sql_turns: Arc::new(tokio::sync::Semaphore::new(2)),
        live,
        stop: stop.clone(),
    };
    listening(addr, options.token.as_deref());
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::spawn(live::poll(store, publish, stop.clone()));
        tokio::spawn(async move {
            while !stopping.load(Ordering::Relaxed) {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let _ = stop_tx.send(true);
        });
        let mut stopped = stop.clone();
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await
            .context("serving the page")
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

fn router(app: App) -> Router {
    Router::new()
        .route("/", get(pages::progress))
        .route("/events", get(live::events))
        .route("/failures", get(pages::failures))
        .route("/coverage", get(pages::coverage))
        .route("/prices", get(pages::prices))
        .route("/prices.csv", get(actions::prices_csv))
        .route("/sql", get(pages::sql).post(actions::sql))
        .route("/retry", post(actions::retry))
        .route("/assets/app.js", get(|| asset("text/javascript; charset=utf-8", APP_JS)))
        .route("/assets/app.css", get(|| asset("text/css; charset=utf-8", APP_CSS)))
        .route("/favicon.ico", get(|| asset("image/svg+xml", FAVICON)))
        .fallback(|| async { (StatusCode::NOT_FOUND, "no such page\n") })
        .layer(axum::middleware::from_fn_with_state(app.clone(), guard::check))
        .with_state(app)
}

async fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "max-age=3600")], body).into_response()
}

/// An error inside a handler (the store's, or a usage error in what was
/// asked), answered as text: 400 for a usage error, 500 otherwise. Not a
/// task's failure: nothing here is stored.
pub struct PageError(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = if self.0.downcast_ref::<crate::error::Usage>().is_some() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{:#}\n", self.0)).into_response()
    }
}

impl App {
    /// Runs `f` with the store on a blocking thread.
    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T> + Send + 'static,
    ) -> Result<T, PageError> {
        let store = self.store.clone();
        Ok(tokio::task::spawn_blocking(move || f(&store)).await.context("a page's database work stopped")??)
    }
}

#[cfg(test)]
mod tests;
