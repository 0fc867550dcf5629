//! The flags of `remove`, the one command that deletes what was queued.

use clap::Args;

use super::ReportSelectionArgs;

#[derive(Debug, Args)]
pub struct RemoveArgs {
    #[command(flatten)]
    pub selection: ReportSelectionArgs,

    /// Only the tasks fetched from this source (cryptodb, binance, ...) [default: any source].
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,

    /// Remove the stored prices of those tasks' cells too [default: keep every price].
    #[arg(long)]
    pub prices: bool,

    /// Remove without asking: needed when standard input is not a terminal (scripts, cron).
    #[arg(long, short = 'y')]
    pub yes: bool,
}
