use anyhow::{Context, Result};

use super::{Env, Execute};
use crate::cli::ServeArgs;
use crate::error::Exit;
use crate::server::{data, RetryAfter, Server, ServerOptions};

impl Execute for ServeArgs {
    fn execute(&self, _env: &Env) -> Result<Exit> {
        let options = ServerOptions {
            latency: self.latency,
            latency_jitter: self.latency_jitter,
            close_connections: self.close_connections,
            faults: self.faults.clone(),
            retry_after: match (self.retry_after, self.retry_after_date) {
                (None, _) => RetryAfter::None,
                (Some(s), false) => RetryAfter::Seconds(s),
                (Some(s), true) => RetryAfter::Date(s),
            },
            stall: self.stall,
            seed: self.seed,
            record: false,
            live: self.live,
            basic_auth: self.basic_auth.clone(),
            ..ServerOptions::default()
        };
        let server = Server::start(self.addr, options).with_context(|| {
            format!("listening on {} (is another server using that port? try --addr 127.0.0.1:0)", self.addr)
        })?;
        let (first, last) = data::span();
        // Live, the server goes on past its synthetic span: say so, since
        // a cron line's recent days are what a user tries first.
        let days = match self.live {
            None => format!("{first} to {last}"),
            Some(delay) => format!(
                "{first} to yesterday, each day published {} after it ends (UTC)",
                humantime::format_duration(delay)
            ),
        };
        // A server outlives whoever reads its stderr: a closed pipe there
        // must not take it down.
        super::log(&format!(
            "serving synthetic prices at {} ({} exchanges, {} symbols, {days}), and stand-ins for {} \
             up to today; Ctrl-C stops",
            server.url(),
            data::EXCHANGES.len(),
            data::SYMBOLS.len(),
            crate::server::stand_ins::SOURCES.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ")
        ));
        if let Some(user) = self.basic_auth.as_deref().map(|a| a.split(':').next().unwrap_or("")) {
            // The password is the user's to remember: never printed.
            super::log(&format!(
                "answering 401 to any request without the user name {user:?} and the password of --basic-auth"
            ));
        }
        if !self.faults.is_empty() {
            let rules: Vec<String> = self
                .faults
                .iter()
                .map(|r| match r.first {
                    0 => format!("{} {:.1}%", r.fault.name(), r.rate * 100.0),
                    n => format!("{} for the first {n} requests of each price", r.fault.name()),
                })
                .collect();
            super::log(&format!("injecting faults into price answers: {}", rules.join(", ")));
        }
        server.wait();
        Ok(Exit::Ok)
    }
}
