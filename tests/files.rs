//! What is SQLite's by nature: files that are not databases, directories,
//! read-only filesystems, locks held by a `sqlite3` shell, a demo replacing
//! its own file, and statements only SQLite has. Run once, on SQLite.

use pricequeue::error::{ERROR, OK, SETTLED};
use pricequeue::store::testing;

use super::Sandbox;

/// A database holding fetched prices and queued tasks.
fn with_data() -> Sandbox {
    super::errors::with_data().expect("SQLite needs no server")
}

#[test]
fn demo_never_replaces_a_database_it_did_not_make() {
    let sb = Sandbox::sqlite();
    // Real prices of the very days the demo fetches: the old check (tasks
    // outside March 2020) took this for an earlier demo and replaced it.
    sb.run(&["fetch", "-e", "bitstamp,kraken", "-s", "btc", "--from", "2020-03"]).expect_code(OK);
    let before = sb.dump();
    let out = sb.run(&["demo", "--db", &sb.path().to_string_lossy()]).expect_code(ERROR);
    assert!(out.stderr.contains("refusing to replace"), "{}", out.stderr);
    assert_eq!(sb.dump(), before, "the real prices are untouched");

    // The demo's own database is replaced; once the user adds tasks to it, it is theirs.
    let demo = sb.dir.path().join("mine.db");
    let demo_arg = demo.to_string_lossy().to_string();
    sb.run(&["demo", "--db", &demo_arg]).expect_code(OK);
    sb.run(&["demo", "--db", &demo_arg]).expect_code(OK);
    let out =
        sb.run(&["--db", &demo_arg, "enqueue", "-e", "kraken", "-s", "btc", "--from", "2019-01-01"]).expect_code(OK);
    assert!(out.stderr.contains("was made by `pricequeue demo`; it now holds your tasks"), "{}", out.stderr);
    let kept = testing::dump(&demo);
    let out = sb.run(&["demo", "--db", &demo_arg]).expect_code(ERROR);
    assert!(out.stderr.contains("refusing to replace"), "{}", out.stderr);
    assert_eq!(testing::dump(&demo), kept);
}

#[test]
fn file_problems_name_the_file() {
    let sb = Sandbox::sqlite();
    let dir = sb.dir.path().join("somewhere");
    std::fs::create_dir(&dir).unwrap();
    let dir_arg = dir.to_string_lossy().to_string();
    for args in [
        &["status"][..],
        &["query"],
        &["sql", "SELECT 1"],
        &["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"],
    ] {
        let mut all = vec!["--db", &dir_arg];
        all.extend_from_slice(args);
        let out = sb.run(&all).expect_code(ERROR);
        assert!(out.stderr.contains("is a directory, not a database file"), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("somewhere/prices.db"), "{args:?}: {}", out.stderr);
    }
    let out = sb.run(&["demo", "--db", &dir_arg]).expect_code(ERROR);
    assert!(out.stderr.contains("is a directory, not a database file"), "demo: {}", out.stderr);
    let nowhere = sb.dir.path().join("no/such/dir/prices.db");
    let out = sb
        .run(&["--db", &nowhere.to_string_lossy(), "enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"])
        .expect_code(ERROR);
    assert!(out.stderr.contains("there is no directory"), "{}", out.stderr);
}

