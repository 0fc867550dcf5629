//! Integration tests: the real binary against the built-in price server on
//! a loopback port, each test in its own temporary directory.

mod common;

mod demo;
mod enqueue;
mod errors;
mod fetch;
mod help;
mod query;
mod serve;
mod sql;
