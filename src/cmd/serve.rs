use anyhow::{Context, Result};

use super::{Env, Run};
use crate::cli::ServeArgs;
use crate::error::OK;
use crate::server::{data, Server, ServerOptions};

impl Run for ServeArgs {
    fn run(&self, _env: &Env) -> Result<i32> {
        let options = ServerOptions {
            latency: self.latency,
            close_connections: self.close_connections,
        };
        let server = Server::start(self.addr, options).with_context(|| {
            format!(
                "listening on {} (is another server using that port? try --addr 127.0.0.1:0)",
                self.addr
            )
        })?;
        let (first, last) = data::span();
        eprintln!(
            "serving synthetic prices at {} ({} exchanges, {} symbols, {first} to {last}); Ctrl-C stops",
            server.url(),
            data::EXCHANGES.len(),
            data::SYMBOLS.len()
        );
        server.wait();
        Ok(OK)
    }
}
