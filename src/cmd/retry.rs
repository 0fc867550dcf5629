use anyhow::Result;

use super::{plural, Env, Execute};
use crate::cli::RetryArgs;
use crate::dates;
use crate::error::Exit;
use crate::resolve;
use crate::store::{Create, Store};

impl Execute for RetryArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        let asked = self.selection.ask();
        if let (Some(from), Some(to)) = (asked.from, asked.to) {
            dates::check_range(from, to)?;
        }
        let store = Store::open(&env.store(Create::No))?;
        let everything = asked.is_open();
        let act = |sel| if self.never { store.abandon(sel) } else { store.retry_failed(sel, self.abandoned) };
        let n = if everything {
            act(None)?
        } else {
            match resolve::report_selection(&store, &asked)? {
                Some(sel) => act(Some(&sel))?,
                None => 0,
            }
        };
        if self.never {
            env.say(&format!(
                "gave up on {} for good: they show as abandoned, and no longer count as failures \
                 (`pricequeue retry --abandoned` queues them again)",
                plural(n as u64, "failed task", "failed tasks")
            ));
        } else {
            let what = if self.abandoned {
                ("failed or abandoned task", "failed or abandoned tasks")
            } else {
                ("failed task", "failed tasks")
            };
            env.say(&format!("queued {} again; `pricequeue work` fetches them", plural(n as u64, what.0, what.1)));
        }
        Ok(Exit::Ok)
    }
}
