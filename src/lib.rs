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
            // "src/cmd/enqueue.rs`, `fetch.rs`, ...: text" or "src/store/model/`: ... (`mod.rs`, `ops.rs`)"
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
}
