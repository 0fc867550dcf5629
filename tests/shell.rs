//! Completions and the man page come from the same definitions as --help.

use crate::common::SqliteSandbox as Sandbox;

#[test]
fn completions_know_every_subcommand_and_flag() {
    let sb = Sandbox::sqlite();
    for shell in ["bash", "zsh", "fish"] {
        let out = sb.run(&["completions", shell]).expect_code(0);
        for word in ["enqueue", "fetch", "coverage", "retry", "max-attempts", "exchange"] {
            assert!(out.stdout.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = sb.run(&["completions", "tcsh"]).expect_code(2);
    assert!(out.stderr.contains("possible values: bash"), "{}", out.stderr);
}

#[test]
fn the_man_page_is_roff_with_every_subcommand() {
    let sb = Sandbox::sqlite();
    let out = sb.run(&["man"]).expect_code(0);
    assert!(out.stdout.contains(".TH pricequeue 1"), "{}", &out.stdout[..200.min(out.stdout.len())]);
    for sub in ["ENQUEUE", "WORK", "FETCH", "QUERY", "SQL", "SERVE", "DEMO"] {
        assert!(out.stdout.contains(&format!(".SH \"PRICEQUEUE {sub}\"")), "no section for {sub}");
    }
    assert!(out.stdout.contains("max\\-attempts"), "the options of work are in it");
}
