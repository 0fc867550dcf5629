//! The price sources a command fetches from: the built-in ones, those
//! declared in a file (`--sources`), and, for `work`, those the queue's
//! tasks name, whose declarations the database keeps.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;

use super::{log, plural, Env};
use crate::error::Usage;
use crate::selection::Selection;
use crate::source::{self, Declarations, OpenError, PriceSource, Timeouts};
use crate::store::Store;

/// The declarations file's place when `--sources` does not name one.
fn default_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("pricequeue").join("sources.toml"))
}

/// The sources a command may queue tasks for: the built-in ones, and those
/// declared in `--sources` (or the default file, if there is one).
pub(super) struct Known {
    pub decls: Declarations,
    /// The declarations file, when it cannot be read or has a mistake: it
    /// blocks only the sources it declares, never a built-in one.
    broken: Option<Broken>,
}

struct Broken {
    /// What is wrong with it, as one message (its place, line and column).
    error: String,
    /// The sources it seems to declare (its tables, read past the mistake).
    names: Vec<String>,
}

/// The built-in sources, and those declared in `--sources` (or the
/// default file, if there is one), unless that file is broken.
pub(super) fn declarations(env: &Env) -> Known {
    let mut decls = Declarations::builtin();
    let file = match &env.sources {
        Some(path) => Some(path.clone()),
        None => default_file().filter(|p| p.is_file()),
    };
    let Some(path) = file else { return Known { decls, broken: None } };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            let error =
                format!("cannot read the declared sources in {} (--sources, PRICEQUEUE_SOURCES): {e}", path.display());
            return Known { decls, broken: Some(Broken { error, names: Vec::new() }) };
        }
    };
    let mut declared = decls.clone();
    match Declarations::parse(&text, &path.display().to_string()).and_then(|mine| declared.merge(mine)) {
        Ok(()) => decls = declared,
        Err(e) => {
            let names = Declarations::names_in(&text);
            return Known { decls, broken: Some(Broken { error: format!("{e:#}"), names }) };
        }
    }
    Known { decls, broken: None }
}

fn timeouts(env: &Env) -> Timeouts {
    Timeouts { request: env.timeout, ..Timeouts::default() }
}

/// The source `name` to queue tasks for: its names are checked with it,
/// and `fetch` works with it too, over as many `connections` as it has
/// workers. A broken declarations file stops only a source it may declare
/// (with its error); a built-in source goes on, the file's error said once
/// beside it.
pub(super) fn open_to_queue(env: &Env, known: &Known, name: &str, connections: usize) -> Result<Arc<dyn PriceSource>> {
    if let Some(broken) = &known.broken {
        if known.decls.is_builtin(name) {
            log(&format!(
                "warning: {}; the sources declared there cannot be used until it is fixed ({name}, built in, can)",
                broken.error
            ));
        } else if broken.names.iter().any(|n| n == name) {
            anyhow::bail!(
                "{}; the source {name} is declared there, and cannot be used until it is fixed",
                broken.error
            );
        } else {
            anyhow::bail!(
                "{}; the source {name} is not built in, and may be declared there: fix the file first",
                broken.error
            );
        }
    }
    source::open(name, env.server.as_deref(), &known.decls, timeouts(env), connections).map_err(|e| match e {
        OpenError::Unknown { .. } => anyhow::anyhow!(Usage(e.to_string())),
        e => anyhow::anyhow!(e),
    })
}

/// Keeps the declaration of `name` in the database, if it is a declared
/// source: every process on the database fetches it alike.
pub(super) fn keep_declaration(store: &Store, decls: &Declarations, name: &str) -> Result<()> {
    if decls.is_builtin(name) {
        return Ok(());
    }
    if let Some(text) = decls.text(name) {
        store.store_declaration(name, &text)?;
    }
    Ok(())
}

/// The sources of the tasks waiting in `store` (of the selection `within`,
/// when given) that this host can fetch from; `opened`, already open, is
/// not opened again. A source this host cannot use (a secret not in its
/// environment, a name it does not know) is said once, and its tasks stay
/// queued for a host that can.
pub(super) fn open_to_work(
    store: &Store,
    env: &Env,
    connections: usize,
    opened: Option<Arc<dyn PriceSource>>,
    within: Option<&Selection>,
) -> Result<Vec<Arc<dyn PriceSource>>> {
    let mut decls = Declarations::builtin();
    for (name, text) in store.declarations()? {
        let kept = Declarations::parse(&text, &format!("the declaration of {name} kept in the database"))?;
        decls.merge(kept)?;
    }
    let mut by_source = store.waiting_by_source()?;
    if let Some(sel) = within {
        let asked: BTreeSet<String> = store.sources_in(sel)?.into_iter().flat_map(|(_, _, names)| names).collect();
        by_source.retain(|(name, _)| asked.contains(name));
    }
    let mut sources = Vec::new();
    for (name, waiting) in by_source {
        if let Some(source) = opened.as_ref().filter(|s| s.name() == name) {
            sources.push(Arc::clone(source));
            continue;
        }
        match source::open(&name, env.server.as_deref(), &decls, timeouts(env), connections) {
            Ok(source) => sources.push(source),
            Err(OpenError::MissingSecret { source, variable }) => log(&format!(
                "warning: the source {source} needs the environment variable {variable}, which is not set \
                 here: its {} left queued for a host that has it",
                plural(waiting, "task is", "tasks are")
            )),
            Err(OpenError::Unknown { name, .. }) => log(&format!(
                "warning: {} of the source {name}, which this pricequeue does not know, left queued \
                 (is this pricequeue older than the one that queued them?)",
                plural(waiting, "task is", "tasks are")
            )),
            Err(e @ OpenError::Invalid(_)) => return Err(e.into()),
        }
    }
    Ok(sources)
}
