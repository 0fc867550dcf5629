use std::cell::RefCell;
use std::io;

use anyhow::Result;

use super::{handle_signals, Env, Execute, STOP};
use crate::cli::SqlArgs;
use crate::error::Exit;
use crate::report::Output;
use crate::store::{self, Stopped};

impl Execute for SqlArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        // Ctrl-C and SIGTERM stop the statement (the progress handler sees STOP).
        handle_signals()?;
        // Both callbacks write to the same output: the header, then rows.
        let out = RefCell::new(Output::new(self.format, io::stdout().lock(), false));
        let result = store::run_readonly(
            &env.store(store::Create::ReadOnly),
            &self.statement,
            env.timeout,
            &STOP,
            |columns| {
                let columns: Vec<&str> = columns.iter().map(String::as_str).collect();
                out.borrow_mut().section("rows", None, &columns)
            },
            |row| out.borrow_mut().row(row),
        );
        if let Err(e) = result {
            if e.downcast_ref::<Stopped>() == Some(&Stopped::Interrupted) {
                super::log(&format!("{e}"));
                return Ok(Exit::Interrupted);
            }
            return Err(e);
        }
        drop(out.into_inner().finish()?);
        Ok(Exit::Ok)
    }
}
