//! The command line against the documentation.

use crate::error::Exit;
use crate::source::Declarations;

#[test]
fn the_readme_help_and_man_page_give_each_exit_code_the_same_meaning() {
    let readme = include_str!("../../README.md");
    let table: Vec<(i32, String)> = readme
        .lines()
        .skip_while(|l| *l != "## Exit codes")
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let code = cells.get(1)?.parse().ok()?;
            Some((code, cells.get(2)?.replace('`', "")))
        })
        .collect();
    let want: Vec<(i32, String)> = Exit::ALL.iter().map(|e| (e.code(), e.meaning().to_string())).collect();
    assert_eq!(table, want, "the README's exit-code table");
    let help = super::command().render_long_help().to_string();
    let mut man = Vec::new();
    clap_mangen::Man::new(super::command()).render(&mut man).unwrap();
    let man = String::from_utf8(man).unwrap().replace("\\-", "-");
    for exit in Exit::ALL {
        let line = format!("{:<4} {}", exit.code(), exit.meaning());
        let one_line = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(one_line(&help).contains(&one_line(&line)), "--help lacks: {line}\n{help}");
        assert!(one_line(&man).contains(&one_line(exit.meaning())), "the man page lacks: {line}");
    }
}

#[test]
fn the_help_of_server_gives_each_built_in_source_s_own_address() {
    use clap::CommandFactory;
    let cli = super::Cli::command();
    let server = cli.get_arguments().find(|a| a.get_id() == "server").expect("--server");
    let help = server.get_long_help().or(server.get_help()).expect("its help").to_string();
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    let decls = Declarations::builtin();
    let sources: Vec<(String, String)> = decls
        .names()
        .into_iter()
        .filter_map(|name| decls.server(&name).map(|s| (name.clone(), s.to_string())))
        .collect();
    assert_eq!(sources.len(), 7, "the reference API and the six exchanges");
    for (name, address) in sources {
        assert!(help.contains(&format!("{name} {address}")), "--server's help lacks {name}'s {address}: {help}");
    }
}

#[test]
fn the_help_of_serve_names_every_fault() {
    use crate::server::Fault;
    let serve = super::command().find_subcommand("serve").expect("serve").clone();
    let fault = serve.get_arguments().find(|a| a.get_id() == "faults").expect("--fault");
    let help = fault.get_long_help().or(fault.get_help()).expect("its help").to_string();
    let words: Vec<&str> = help.split(|c: char| c.is_whitespace() || ",.;(".contains(c)).collect();
    for fault in Fault::ALL.into_iter().chain(Fault::STAND_IN).chain(Fault::RANGE) {
        assert!(words.contains(&fault.name()), "--fault's help lacks {}: {help}", fault.name());
    }
}