#[test]
fn a_database_on_a_read_only_filesystem_can_still_be_read() {
    let sb = Sandbox::sqlite();
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03"]).expect_code(OK);
    let expected = sb.run(&["query", "--format", "json"]).expect_code(SETTLED).stdout;
    // A database whose last writer closed it cleanly: its -wal and -shm
    // files gone. (A process may end with a connection its pool was still
    // opening, which leaves them; where the -shm file is there, SQLite reads
    // through it, with locks, and there is nothing to note.) The last
    // connection to close checkpoints and removes them.
    pricequeue::store::testing::execute_batch(sb.path(), "PRAGMA wal_checkpoint(TRUNCATE)");
    for suffix in ["-wal", "-shm"] {
        let side = sb.dir.path().join(format!("prices.db{suffix}"));
        assert!(!side.exists(), "{} is still there", side.display());
    }
    let mount = sb.dir.path().join("ro");
    std::fs::create_dir(&mount).unwrap();
    // A read-only bind mount of the sandbox, in a user and mount namespace
    // of its own, so nothing outlives the test.
    let ro = |args: &[&str]| {
        let mut cmd = std::process::Command::new("unshare");
        cmd.args([
            "-rm",
            "sh",
            "-c",
            "mount --bind \"$1\" \"$2\" && mount -o remount,bind,ro \"$2\" && shift 2 && exec \"$@\"",
            "sh",
        ])
        .arg(sb.dir.path())
        .arg(&mount)
        .arg(crate::common::bin())
        .arg("--db")
        .arg(mount.join("prices.db"))
        .args(args);
        crate::common::run(cmd)
    };
    let out = ro(&["query", "--format", "json"]).expect_code(SETTLED);
    assert_eq!(out.stdout, expected);
    assert!(out.stderr.contains("is on a read-only filesystem"), "said so: {}", out.stderr);
    ro(&["status"]).expect_code(OK);
    ro(&["coverage"]).expect_code(SETTLED);
    let out = ro(&["sql", "SELECT count(*) AS n FROM prices", "--format", "csv"]).expect_code(OK);
    assert!(out.stdout.starts_with("n\n"), "{}", out.stdout);
    // Writing there is an error that says why.
    let out = ro(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--allow-unknown"]);
    assert_eq!(out.code, ERROR, "{}", out.stderr);
    assert!(out.stderr.contains("read-only"), "{}", out.stderr);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let sb = Sandbox::sqlite();
    let text = b"exchange,symbol\nbitstamp,btc\n".repeat(100);
    std::fs::write(sb.path(), &text).unwrap();
    for args in [
        &["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"][..],
        &["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"],
        &["status"],
        &["query"],
        &["work"],
        &["demo"],
    ] {
        let mut cmd = sb.command(args);
        if args[0] == "demo" {
            cmd.arg("--db").arg(sb.path());
        }
        let out = crate::common::run(cmd).expect_code(ERROR);
        assert!(out.stderr.contains("is not an SQLite database"), "{args:?}: {}", out.stderr);
        assert_eq!(std::fs::read(sb.path()).unwrap(), text, "{args:?} changed the file");
    }
    // Said of the file, not blamed on the SQL.
    let out = sb.run(&["sql", "SELECT 1 FROM tasks"]).expect_code(ERROR);
    assert!(out.stderr.contains("is not an SQLite database"), "{}", out.stderr);
    assert!(!out.stderr.contains("statement is not valid"), "{}", out.stderr);
    assert_eq!(std::fs::read(sb.path()).unwrap(), text);
}

#[test]
fn another_programs_database_is_refused_untouched() {
    let sb = Sandbox::sqlite();
    sb.execute_batch(
        "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts VALUES (1, 'x');",
    );
    let bytes = std::fs::read(sb.path()).unwrap();
    let out = sb.run(&["enqueue", "-e", "bitstamp", "-s", "btc", "--from", "2020-03-01"]).expect_code(ERROR);
    assert!(out.stderr.contains("not a pricequeue one"), "{}", out.stderr);
    assert_eq!(std::fs::read(sb.path()).unwrap(), bytes);
}

#[test]
fn a_database_from_a_newer_pricequeue_is_refused_untouched() {
    let sb = with_data();
    sb.execute("PRAGMA user_version = 99", &[]);
    let before = sb.dump();
    for args in [&["status"][..], &["work"], &["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("written by a newer pricequeue (schema version 99"), "{}", out.stderr);
    }
    assert_eq!(sb.dump(), before);
}

#[test]
fn reading_a_database_that_does_not_exist_creates_nothing() {
    let sb = Sandbox::sqlite();
    for args in [&["status"][..], &["query"], &["work"], &["sql", "SELECT 1"]] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("there is no database at"), "{args:?}: {}", out.stderr);
    }
    assert!(!sb.path().exists());
}

#[test]
fn reading_commands_do_not_turn_an_empty_file_into_a_database() {
    let sb = Sandbox::sqlite();
    std::fs::write(sb.path(), b"").unwrap();
    for args in [&["status"][..], &["query"], &["work"], &["retry"]] {
        let out = sb.run(args).expect_code(ERROR);
        assert!(out.stderr.contains("is empty, not a pricequeue database yet"), "{args:?}: {}", out.stderr);
    }
    assert_eq!(std::fs::metadata(sb.path()).unwrap().len(), 0);
}

#[test]
fn a_locked_database_is_named_with_what_to_do_and_nothing_is_lost() {
    let sb = with_data();
    let before = sb.dump();
    // Another program holds the write lock (a sqlite3 shell inside BEGIN).
    let holder = testing::hold_write_lock(sb.path());
    let out = sb
        .run(&["--busy-timeout", "300ms", "enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"])
        .expect_code(ERROR);
    assert!(out.stderr.contains("database is locked"), "{}", out.stderr);
    assert!(out.stderr.contains("hint: another program holds a lock on the database"), "{}", out.stderr);
    drop(holder);
    assert_eq!(sb.dump(), before);
    // Once the lock is gone, the same command works.
    sb.run(&["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01"]).expect_code(0);
}

#[test]
fn sql_refuses_sqlite_statements_that_could_write() {
    let sb = with_prices();
    let before = sb.dump();
    for sql in [
        "ATTACH DATABASE 'other.db' AS other",
        "PRAGMA journal_mode = DELETE",
        "PRAGMA user_version = 99",
        "VACUUM",
        "REINDEX",
        "BEGIN",
    ] {
        super::sql::refused(&sb, sql);
    }
    assert_eq!(sb.dump(), before, "the database changed");
    assert!(!sb.dir.path().join("other.db").exists(), "ATTACH created a file");
    let version: i64 = sb.one("PRAGMA user_version", &[]);
    assert_eq!(version, pricequeue::store::latest_version(&pricequeue::store::Location::from("x.db")));
}

#[test]
fn sql_refuses_writes_hidden_in_functions_and_pragma_tables() {
    let sb = with_prices();
    let before = std::fs::read(sb.path()).unwrap();
    let before_dump = sb.dump();
    let copy = sb.dir.path().join("copy.db");
    for sql in [
        "SELECT * FROM pragma_optimize".to_string(),
        "SELECT * FROM pragma_journal_mode('delete')".into(),
        "SELECT * FROM pragma_user_version".into(),
        "SELECT load_extension('/nonexistent')".into(),
        format!("VACUUM INTO '{}'", copy.display()),
    ] {
        let out = sb.run(&["sql", &sql]);
        assert_ne!(out.code, 0, "{sql} was run: {}", out.stdout);
        assert!(out.stderr.contains("read-only statement"), "{sql}: {}", out.stderr);
    }
    assert!(!copy.exists(), "VACUUM INTO wrote a copy");
    assert_eq!(sb.dump(), before_dump);
    assert_eq!(std::fs::read(sb.path()).unwrap(), before);

    // What is allowed still works: reading pragma tables.
    let out =
        sb.run(&["sql", "SELECT name FROM pragma_table_info('tasks') WHERE pk", "--format", "csv"]).expect_code(0);
    assert_eq!(out.stdout, "name\nid\n");
    let ndjson = sb.run(&["sql", "PRAGMA table_info(prices)", "--format", "ndjson"]).expect_code(0);
    let names: Vec<String> = ndjson
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["exchange", "symbol", "day", "open", "high", "low", "close", "volume", "fetched_at"]);
}

