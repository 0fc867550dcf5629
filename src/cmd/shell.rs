//! Shell integration: completions and the man page, both generated from
//! the clap definitions, so they never disagree with `--help`.

use std::io::{self, Write};

use anyhow::{Context, Result};

use super::{Env, Execute};
use crate::cli::{CompletionsArgs, ManArgs};
use crate::error::Exit;

impl Execute for CompletionsArgs {
    fn execute(&self, _env: &Env) -> Result<Exit> {
        // Made in memory first: clap_complete panics when its writer fails
        // (a closed pipe, a full disk), where a command must not.
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut crate::cli::command(), "pricequeue", &mut script);
        print(&script)
    }
}

impl Execute for ManArgs {
    fn execute(&self, _env: &Env) -> Result<Exit> {
        let mut page = Vec::new();
        clap_mangen::Man::new(crate::cli::command()).render(&mut page)?;
        // The subcommands, each in a section of the same page.
        for sub in crate::cli::command().get_subcommands() {
            writeln!(page, ".SH \"PRICEQUEUE {}\"", sub.get_name().to_uppercase())?;
            clap_mangen::Man::new(sub.clone()).render_description_section(&mut page)?;
            clap_mangen::Man::new(sub.clone()).render_options_section(&mut page)?;
        }
        print(&page)
    }
}

/// Writes `bytes` to stdout; a failure is an error (a closed pipe is
/// success, which `main` sees to).
fn print(bytes: &[u8]) -> Result<Exit> {
    let mut out = io::stdout().lock();
    out.write_all(bytes).and_then(|()| out.flush()).context("writing to standard output")?;
    Ok(Exit::Ok)
}
