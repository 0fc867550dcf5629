//! Where a database is: an SQLite file, or a PostgreSQL database named by
//! a URL.

use std::path::{Path, PathBuf};

/// Where a database is. Messages name the database by it (a URL with
/// its password hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file.
    File(PathBuf),
    /// A PostgreSQL database: `postgres://user@host:port/dbname`.
    Postgres(String),
}

impl Location {
    /// `postgres://...` or `postgresql://...` names a PostgreSQL database;
    /// anything else is an SQLite file's path.
    pub fn parse(text: &str) -> Location {
        let lower = text.get(..13).unwrap_or(text).to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Location::Postgres(text.to_string())
        } else {
            Location::File(PathBuf::from(text))
        }
    }

    /// Whether the database is a PostgreSQL one.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres(_))
    }
}

impl From<&Path> for Location {
    fn from(p: &Path) -> Location {
        Location::parse(&p.to_string_lossy())
    }
}

impl From<PathBuf> for Location {
    fn from(p: PathBuf) -> Location {
        Location::from(p.as_path())
    }
}

impl From<&str> for Location {
    fn from(s: &str) -> Location {
        Location::parse(s)
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::File(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&hide_password(url)),
        }
    }
}

/// The URL with its passwords replaced by `***`: that of its
/// `user:password@` part, and a `password=` (or `sslpassword=`) in its query.
fn hide_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or("");
            format!("{user}:***@{host}")
        }
        _ => authority.to_string(),
    };
    let path = match path.split_once('?') {
        Some((path, query)) => {
            let pairs: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key @ ("password" | "sslpassword"), _)) => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            format!("{path}?{}", pairs.join("&"))
        }
        None => path.to_string(),
    };
    format!("{scheme}://{authority}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_postgres_and_anything_else_a_file() {
        assert!(Location::parse("postgres://u@h/db").is_postgres());
        assert!(Location::parse("PostgreSQL://u@h:5432/db").is_postgres());
        assert_eq!(Location::parse("prices.db"), Location::File("prices.db".into()));
        assert_eq!(Location::parse("postgres.db"), Location::File("postgres.db".into()));
        assert_eq!(Location::parse("./postgres://x"), Location::File("./postgres://x".into()));
    }

    #[test]
    fn a_password_is_never_shown() {
        let shown = Location::parse("postgres://ann:s3cret@db.example:5432/prices?sslmode=disable").to_string();
        assert_eq!(shown, "postgres://ann:***@db.example:5432/prices?sslmode=disable");
        assert_eq!(Location::parse("postgres://ann@h/db").to_string(), "postgres://ann@h/db");
        let shown = Location::parse("postgres://ann@h/db?password=s3cret&sslmode=require&sslpassword=k3y").to_string();
        assert_eq!(shown, "postgres://ann@h/db?password=***&sslmode=require&sslpassword=***");
    }
}