#[test]
fn sql_says_sqlites_own_words_for_a_missing_column() {
    let sb = with_prices();
    let out = sb.run(&["sql", "SELECT nope FROM prices"]).expect_code(1);
    assert!(out.stderr.contains("no such column"), "{}", out.stderr);
}

#[test]
fn sql_stops_at_its_time_limit_without_touching_the_file() {
    let sb = with_prices();
    let forever = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
    let before = std::fs::read(sb.path()).unwrap();
    sb.run(&["sql", forever, "--timeout", "300ms"]).expect_code(ERROR);
    assert_eq!(std::fs::read(sb.path()).unwrap(), before);
}

/// A database holding fetched prices (the `sql` tests' own).
fn with_prices() -> Sandbox {
    super::sql::fetched().expect("SQLite needs no server")
}

#[test]
fn a_new_database_in_a_read_only_directory_names_the_directory_once() {
    let sb = Sandbox::sqlite();
    let mount = sb.dir.path().join("ro");
    std::fs::create_dir(&mount).unwrap();
    // A read-only bind mount, as above: `chmod 555` does not stop root.
    let mut cmd = std::process::Command::new("unshare");
    cmd.args([
        "-rm",
        "sh",
        "-c",
        "mount --bind \"$1\" \"$2\" && mount -o remount,bind,ro \"$2\" && shift 2 && exec \"$@\"",
        "sh",
    ])
    .arg(sb.dir.path())
    .arg(&mount)
    .arg(crate::common::bin())
    .arg("--db")
    .arg(mount.join("new.db"))
    .args(["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-03-01", "--allow-unknown"]);
    let out = crate::common::run(cmd).expect_code(ERROR);
    let said = format!("its directory {} is on a read-only filesystem", mount.display());
    assert_eq!(out.stderr.matches(&said).count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("Pass --db with a path in a directory you can write to"), "{}", out.stderr);
    assert!(!out.stderr.contains("Error code 14"), "{}", out.stderr);
    assert!(!sb.dir.path().join("new.db").exists());
}

