//! Integration tests: the real binary against the built-in price server on
//! a loopback port, each test in its own temporary directory.

mod common;

mod chaos;
mod coverage;
mod demo;
mod enqueue;
mod errors;
mod faults;
mod fetch;
mod help;
mod leases;
mod query;
mod serve;
mod shutdown;
mod sql;
