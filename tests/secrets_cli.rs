//! A password in `--server` or `--db` (or their variables) is never
//! printed by the command line itself: not by `--help`, which shows the
//! variables' values for the other flags, nor by an error about the value.

use pricequeue::error::{OK, USAGE};

use crate::common::{hidden, run, SqliteSandbox as Sandbox};

#[test]
fn help_shows_no_password_from_the_environment() {
    let sb = Sandbox::sqlite();
    for sub in ["", "fetch", "work", "status", "ui"] {
        let mut cmd = sb.command_without_server(&[]);
        if !sub.is_empty() {
            cmd.arg(sub);
        }
        cmd.arg("--help")
            .env("PRICEQUEUE_SERVER", "http://alice:srv-pw-81d@127.0.0.1:9")
            .env("PRICEQUEUE_DB", "postgres://bob:db-pw-2c7@127.0.0.1:9/prices");
        let out = run(cmd).expect_code(OK);
        assert!(out.stdout.contains("PRICEQUEUE_SERVER"), "`{sub} --help` names the variable");
        hidden(&format!("`{sub} --help`"), &out.stdout, "srv-pw-81d");
        hidden(&format!("`{sub} --help`"), &out.stdout, "db-pw-2c7");
    }
}

#[test]
fn a_refused_server_url_is_shown_with_its_password_masked() {
    let sb = Sandbox::sqlite();
    for (url, why) in [
        ("http://alice:pw-4e1@127.0.0.1:9/?x=1", "query string"),
        ("http://alice:pw-4e1@ho st", "not a URL"),
        // A / in the password, not percent-encoded, would end the user-info
        // where a URL is read: refused, masked whole.
        ("http://alice:pw-4e1/x@h:1", "percent-encode"),
    ] {
        let out = run(sb.command_at(url, &["status"])).expect_code(USAGE);
        assert!(out.stderr.contains(why) && out.stderr.contains("alice:***@"), "{url}: {}", out.stderr);
        hidden(url, &format!("{}{}", out.stdout, out.stderr), "pw-4e1");
    }
}
