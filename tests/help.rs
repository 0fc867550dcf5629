use crate::common::{run, SqliteSandbox as Sandbox};

#[test]
fn every_help_ends_with_an_example() {
    let sb = Sandbox::sqlite();
    for sub in ["", "enqueue", "work", "fetch", "status", "query", "chart", "sql", "serve", "demo", "remove"] {
        for flag in ["-h", "--help"] {
            let mut cmd = sb.command(&[]);
            if !sub.is_empty() {
                cmd.arg(sub);
            }
            let out = run({
                cmd.arg(flag);
                cmd
            })
            .expect_code(0);
            let last = out.stdout.trim_end().lines().last().unwrap_or("").trim_start();
            assert!(
                last.starts_with("pricequeue ") || last.starts_with("sqlite3 "),
                "`{sub} {flag}` ends with {last:?}"
            );
            assert!(out.stdout.contains("Example"), "`{sub} {flag}`");
        }
    }
}
