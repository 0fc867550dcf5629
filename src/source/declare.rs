//! Source declarations: one TOML table per price API, saying where its
//! candles are, how to read them and how it says "slow down"
//! (`docs/sources.md`, "Declaring a source"). The built-in ones are
//! `builtin/*.toml`, embedded in the binary.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::template::Template;

pub use super::format::{Cap, Declaration, List, Order, Paging, RowLayout, WEIGHT_MARGIN};

mod check;

use check::validate;

/// The built-in declarations, embedded in the binary.
const BUILTIN: &[(&str, &str)] = &[
    ("binance", include_str!("builtin/binance.toml")),
    ("coinbase", include_str!("builtin/coinbase.toml")),
    ("kraken", include_str!("builtin/kraken.toml")),
    ("bitstamp", include_str!("builtin/bitstamp.toml")),
    ("bitfinex", include_str!("builtin/bitfinex.toml")),
    ("okx", include_str!("builtin/okx.toml")),
    ("cryptodb", include_str!("builtin/cryptodb.toml")),
];

/// The known sources: the built-ins plus declared ones.
#[derive(Debug, Clone, Default)]
pub struct Declarations {
    sources: BTreeMap<String, (Declaration, bool)>,
}

impl Declarations {
    /// The built-in sources.
    pub fn builtin() -> Declarations {
        let mut all = Declarations::default();
        for (name, text) in BUILTIN {
            // A test parses every built-in, so this cannot fail in a build that passed them.
            let parsed =
                Declarations::parse(text, &format!("built-in {name}.toml")).expect("built-in declarations parse");
            for (n, (d, _)) in parsed.sources {
                all.sources.insert(n, (d, true));
            }
        }
        all
    }

    /// Reads declarations (a TOML file, one table per source). Errors name
    /// `origin`, the line and column (`origin:LINE:COLUMN:`, as compilers
    /// write them), the source and the key, and say what to write instead.
    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Declarations> {
        let place = |span: Option<std::ops::Range<usize>>| {
            span.map_or_else(|| origin.to_string(), |s| format!("{origin}:{}", line_and_column(text, s.start)))
        };
        let document = toml::de::DeTable::parse(text).map_err(|e| {
            anyhow::anyhow!("{}: not valid TOML: {}", place(e.span()), e.message().trim_end().replace('\n', "; "))
        })?;
        let mut sources = BTreeMap::new();
        for (key, value) in document.get_ref().iter() {
            let name = key.get_ref().to_string();
            let at = |span| format!("{}: source [{name}]", place(span));
            check_name(&name).map_err(|e| anyhow::anyhow!("{}: {e}", at(Some(key.span()))))?;
            if !value.get_ref().is_table() {
                anyhow::bail!(
                    "{}: a source is a table: write [{name}] on a line of its own, then its keys (server = \"...\", ...)",
                    at(Some(key.span()))
                );
            }
            let decl = Declaration::deserialize(toml::de::ValueDeserializer::from(value.clone()))
                .map_err(|e| anyhow::anyhow!("{}: {}", at(e.span().or(Some(key.span()))), explain(e.message())))?;
            validate(&decl).map_err(|e| {
                // The key's own place, or the nearest table it belongs in.
                let span = key_span(value, &e.key).unwrap_or_else(|| key.span());
                anyhow::anyhow!("{}, {e}", at(Some(span)))
            })?;
            sources.insert(name, (decl, false));
        }
        Ok(Declarations { sources })
    }

    /// The sources `text` declares (its tables), read past any mistake in
    /// it: the names a broken file keeps from use.
    pub fn names_in(text: &str) -> Vec<String> {
        let (document, _) = toml::de::DeTable::parse_recoverable(text);
        document.get_ref().iter().map(|(name, _)| name.get_ref().to_string()).collect()
    }

    /// Adds `other`'s sources; a name may be declared once, and never a built-in's.
    pub fn merge(&mut self, other: Declarations) -> anyhow::Result<()> {
        for (name, (decl, builtin)) in other.sources {
            if let Some((_, was_builtin)) = self.sources.get(&name) {
                if *was_builtin {
                    anyhow::bail!(
                        "source [{name}] is built in and cannot be declared again: give yours another name, like [{name}-mine]"
                    );
                }
                anyhow::bail!("source [{name}] is declared twice: keep one of them");
            }
            self.sources.insert(name, (decl, builtin));
        }
        Ok(())
    }

    /// Whether `name` is the built-in source `--source` defaults to, whose
    /// name is left out while it is the only one in play (`unnamed`).
    pub fn is_unnamed(name: &str) -> bool {
        static BUILTIN: std::sync::OnceLock<Declarations> = std::sync::OnceLock::new();
        BUILTIN.get_or_init(Declarations::builtin).get(name).is_some_and(|d| d.unnamed)
    }

