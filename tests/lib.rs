//! Integration tests: the real binary against the built-in price server on
//! a loopback port, each test in its own temporary directory.

mod common;

mod chaos;
mod coverage;
mod demo;
mod edges;
mod enqueue;
mod errors;
mod faults;
mod fetch;
mod help;
mod leases;
mod progress;
mod query;
mod serve;
mod shell;
mod shutdown;
mod sql;
