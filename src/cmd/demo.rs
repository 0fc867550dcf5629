use std::io::{self, Write};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;

use super::demo_output::{program, Shortened, ROWS};
use super::enqueue::enqueue;
use super::summary::summary_line;
use super::work::start;
use super::{Env, Execute};
use crate::cli::DemoArgs;
use crate::error::Exit;
use crate::report::{self, Format};
use crate::resolve::{self, QueueAsk};
use crate::server::{Server, ServerOptions};
use crate::source::{self, Declarations, Timeouts};
use crate::store::{self, Create, Location, Store, TaskState};
use crate::work::{default_workers, WorkOptions};

impl Execute for DemoArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        // Only an explicit --db moves the demo: PRICEQUEUE_DB names the
        // user's real database, which the demo must never replace.
        let db = if env.db_on_command_line { env.db() } else { Location::from("demo.db") };
        let options = store::Options { location: db.clone(), ..env.store(Create::IfMissing) };
        let march = |d| NaiveDate::from_ymd_opt(2020, 3, d).context("a day of March 2020");
        let (from, to) = (march(1)?, march(31)?);
        // Replace an earlier demo's database, never anything else: the demo
        // marks its own in the database, and enqueueing anything else
        // there takes the mark away.
        if store::exists(&options)? && !store::made_by_demo(&options)? {
            bail!(
                "refusing to replace {}: `pricequeue demo` did not make it, or tasks were added to it since, \
                 so it may hold prices you want. Pass --db with a new {} (or delete it yourself)",
                db,
                if db.is_postgres() { "database" } else { "file name" }
            );
        }
        store::remove_database(&options)?;

        let server =
            Server::start("127.0.0.1:0", ServerOptions::default()).context("starting the built-in price server")?;
        env.say(&format!("started the built-in price server at {}", server.url()));
        let opts = WorkOptions {
            workers: self.workers.map_or_else(default_workers, usize::from),
            server_checked: true,
            ..WorkOptions::default()
        };
        let decls = Declarations::builtin();
        let source = source::open(&self.source, Some(&server.url()), &decls, Timeouts::default(), opts.workers)
            .map_err(|e| anyhow::anyhow!(crate::error::Usage(format!("{e} (demo takes the built-in sources)"))))?;

        // The stand-in's own short lists, on its own server: queued without asking.
        let asked = QueueAsk {
            exchanges: vec!["all".into()],
            symbols: vec!["all".into()],
            from,
            to,
            allow_unknown: false,
            far_future: false,
            interval: self.interval,
        };
        let sel = resolve::queue_selection(asked, source.as_ref(), &decls.names())?;
        let store = Store::open(&options)?;
        // Marked before anything else: a demo stopped halfway is still the demo's.
        store.set_demo(true)?;
        enqueue(&store, &sel, source.name(), opts.grace, env)?;
        let ran = start(&store, vec![source.clone()], &opts, env, None)?;
        env.say(&summary_line(&ran.summary));
        if ran.summary.interrupted {
            return Ok(Exit::Interrupted);
        }

        // One screen: the state counts in a line, a few rows of each of
        // the query report's tables, and commands that run as printed.
        let pq = program();
        let name = db.to_string();
        let db_arg = if db.is_postgres() { name.clone() } else { super::demo_output::quote(&name) };
        let mut out = io::stdout().lock();
        let counts = store.counts()?;
        let states: Vec<String> = TaskState::ALL
            .iter()
            .filter(|s| counts[**s] > 0)
            .map(|s| format!("{} {}", counts[*s], s.words()))
            .collect();
        writeln!(out, "\n== status: {} of {} tasks ==", states.join(", "), counts.total())?;
        writeln!(out, "\n== query: the prices, then the missing report ==\n")?;
        let mut short = Shortened::new(&mut out, ROWS);
        report::query(&store, &sel, Format::Table, false, report::Listing::Spans, &mut short)?;
        short.finish()?;
        let (kind, shell, flag) =
            if db.is_postgres() { ("a PostgreSQL", "psql", " -c") } else { ("an SQLite", "sqlite3", "") };
        // The examples name what this demo fetched.
        let (exchange, symbol) = match source.exchange() {
            Some(only) => (only.to_string(), sel.pairs.first().map(|p| p.symbol.clone()).unwrap_or_default()),
            None => ("bitstamp".to_string(), "btc".to_string()),
        };
        let interval = self.interval;
        let example = if !interval.is_day() {
            format!(
                "SELECT symbol, count(*), avg(close) FROM candles WHERE exchange = '{exchange}' AND interval = \
                 '{interval}' GROUP BY symbol"
            )
        } else if source.exchange().is_some() {
            format!("SELECT symbol, avg(close) FROM prices WHERE exchange = '{exchange}' GROUP BY symbol")
        } else {
            "SELECT exchange, avg(close) FROM prices WHERE symbol = 'btc' GROUP BY exchange".to_string()
        };
        let at = if interval.is_day() { String::new() } else { format!(" --interval {interval}") };
        writeln!(
            out,
            "\nThe prices are in {name}, {kind} database; go on with\n  \
             {pq} --db {db_arg} status\n  \
             {pq} --db {db_arg} query --exchange {exchange} --symbol {symbol}{at} --missing\n  \
             {shell} {db_arg}{flag} \"{example}\"",
        )?;
        Ok(Exit::Ok)
    }
}