    /// Every source's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.sources.keys().cloned().collect()
    }

    /// Whether `name` is built in.
    pub fn is_builtin(&self, name: &str) -> bool {
        self.sources.get(name).is_some_and(|(_, b)| *b)
    }

    /// One declaration as TOML text, to store in the database: templates
    /// name environment variables, never hold their values. `parse` gives it back.
    pub fn text(&self, name: &str) -> Option<String> {
        let (decl, _) = self.sources.get(name)?;
        let one = BTreeMap::from([(name, decl)]);
        toml::to_string(&one).ok()
    }

    /// A declared source's own base URL, which --server replaces.
    pub fn server(&self, name: &str) -> Option<&str> {
        self.get(name).map(|d| d.server.as_str())
    }

    /// The environment variables a source's requests need.
    pub fn variables(&self, name: &str) -> Vec<String> {
        self.get(name).map(|d| variables(d, true)).unwrap_or_default()
    }

    /// The same, at a server of the user's (`--server`): the declared
    /// server's variables are not needed there.
    pub fn variables_at(&self, name: &str, server: Option<&str>) -> Vec<String> {
        self.get(name).map(|d| variables(d, server.is_none())).unwrap_or_default()
    }

    /// How a source's answers are read (`[NAME.rows]`).
    pub fn rows(&self, name: &str) -> Option<&RowLayout> {
        self.get(name).map(|d| &d.rows)
    }

    pub(super) fn get(&self, name: &str) -> Option<&Declaration> {
        self.sources.get(name).map(|(d, _)| d)
    }
}

/// `LINE:COLUMN` of the byte `offset` of `text`, both from 1.
fn line_and_column(text: &str, offset: usize) -> String {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{line}:{column}")
}

/// Where the key `path` (`rows.close`, `error[1].at`) of a source's table
/// is written: the key itself, or the nearest table on its way that is
/// there (a key left out is missing from that table).
fn key_span(table: &toml::Spanned<toml::de::DeValue>, path: &str) -> Option<std::ops::Range<usize>> {
    let mut at = table;
    let mut found = None;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Some((key, value)) = at.get_ref().as_table().and_then(|t| t.iter().find(|(k, _)| k.get_ref() == name))
        else {
            break;
        };
        found = Some(key.span());
        at = value;
        if let Some(i) = index {
            let Some(item) = at.get_ref().as_array().and_then(|a| a.get(i)) else { break };
            found = Some(item.span());
            at = item;
        }
    }
    found
}

/// The environment variables a declaration's templates name (its
/// server's too, `with_server`), sorted, once each.
pub(super) fn variables(decl: &Declaration, with_server: bool) -> Vec<String> {
    let mut names = Vec::new();
    let lists = [&decl.symbols, &decl.exchanges];
    let templates = std::iter::once(&decl.candles)
        .chain(decl.headers.values())
        .chain(lists.into_iter().flatten().map(|l| &l.url))
        .chain(with_server.then_some(&decl.server));
    for t in templates {
        if let Ok(t) = Template::parse(t) {
            names.extend(t.variables());
        }
    }
    names.sort();
    names.dedup();
    names
}

fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 40
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !ok {
        return Err("a source's name is 1 to 40 of a-z, 0-9, '-' and '_', like [my-source]".to_string());
    }
    Ok(())
}

/// serde's message, with what to write for the mistakes people make.
fn explain(message: &str) -> String {
    let hints = [
        ("missing field `candles`", "add candles = \"{server}/path?symbol={symbol}&from={first:unix}&to={last:unix}\""),
        ("missing field `server`", "add server = \"https://api.example.com\" (--server replaces it)"),
        (
            "missing field `rows`",
            "add a [NAME.rows] table saying where the rows are (json = \"/data\") and their fields",
        ),
        ("missing field `max_days`", "add max_days = N, the most days one request may ask for"),
        ("missing field `paging`", "add paging = \"forward\" (answers start at the first day) or \"backward\""),
        ("missing field `order`", "add order = \"oldest_first\" or \"newest_first\""),
        (
            "missing field `time_format`",
            "add time_format = \"s\", \"ms\", \"date\", \"iso\" or a format like \"%d-%m-%Y\"",
        ),
        ("missing field `close`", "add close = N (the index in an array row) or close = \"name\""),
    ];
    match hints.iter().find(|(m, _)| message.contains(m)) {
        Some((_, hint)) => format!("{}: {hint}", message.trim_end()),
        None => message.trim_end().to_string(),
    }
}
