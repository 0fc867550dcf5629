//! A task's life cycle, the one vocabulary of the program: the states a
//! task is stored in, what a cell of a selection holds ([`Kind`]) and why
//! it has no price ([`Reason`], a kind with its details). The store, the
//! work loop and the reports all speak it; it depends on none of them.

mod kind;
mod reason;
pub mod retry;
mod state;

pub use kind::Kind;
pub use reason::{reason, Missing, Reason};
pub use state::TaskState;
