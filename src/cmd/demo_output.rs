//! What keeps the demo on one screen: its reports with a few rows of each
//! table, and its closing commands written so that they run as printed.

use std::io::{self, Write};

/// Rows of a table the demo shows; the rest are counted.
pub const ROWS: usize = 3;

/// A writer of the reports' text that keeps the first `keep` rows of each
/// table (the lines after a header's `----` rule, up to a blank line) and
/// writes `... N more rows` in place of the rest.
pub struct Shortened<W: Write> {
    out: W,
    keep: usize,
    line: Vec<u8>,
    /// Rows of the table being written, when in one.
    rows: Option<usize>,
}

impl<W: Write> Shortened<W> {
    pub fn new(out: W, keep: usize) -> Shortened<W> {
        Shortened { out, keep, line: Vec::new(), rows: None }
    }

    fn line(&mut self) -> io::Result<()> {
        let line = std::mem::take(&mut self.line);
        let text = String::from_utf8_lossy(&line);
        let body = text.trim_end_matches('\n');
        match self.rows {
            Some(_) if body.trim().is_empty() => {
                self.end_table()?;
                self.out.write_all(&line)
            }
            Some(n) => {
                self.rows = Some(n + 1);
                if n < self.keep {
                    self.out.write_all(&line)?;
                }
                Ok(())
            }
            None => {
                if body.starts_with('-') && body.chars().all(|c| c == '-' || c == ' ') {
                    self.rows = Some(0);
                }
                self.out.write_all(&line)
            }
        }
    }

    fn end_table(&mut self) -> io::Result<()> {
        if let Some(n) = self.rows.take() {
            if n > self.keep {
                let more = n - self.keep;
                writeln!(self.out, "... {more} more {}", if more == 1 { "row" } else { "rows" })?;
            }
        }
        Ok(())
    }

    /// Writes what is left: a last line without its newline, and the count
    /// of a table that ended the text.
    pub fn finish(mut self) -> io::Result<W> {
        if !self.line.is_empty() {
            self.line()?;
        }
        self.end_table()?;
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for Shortened<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        for &b in buf {
            self.line.push(b);
            if b == b'\n' {
                self.line()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// How to name this binary in a command the user copies: `pricequeue` when
/// that is what the shell's PATH finds, else the running binary's full path
/// (after `cargo run` nothing is on the PATH yet, and `cargo run --release
/// --` would build again, and depends on the directory and the profile).
pub fn program() -> String {
    let Ok(me) = std::env::current_exe().and_then(|p| p.canonicalize()) else {
        return "pricequeue".into();
    };
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).map(|d| d.join("pricequeue")).find(|p| p.is_file()));
    if on_path.flatten().and_then(|p| p.canonicalize().ok()).as_deref() == Some(me.as_path()) {
        "pricequeue".into()
    } else {
        quote(&me.display().to_string())
    }
}

/// A word as a POSIX shell reads it back: quoted when it would split.
pub fn quote(text: &str) -> String {
    if text.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shorten(text: &str, keep: usize) -> String {
        let mut w = Shortened::new(Vec::new(), keep);
        w.write_all(text.as_bytes()).unwrap();
        String::from_utf8(w.finish().unwrap()).unwrap()
    }

    #[test]
    fn long_tables_keep_their_first_rows_and_count_the_rest() {
        let text = "Prices\na  b\n-  -\n1  x\n2  y\n3  z\n4  w\n\nMissing: 1\na\n-\n1\n\ntotal\n";
        assert_eq!(
            shorten(text, 2),
            "Prices\na  b\n-  -\n1  x\n2  y\n... 2 more rows\n\nMissing: 1\na\n-\n1\n\ntotal\n"
        );
        assert_eq!(shorten("a\n-\n1\n2", 1), "a\n-\n1\n... 1 more row\n");
    }

    #[test]
    fn paths_are_quoted_only_when_a_shell_would_split_them() {
        assert_eq!(quote("/home/me/target/release/pricequeue"), "/home/me/target/release/pricequeue");
        assert_eq!(quote("/home/my dir/it's"), r"'/home/my dir/it'\''s'");
    }
}
