use anyhow::Result;

use super::query::cells;
use super::{Env, Run};
use crate::cli::RetryArgs;
use crate::dates;
use crate::error::OK;
use crate::store::{Create, Store, Synchronous};

impl Run for RetryArgs {
    fn run(&self, env: &Env) -> Result<i32> {
        let f = &self.filter;
        if let (Some(from), Some(to)) = (f.first_day(), f.last_day()) {
            dates::check_range(from, to)?;
        }
        let store = Store::open(&env.db(), Create::No, Synchronous::Normal)?;
        let everything = f.exchanges.is_empty() && f.symbols.is_empty() && f.from.is_none() && f.to.is_none();
        let queued = if everything {
            store.retry_failed(None)?
        } else {
            let mut n = 0;
            if let Some(c) = cells(&store, f)? {
                for e in &c.exchanges {
                    for s in &c.symbols {
                        n += store.retry_failed(Some((e, s, c.from, c.to)))?;
                    }
                }
            }
            n
        };
        env.say(&format!("queued {queued} failed tasks again; `pricequeue work` fetches them"));
        Ok(OK)
    }
}
