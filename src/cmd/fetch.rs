use anyhow::Result;

use super::enqueue::{enqueued_line, resolve};
use super::work::{exit_code, summary_line};
use super::{Env, Run};
use crate::cli::FetchArgs;
use crate::dates;
use crate::source::{HttpSource, Timeouts};
use crate::store::{Create, StateCounts, Store};

impl Run for FetchArgs {
    fn run(&self, env: &Env) -> Result<i32> {
        let source = HttpSource::new(&env.server, Timeouts::default(), 1);
        let cells = resolve(&self.selection, &source, env)?;
        let store = Store::open(&env.db(), Create::IfMissing, self.work.synchronous)?;
        let added = store.enqueue(&cells.exchanges, &cells.symbols, &dates::days(cells.from, cells.to)?)?;
        env.say(&enqueued_line(&added, &store));
        if self.refresh_days > 0 {
            let from = (cells.to - chrono::Duration::days(i64::from(self.refresh_days) - 1)).max(cells.from);
            let mut again = 0;
            for e in &cells.exchanges {
                for s in &cells.symbols {
                    again += store.refresh(e, s, from, cells.to)?;
                }
            }
            env.say(&format!("queued {again} fetched tasks again to refresh {from} to {}", cells.to));
        }
        let summary = self.work.work(&store, env)?;

        // The exit code speaks for the whole selection: a task that failed
        // in an earlier run is still a price this command did not get.
        let mut counts = StateCounts::default();
        for e in &cells.exchanges {
            for s in &cells.symbols {
                counts += store.counts_between(e, s, cells.from, cells.to)?;
            }
        }
        let code = exit_code(&summary, counts.failed);
        env.report(&summary_line(&summary), code);
        if counts.failed > summary.failed {
            env.report(
                &format!(
                    "{} tasks of this selection failed in earlier runs; `pricequeue status` shows why, \
                     `pricequeue retry` queues them again",
                    counts.failed - summary.failed
                ),
                code,
            );
        }
        Ok(code)
    }
}
