//! The reports: stored prices with the missing report, queue status, and
//! the output formats they share.

mod output;
mod query;
mod status;

pub use output::{Format, Output};
pub use query::{query, Cells, QueryTotals};
pub use status::status;
