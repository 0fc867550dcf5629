use std::cell::RefCell;
use std::io;

use anyhow::Result;

use super::{Env, Run};
use crate::cli::SqlArgs;
use crate::error::OK;
use crate::report::Output;
use crate::store;

impl Run for SqlArgs {
    fn run(&self, env: &Env) -> Result<i32> {
        // Both callbacks write to the same output: the header, then rows.
        let out = RefCell::new(Output::new(self.format, io::stdout().lock(), false));
        store::run_readonly(
            &env.db(),
            &self.statement,
            |columns| {
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                out.borrow_mut().section("rows", None, &columns)
            },
            |row| out.borrow_mut().row(row),
        )?;
        drop(out.into_inner().finish()?);
        Ok(OK)
    }
}
