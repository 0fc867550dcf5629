//! Integration tests: the real binary against the built-in price server on
//! a loopback port, each test in its own temporary directory and database.
//!
//! The behaviour tests run on both backends, in one `cargo test`: the
//! modules `sqlite` and `postgres` below include the same files, each with
//! its own `Sandbox` (`sqlite::fetch::...`, `postgres::fetch::...`). What
//! only one backend has lives in files included once.

// Loading the shared files twice, each time under another `Sandbox`, is
// the point: it is how one test runs on both backends.
#![allow(clippy::duplicate_mod)]

mod common;

// The command line and the built-in server: no database behind them.
mod help;
// From one backend to the other.
mod copy;
// A source's own address, offline.
mod addresses;
// The README's crontab line, as cron runs it (SQLite in a temporary HOME).
mod cron;
// A password in --server or --db, as the command line shows them.
mod secrets_cli;
mod serve;
mod shell;
// The stand-ins of the real price APIs, read by ccxt.
mod stand_ins;
// The web page, in a browser.
mod ui;

/// On an SQLite file; and what is SQLite's by nature.
#[path = "."]
mod sqlite {
    pub use crate::common::SqliteSandbox as Sandbox;

    mod chaos;
    mod chart;
    mod cooling;
    mod coverage;
    mod declared;
    mod demo;
    mod edges;
    mod enqueue;
    mod errors;
    mod faults;
    mod fetch;
    mod files;
    mod first_hour;
    mod hosts;
    mod intervals;
    mod leases;
    mod limits;
    mod many_sources;
    mod mixed;
    mod progress;
    mod query;
    mod quiet;
    mod range_faults;
    mod remove;
    mod secrets;
    mod shutdown;
    mod source_faults;
    mod sources;
    mod sql;
    mod upgrade;
}

/// On a PostgreSQL database of each test's own (skipped without a server:
/// see `common/postgres.rs`); and what is PostgreSQL's by nature.
#[path = "."]
mod postgres {
    pub use crate::common::PgSandbox as Sandbox;

    mod chaos;
    mod chart;
    mod connect;
    mod cooling;
    mod coverage;
    mod edges;
    mod enqueue;
    mod errors;
    mod faults;
    mod fetch;
    mod first_hour;
    mod hosts;
    mod hosts_sources;
    mod intervals;
    mod leases;
    mod limits;
    mod many_sources;
    mod mixed;
    mod progress;
    mod query;
    mod quiet;
    mod range_faults;
    mod remove;
    mod restart;
    mod secrets;
    mod shutdown;
    mod sql;
    mod upgrade;
}
