use std::io;

use anyhow::Result;

use super::{Env, Run};
use crate::cli::StatusArgs;
use crate::error::Exit;
use crate::report;
use crate::store::{Create, Store};

impl Run for StatusArgs {
    fn run(&self, env: &Env) -> Result<Exit> {
        let store = Store::open(&env.store(Create::ReadOnly))?;
        super::open::note_immutable(&store, env);
        if self.recount {
            store.recount()?;
        }
        report::status(&store, self.format, io::stdout().lock())?;
        Ok(Exit::Ok)
    }
}
