//! What only PostgreSQL has: connecting (and failing to, clearly), and the
//! demo into a database rather than a file.

use pricequeue::error::{ERROR, OK, USAGE};

use super::Sandbox;
use crate::common::{bin, run};

/// `status` against the database `url`: its exit code and what it said.
fn status(url: &str, code: i32) -> String {
    let mut cmd = std::process::Command::new(bin());
    cmd.env_remove("PRICEQUEUE_DB").args(["--db", url, "status"]);
    let out = run(cmd).expect_code(code);
    assert_eq!(out.stderr.trim().lines().count(), 1, "one line: {}", out.stderr);
    out.stderr
}

#[test]
fn connection_problems_are_one_line_that_says_what_to_do() {
    let Some(sb) = Sandbox::new() else { return };
    let url = sb.db();
    let (server, _) = url.rsplit_once('/').expect("a URL with a database");
    let host = server.rsplit_once('@').map_or(server, |(_, host)| host);

    let said = status(&format!("{server}/pq_no_such_database"), ERROR);
    assert!(said.contains("\"pq_no_such_database\" does not exist") && said.contains("create it"), "{said}");

    let said = status(&format!("postgres://pq_no_such_role:s3cret@{host}/postgres"), ERROR);
    assert!(said.contains("refused the connection") && said.contains("Check the user and password"), "{said}");
    assert!(!said.contains("s3cret"), "the password is shown: {said}");

    // Nothing listens on port 1 of the loopback.
    let said = status("postgres://postgres@127.0.0.1:1/prices", ERROR);
    assert!(said.contains("cannot connect to PostgreSQL") && said.contains("check that the server runs"), "{said}");

    let said = status(&format!("{url}?sslmode=verify"), USAGE);
    assert!(said.contains("sslmode=verify in --db is not a TLS mode"), "{said}");

    let said = status("postgres://postgres@127.0.0.1:notaport/prices", USAGE);
    assert!(said.contains("not a PostgreSQL URL"), "{said}");

    // An empty database is not a pricequeue one yet: reading it says so.
    let said = status(&url, ERROR);
    assert!(said.contains("no pricequeue tables yet"), "{said}");
}

/// TLS as the URL's `sslmode` asks, with libpq's meanings, against this
/// machine's server, which offers TLS with a self-signed certificate
/// (Debian's "snakeoil" one, made for the machine's host name).
#[test]
fn tls_is_used_as_sslmode_asks_and_certificates_are_checked_as_it_says() {
    let Some(sb) = Sandbox::new() else { return };
    let (ssl, cert): (String, String) = sb.one("SELECT current_setting('ssl'), current_setting('ssl_cert_file')", &[]);
    if ssl != "on" {
        eprintln!("skipped: the PostgreSQL server of {} has TLS off", sb.db());
        return;
    }
    let url = sb.db();
    let encrypted = |query: &str| -> bool {
        let mut cmd = std::process::Command::new(bin());
        cmd.env_remove("PRICEQUEUE_DB").args([
            "--db",
            &format!("{url}?{query}"),
            "sql",
            "--format",
            "csv",
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        ]);
        // `sql` writes booleans as SQLite has them: 1 and 0.
        run(cmd).expect_code(OK).stdout.lines().nth(1) == Some("1")
    };
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--allow-unknown"]).expect_code(OK);
    // No sslmode: no TLS (libpq would try it first; pricequeue only when asked).
    assert!(!encrypted("application_name=pq"));
    // `require` and `prefer` encrypt and take any certificate.
    assert!(encrypted("sslmode=require"));
    assert!(encrypted("sslmode=prefer"));
    // `verify-ca` with the certificate itself as the root: signed by it.
    let root = format!("sslmode=verify-ca&sslrootcert={cert}");
    assert!(encrypted(&root));
    // `verify-full` against the built-in roots: not signed by any of them.
    let said = status(&format!("{url}?sslmode=verify-full"), ERROR);
    assert!(said.contains("no TLS connection") && said.contains("UnknownIssuer"), "{said}");
    // With the right root, but for 127.0.0.1, which the certificate does not name.
    if url.contains("@127.0.0.1") {
        let said = status(&format!("{url}?sslmode=verify-full&sslrootcert={cert}"), ERROR);
        assert!(said.contains("no TLS connection") && said.contains("not valid for name \"127.0.0.1\""), "{said}");
    }
    let said = status(&format!("{url}?sslmode=verify-ca&sslrootcert=/nonexistent/root.pem"), USAGE);
    assert!(said.contains("sslrootcert=/nonexistent/root.pem in --db: cannot read"), "{said}");
}

#[test]
fn the_demo_runs_into_a_database_and_replaces_only_its_own_tables() {
    let Some(sb) = Sandbox::new() else { return };
    // `--db` on the command line (the sandbox's) is where the demo goes.
    let out = sb.run(&["demo"]).expect_code(OK);
    assert!(out.stdout.contains("a PostgreSQL database"), "{}", out.stdout);
    assert_eq!(sb.count("SELECT count(*) FROM tasks"), 12 * 3 * 31);
    let out = sb.run(&["demo"]).expect_code(OK);
    assert!(out.stderr.contains("enqueued 1116 new tasks (0 already in the queue)"), "{}", out.stderr);

    // Tasks of the user's own take the demo's mark away: no more replacing.
    sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2019-01-01"]).expect_code(OK);
    let before = sb.dump();
    let out = sb.run(&["demo"]).expect_code(ERROR);
    assert!(out.stderr.contains("refusing to replace"), "{}", out.stderr);
    assert_eq!(sb.dump(), before);
}

/// What a read-only transaction still allows but acts on the server, not
/// the database: refused, so that `sql` (and the page's SQL box) cannot
/// end the workers' connections or read the server's files.
#[test]
fn sql_does_not_call_functions_that_act_on_the_server() {
    let Some(sb) = Sandbox::new() else { return };
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--allow-unknown"]).expect_code(OK);
    for sql in [
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
        "SELECT pg_catalog.pg_cancel_backend(1)",
        "SELECT pg_read_file('/etc/hostname')",
    ] {
        let out = sb.run(&["sql", sql]).expect_code(ERROR);
        assert!(out.stderr.contains("`pricequeue sql` does not call pg_"), "{sql}: {}", out.stderr);
    }
}
