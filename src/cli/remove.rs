//! The flags of `remove`, the one command that deletes what was queued.

use clap::Args;

use super::ReportSelectionArgs;

#[derive(Debug, Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub selection: ReportSelectionArgs,

    /// Remove the stored prices of those tasks' cells too [default: keep every price].
    #[arg(long)]
    pub prices: bool,

    /// Remove without asking: needed when standard input is not a terminal (scripts, cron).
    #[arg(long, short = 'y')]
    pub yes: bool,
}