/// `args` run as a user other than the file's owner could be: in a user
/// namespace of its own whose one user (65534) is the sandbox's owner
/// mapped, without any capability, so the mode bits bind it as they bind
/// any user (`chmod` alone does not stop root).
fn as_owner_without_privileges(sb: &Sandbox, args: &[&str]) -> crate::common::Output {
    let mut cmd = std::process::Command::new("unshare");
    cmd.args(["-U", "--map-user=65534", "--map-group=65534"])
        .arg(crate::common::bin())
        .arg("--db")
        .arg(sb.path())
        .arg("--server")
        .arg(sb.server.url())
        .args(args)
        .current_dir(sb.dir.path())
        .env("XDG_CONFIG_HOME", sb.dir.path())
        .env_remove("PRICEQUEUE_DB")
        .env_remove("PRICEQUEUE_SERVER");
    crate::common::run(cmd)
}

fn chmod(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn permission_errors_name_what_is_wrong_and_never_blame_the_filesystem() {
    let sb = Sandbox::sqlite();
    sb.run(&["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03"]).expect_code(OK);
    let expected = sb.run(&["query", "--format", "json"]).expect_code(SETTLED).stdout;
    testing::execute_batch(sb.path(), "PRAGMA wal_checkpoint(TRUNCATE)");
    let before = sb.dump();
    let write = ["enqueue", "-e", "kraken", "-s", "btc", "--from", "2020-04-01"];
    let blames_the_filesystem = |text: &str| text.contains("read-only filesystem");

    // A file its user may not read: every command says so, readers included.
    for mode in [0o000, 0o200] {
        chmod(&sb.path(), mode);
        for args in [&["status"][..], &["query"], &["sql", "SELECT 1"], &write] {
            let out = as_owner_without_privileges(&sb, args).expect_code(ERROR);
            let shown = if mode == 0 { "(mode ---------" } else { "(mode -w-------" };
            assert!(out.stderr.contains(&format!("is not readable to you {shown}")), "{args:?}: {}", out.stderr);
            assert!(!out.stderr.contains("can read it") && !out.stderr.contains("write in it"), "{}", out.stderr);
            assert!(!blames_the_filesystem(&out.stderr), "{args:?}: {}", out.stderr);
        }
    }

    // Readable, not writable: reading works as before; writing is refused
    // as the file's mode, at once, nothing written.
    chmod(&sb.path(), 0o444);
    assert_eq!(as_owner_without_privileges(&sb, &["query", "--format", "json"]).expect_code(SETTLED).stdout, expected);
    for args in [&write[..], &["fetch", "-e", "bitstamp", "-s", "btc", "--from", "2020-03"], &["work"], &["retry"]] {
        let out = as_owner_without_privileges(&sb, args).expect_code(ERROR);
        assert!(out.stderr.contains("is not writable to you (mode r--r--r--"), "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains("query, status, coverage and sql can read it"), "{}", out.stderr);
        assert!(!blames_the_filesystem(&out.stderr) && !out.stderr.contains("Error code"), "{}", out.stderr);
        assert!(!out.stderr.contains("enqueued"), "said before anything: {}", out.stderr);
    }

    // Its directory not writable (no -wal or -shm can be made there): read
    // as it is on disk, and the note names the directory.
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(sb.dir.path().join(format!("prices.db{side}")));
    }
    chmod(sb.dir.path(), 0o555);
    let out = as_owner_without_privileges(&sb, &["query", "--format", "json"]).expect_code(SETTLED);
    assert_eq!(out.stdout, expected);
    assert!(out.stderr.contains("a directory not writable to you"), "{}", out.stderr);
    assert!(!blames_the_filesystem(&out.stderr), "{}", out.stderr);
    chmod(&sb.path(), 0o644);
    let out = as_owner_without_privileges(&sb, &write).expect_code(ERROR);
    let dir = std::path::absolute(sb.dir.path()).unwrap();
    assert!(
        out.stderr.contains(&format!("is in {}, a directory not writable to you", dir.display())),
        "{}",
        out.stderr
    );
    assert!(!blames_the_filesystem(&out.stderr) && !out.stderr.contains("Error code"), "{}", out.stderr);

    chmod(sb.dir.path(), 0o755);
    assert_eq!(sb.dump(), before, "nothing was changed");
}
