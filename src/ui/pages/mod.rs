//! The pages, as HTML: progress, failures, coverage, prices and SQL, one
//! file each, all in the same frame (`frame.rs`). Each reads what it shows
//! in one call to the store; the first view reads only counts, so it is as
//! fast on a million tasks as on ten.

mod coverage;
mod failures;
mod frame;
mod prices;
mod progress;
mod sql;

pub use coverage::coverage;
#[cfg(test)]
pub(crate) use coverage::mark_class;
pub use failures::failures;
pub use prices::prices;
pub use progress::progress;
pub use sql::sql;
