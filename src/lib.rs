//! pricequeue: durable, resumable price downloads through a queue of them
//! on SQLite or PostgreSQL.
//!
//! Data flows one way: the command line (`cli`) picks a command (`cmd`),
//! which drives the queue (`store`) and the price API (`source`) through
//! the workers (`work`), and prints through `report`.

pub mod cli;
pub mod clock;
pub mod cmd;
pub mod dates;
pub mod error;
pub mod interval;
pub mod life;
pub mod owner;
pub mod price;
pub mod report;
pub mod resolve;
pub mod selection;
pub mod server;
pub mod source;
pub mod store;
pub mod ui;
pub mod value;
pub mod words;
pub mod work;

#[cfg(test)]
mod tests {
    /// Every file under `src/` named in the module map of
    /// `docs/development.md`, and every file the map names under `src/`
    /// there: the map is kept true.
    #[test]
    fn the_module_map_in_docs_development_matches_the_tree() {
        let doc = include_str!("../docs/development.md");
        let map: String =
            doc.lines().skip_while(|l| *l != "### Module map").take_while(|l| !l.starts_with("Beside")).collect();
        let mut named = std::collections::BTreeSet::new();
        for item in map.split("- `").skip(1) {
            // "src/cmd/enqueue.rs`, `fetch.rs`, ...: text" or "src/store/tests/model/`: ... (`mod.rs`, `ops.rs`)"
            let (head, rest) = item.split_once('`').unwrap_or((item, ""));
            let dir = if head.ends_with('/') {
                head.to_string()
            } else {
                head.rsplit_once('/').map_or(String::new(), |(d, _)| format!("{d}/"))
            };
            if !head.ends_with('/') {
                named.insert(head.to_string());
            }
            for part in rest.split('`').skip(1).step_by(2).filter(|p| p.ends_with(".rs") && !p.contains('/')) {
                named.insert(format!("{dir}{part}"));
            }
        }
        let mut files = std::collections::BTreeSet::new();
        let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_string_lossy().to_string();
                    files.insert(rel);
                }
            }
        }
        assert_eq!(named, files, "the module map in docs/development.md and src/ disagree");
    }

    /// Unit tests follow one convention (docs/development.md, "Unit
    /// tests"): a module's tests are its `#[cfg(test)] mod tests`, inline
    /// or in the file `mod tests;` finds without `#[path]`; no other module
    /// is `#[cfg(test)]`, and no file is named `*_tests.rs` or `*_props.rs`.
    #[test]
    fn unit_tests_follow_the_convention() {
        let mut broken = Vec::new();
        let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
        let mut dirs = vec![root.clone()];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let rel = path.strip_prefix(&root).unwrap().to_string_lossy().to_string();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if path.is_dir() {
                    if name.ends_with("_tests") {
                        broken.push(format!("src/{rel}/: a directory of tests is `tests/`"));
                    }
                    dirs.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                if name.ends_with("_tests.rs") || name.ends_with("_props.rs") {
                    broken.push(format!("src/{rel}: a file of tests is `tests.rs`, or under `tests/`"));
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let lines: Vec<&str> = text.lines().map(str::trim).collect();
                for (i, line) in lines.iter().enumerate() {
                    if line.starts_with("#[path") {
                        broken.push(format!("src/{rel}:{}: `#[path]`", i + 1));
                    }
                    if *line != "#[cfg(test)]" {
                        continue;
                    }
                    let item = lines[i + 1..].iter().find(|l| !l.is_empty() && !l.starts_with("#[")).unwrap_or(&"");
                    let item = item.trim_start_matches("pub(crate) ").trim_start_matches("pub(super) ");
                    if let Some(rest) = item.strip_prefix("mod ") {
                        let module = rest.trim_end_matches([';', '{', ' ']);
                        if module != "tests" {
                            broken.push(format!("src/{rel}:{}: test module `{module}`, not `tests`", i + 1));
                        }
                    }
                }
            }
        }
        broken.sort();
        assert!(broken.is_empty(), "unit tests that break the convention:\n{}", broken.join("\n"));
    }
}
