//! Opening the database to read it: a report's selection (`query`,
//! `coverage`, `chart`), and the note when it is read as immutable.

use anyhow::Result;

use super::{log, Env};
use crate::dates;
use crate::resolve::{self, ReportAsk};
use crate::selection::Selection;
use crate::store::{Create, Store};

/// Checks the selection's days, opens the database and resolves the
/// selection; `None` (said on stderr) when there is nothing to report on.
pub(super) fn open_selection(env: &Env, ask: &ReportAsk) -> Result<Option<(Store, Selection)>> {
    if let (Some(from), Some(to)) = (ask.from, ask.to) {
        dates::check_range(from, to)?;
    }
    let store = Store::open(&env.store(Create::ReadOnly))?;
    note_immutable(&store, env);
    match resolve::report_selection(&store, ask)? {
        Some(sel) => Ok(Some((store, sel))),
        None => {
            // Said even with --quiet: it is why the exit code is 3.
            log(&format!(
                "{}: nothing stored or queued for this selection: every price of it is missing",
                store.location()
            ));
            Ok(None)
        }
    }
}

/// Says when a database is read as immutable, and why (a read-only
/// filesystem, a directory not writable to the user).
pub(super) fn note_immutable(store: &Store, env: &Env) {
    if let Some(why) = store.immutable() {
        env.say(&format!(
            "note: {} {why}: read as it is on disk, without locks (what another process changes meanwhile \
             is not seen)",
            store.location()
        ));
    }
}
