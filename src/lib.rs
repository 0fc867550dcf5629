//! pricequeue: durable, resumable price downloads through a SQLite job queue.
//!
//! Data flows one way: the command line (`cli`) picks a command (`cmd`),
//! which drives the queue (`store`) and the price API (`source`) through
//! the workers (`work`), and prints through `report`.

pub mod cli;
pub mod clock;
pub mod cmd;
pub mod dates;
pub mod error;
pub mod owner;
pub mod price;
pub mod report;
pub mod selection;
pub mod server;
pub mod source;
pub mod store;
pub mod work;
