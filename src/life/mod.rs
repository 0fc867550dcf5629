//! A task's life cycle, the one vocabulary of the program: the states a
//! task is stored in, and why a cell of a selection has no price. The
//! store, the work loop and the reports all speak it; it depends on none
//! of them.

mod reason;
pub mod retry;
mod state;

pub use reason::{reason, Missing, Reason};
pub use state::TaskState;
