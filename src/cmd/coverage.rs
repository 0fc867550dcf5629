use anyhow::{bail, Result};

use super::{Env, Run};
use crate::cli::CoverageArgs;

impl Run for CoverageArgs {
    fn run(&self, _env: &Env) -> Result<i32> {
        bail!("pricequeue coverage is not written yet")
    }
}
