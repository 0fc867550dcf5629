//! The command line against the documentation.

use crate::error::Exit;

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
