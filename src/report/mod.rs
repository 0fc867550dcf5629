//! The reports: stored prices with the missing report, the coverage grid,
//! the price chart, queue status, and the output formats they share.

pub mod chart;
mod coverage;
mod output;
mod query;
mod sources;
mod status;

pub use coverage::{coverage, Bucket, Day, DayCounts, Grid, Row, State};
pub use output::{Format, Output, Value};
pub use query::{query, QueryTotals, Rows};
pub use sources::PairSources;
pub use status::{status, Only};

/// "1 task", "2 tasks".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
