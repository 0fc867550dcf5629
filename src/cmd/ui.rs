use anyhow::Result;

use super::{handle_signals, Env, Execute, STOP};
use crate::cli::UiArgs;
use crate::error::Exit;
use crate::store::{Create, Store};
use crate::ui;

impl Execute for UiArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        handle_signals()?;
        // Off loopback, every request must carry a token: the user's, or one made now.
        let token = match (&self.token, self.addr.ip().is_loopback()) {
            (Some(t), _) => Some(check_token(t)?),
            (None, true) => None,
            (None, false) => Some(ui::random_token()),
        };
        let options = env.store(Create::ReadOnly);
        let store = Store::open(&options)?;
        super::open::note_immutable(&store, env);
        let ui_options = ui::Options { addr: self.addr, token, read_only: self.read_only, sql_timeout: env.timeout };
        ui::serve(store, options, ui_options, &STOP, |addr, token| {
            let url = match token {
                Some(t) => format!("http://{addr}/?token={t}"),
                None => format!("http://{addr}/"),
            };
            // The address on stdout (a script may read it); the rest for people.
            println!("{url}");
            env.say(&format!(
                "serving the page for {} at {url}{}; Ctrl-C stops",
                env.db(),
                if self.read_only { " (read-only)" } else { "" }
            ));
        })?;
        Ok(Exit::Ok)
    }
}

/// A token given: long enough to guess at no better than chance, and of
/// characters that pass unchanged through an address, a header and a cookie.
fn check_token(token: &str) -> Result<String> {
    let fine = |c: char| c.is_ascii_alphanumeric() || "-._~".contains(c);
    if token.len() < 16 || !token.chars().all(fine) {
        anyhow::bail!(crate::error::Usage(
            "--token (or PRICEQUEUE_UI_TOKEN) must be at least 16 characters of letters, digits and - . _ ~; \
             leave it out off loopback to have one made"
                .into()
        ));
    }
    Ok(token.to_string())
}
