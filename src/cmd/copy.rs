//! `pricequeue copy`: tasks, prices and candles from one database to another, a
//! chunk per transaction, so a copy stopped halfway keeps what it did and
//! the next one carries on.

use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{bail, Result};

use super::{handle_signals, Env, Execute, STOP};
use crate::cli::CopyArgs;
use crate::error::{Exit, Usage};
use crate::store::copy::Imported;
use crate::store::{Create, Location, Options, Store};

/// Rows per transaction: big enough that a million rows cost a few
/// hundred commits, small enough that a stop loses little.
const CHUNK: usize = 5_000;

impl Execute for CopyArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        handle_signals()?;
        let (from, to) = (Location::from(self.from.clone()), Location::from(self.to.clone()));
        if same_database(&from, &to) {
            bail!(Usage(format!("--from and --to both name {from}: copy needs two databases")));
        }
        let open = |location: &Location, create| {
            Store::open(&Options { busy_timeout: env.busy_timeout, ..Options::new(location.clone(), create) })
        };
        let source = open(&from, Create::ReadOnly)?;
        let dest = open(&to, Create::IfMissing)?;
        // The same database under two names (localhost and 127.0.0.1, say).
        if source.identity()? == dest.identity()? {
            bail!(Usage(format!("--from {from} and --to {to} are the same database: copy needs two")));
        }
        let started = Instant::now();
        // The declared sources first: the tasks that name them can then be fetched there.
        for (name, text) in source.declarations()? {
            dest.store_declaration(&name, &text)?;
        }
        // Prices first: a task copied as done then has its price beside it.
        let prices = chunks(
            |after| source.prices_after(after, CHUNK),
            |rows| dest.import_prices(rows),
            crate::store::copy::price_key,
        )?;
        // Then the candles below a day, for the same reason.
        let candles = match prices {
            Some(_) => {
                chunks(|after| source.candles_after(after, CHUNK), |rows| dest.import_candles(rows), |c| c.key())?
            }
            None => None,
        };
        let tasks = match candles {
            Some(_) => chunks(|after| source.tasks_after(after, CHUNK), |rows| dest.import_tasks(rows), |t| t.key())?,
            None => None,
        };
        let (Some(prices), Some(candles), Some(tasks)) = (prices, candles, tasks) else {
            super::log(&format!(
                "stopped: what was copied so far is in {to}; run the same command again to copy the rest"
            ));
            return Ok(Exit::Interrupted);
        };
        env.say(&format!(
            "copied {from} to {to} in {:.2} s: prices {} new, {} updated; tasks {} new, {} updated; candles below a \
             day {} new",
            started.elapsed().as_secs_f64(),
            prices.added,
            prices.updated,
            tasks.added,
            tasks.updated,
            candles.added
        ));
        Ok(Exit::Ok)
    }
}

/// Reads chunks with `read` (after the last key of the one before) and
/// writes each with `write`, until a chunk comes back empty; `None` if
/// Ctrl-C stopped it between chunks.
fn chunks<T, K>(
    read: impl Fn(Option<&K>) -> Result<Vec<T>>,
    write: impl Fn(&[T]) -> Result<Imported>,
    key: impl Fn(&T) -> K,
) -> Result<Option<Imported>> {
    let mut total = Imported::default();
    let mut after: Option<K> = None;
    loop {
        if STOP.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let rows = read(after.as_ref())?;
        let Some(last) = rows.last() else { return Ok(Some(total)) };
        after = Some(key(last));
        total += write(&rows)?;
    }
}

/// Whether two locations name the same database: the same file (however
/// written), or the same URL.
fn same_database(a: &Location, b: &Location) -> bool {
    match (a, b) {
        (Location::File(x), Location::File(y)) => {
            x == y || matches!((x.canonicalize(), y.canonicalize()), (Ok(x), Ok(y)) if x == y)
        }
        (Location::Postgres(x), Location::Postgres(y)) => x == y,
        _ => false,
    }
}
