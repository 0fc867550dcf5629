//! The reports: stored prices with the missing report, the coverage grid,
//! the price chart, queue status, and the output formats they share.

mod candles;
pub mod chart;
mod coverage;
mod output;
mod query;
mod sources;
mod status;

pub use crate::words::plural;
pub use candles::DayGaps;
pub use coverage::{coverage, Bucket, DayCounts, Grid, GridRow, Mark};
pub use output::{Format, Output, Value};
pub use query::{query, Listing, QueryTotals};
pub use sources::PairSources;
pub use status::{status, Only};
