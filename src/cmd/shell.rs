//! Shell integration: completions and the man page, both generated from
//! the clap definitions, so they never disagree with `--help`.

use std::io::{self, Write};

use anyhow::Result;
use clap::CommandFactory;

use super::{Env, Run};
use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::OK;

impl Run for CompletionsArgs {
    fn run(&self, _env: &Env) -> Result<i32> {
        let mut out = io::stdout().lock();
        clap_complete::generate(self.shell, &mut Cli::command(), "pricequeue", &mut out);
        out.flush()?;
        Ok(OK)
    }
}

impl Run for ManArgs {
    fn run(&self, _env: &Env) -> Result<i32> {
        let mut out = io::stdout().lock();
        clap_mangen::Man::new(Cli::command()).render(&mut out)?;
        // The subcommands, each in a section of the same page.
        for sub in Cli::command().get_subcommands() {
            writeln!(out, ".SH \"PRICEQUEUE {}\"", sub.get_name().to_uppercase())?;
            clap_mangen::Man::new(sub.clone()).render_description_section(&mut out)?;
            clap_mangen::Man::new(sub.clone()).render_options_section(&mut out)?;
        }
        out.flush()?;
        Ok(OK)
    }
}
