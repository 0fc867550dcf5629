//! Tabular output in each format: aligned tables for people, CSV, JSON and
//! NDJSON for programs. Rows stream through; nothing holds a whole result.

use std::io::Write;

use anyhow::Result;

/// A value of a report's row: what every output format knows how to write.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Real(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, for reading in a terminal.
    #[default]
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Ndjson,
}

/// Rows a table buffers to choose its column widths; later rows reuse them.
const TABLE_SAMPLE: usize = 500;

/// Writes one or more named sections of rows in one format.
///
/// With one section, JSON is an array of objects; with several, an object
/// holding an array per section, and NDJSON lines carry a `"kind"` field.
pub struct Output<W: Write> {
    format: Format,
    out: W,
    several: bool,
    columns: Vec<String>,
    section: String,
    sections: usize,
    rows: usize,
    table: Table,
}

#[derive(Default)]
struct Table {
    sample: Vec<Vec<String>>,
    numeric: Vec<bool>,
    widths: Option<Vec<usize>>,
}

impl<W: Write> Output<W> {
    /// An output that will hold one section (`several == false`) or more.
    pub fn new(format: Format, out: W, several: bool) -> Output<W> {
        Output {
            format,
            out,
            several,
            columns: Vec::new(),
            section: String::new(),
            sections: 0,
            rows: 0,
            table: Table::default(),
        }
    }

    /// Starts a section; `title` heads it in a table.
    pub fn section(&mut self, name: &str, title: Option<&str>, columns: &[&str]) -> Result<()> {
        self.end_section()?;
        self.columns = unique(columns);
        self.section = name.to_string();
        self.rows = 0;
        match self.format {
            Format::Table => {
                if self.sections > 0 {
                    writeln!(self.out)?;
                }
                if let Some(title) = title {
                    writeln!(self.out, "{title}")?;
                }
                self.table = Table::default();
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(&mut self.out);
                w.write_record(columns)?;
                w.flush()?;
            }
            Format::Json => {
                if self.several {
                    let sep = if self.sections == 0 { "{" } else { "," };
                    write!(self.out, "{sep}{}:[", serde_json::to_string(name)?)?;
                } else {
                    write!(self.out, "[")?;
                }
            }
            Format::Ndjson => {}
        }
        self.sections += 1;
        Ok(())
    }

    /// Writes one row of the current section.
    pub fn row(&mut self, values: &[Value]) -> Result<()> {
        match self.format {
            Format::Table => {
                let cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
                if self.table.numeric.is_empty() {
                    self.table.numeric =
                        values.iter().map(|v| matches!(v, Value::Integer(_) | Value::Real(_))).collect();
                }
                match &self.table.widths {
                    Some(widths) => write_table_row(&mut self.out, &cells, widths, &self.table.numeric)?,
                    None => {
                        self.table.sample.push(cells);
                        if self.table.sample.len() >= TABLE_SAMPLE {
                            self.flush_table()?;
                        }
                    }
                }
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(&mut self.out);
                w.write_record(values.iter().map(|v| match v {
                    Value::Null => String::new(),
                    v => v.to_string(),
                }))?;
                w.flush()?;
            }
            Format::Json | Format::Ndjson => {
                let mut obj = serde_json::Map::with_capacity(values.len() + 1);
                if self.format == Format::Ndjson && self.several {
                    obj.insert("kind".into(), self.section.clone().into());
                }
                for (c, v) in self.columns.iter().zip(values) {
                    obj.insert(c.clone(), serde_json::to_value(v)?);
                }
                if self.format == Format::Json && self.rows > 0 {
                    write!(self.out, ",")?;
                }
                serde_json::to_writer(&mut self.out, &obj)?;
                if self.format == Format::Ndjson {
                    writeln!(self.out)?;
                }
            }
        }
        self.rows += 1;
        Ok(())
    }

    /// Writes a line of text between sections: shown in a table, left out
    /// of the machine formats (whose callers put it on stderr instead).
    pub fn note(&mut self, line: &str) -> Result<()> {
        if self.format == Format::Table {
            self.end_section()?;
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// Ends the last section and flushes.
    pub fn finish(mut self) -> Result<W> {
        self.end_section()?;
        if self.format == Format::Json && self.several {
            write!(self.out, "{}", if self.sections == 0 { "{}" } else { "}" })?;
        }
        if self.format == Format::Json {
            writeln!(self.out)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn end_section(&mut self) -> Result<()> {
        match self.format {
            Format::Table if self.table.widths.is_none() && !self.columns.is_empty() => self.flush_table()?,
            Format::Json if !self.columns.is_empty() => write!(self.out, "]")?,
            _ => {}
        }
        self.columns.clear();
        Ok(())
    }

    fn flush_table(&mut self) -> Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.table.sample {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let header: Vec<String> = self.columns.clone();
        let numeric = &self.table.numeric;
        write_table_row(&mut self.out, &header, &widths, numeric)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        write_table_row(&mut self.out, &rule, &widths, numeric)?;
        for row in self.table.sample.drain(..) {
            write_table_row(&mut self.out, &row, &widths, numeric)?;
        }
        self.table.widths = Some(widths);
        Ok(())
    }
}

/// Column names made unique (`a`, `a_2`), so JSON objects lose no value.
fn unique(columns: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(columns.len());
    for c in columns {
        let mut name = c.to_string();
        let mut n = 1;
        while out.contains(&name) {
            n += 1;
            name = format!("{c}_{n}");
        }
        out.push(name);
    }
    out
}

fn write_table_row(out: &mut impl Write, cells: &[String], widths: &[usize], numeric: &[bool]) -> Result<()> {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        let w = widths.get(i).copied().unwrap_or(0);
        if i > 0 {
            line.push_str("  ");
        }
        let last = i + 1 == cells.len();
        if numeric.get(i).copied().unwrap_or(false) {
            line.push_str(&format!("{cell:>w$}"));
        } else if last {
            line.push_str(cell);
        } else {
            line.push_str(&format!("{cell:<w$}"));
        }
    }
    writeln!(out, "{}", line.trim_end())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(format: Format, several: bool) -> String {
        let mut o = Output::new(format, Vec::new(), several);
        o.section("prices", Some("Prices"), &["exchange", "close"]).unwrap();
        o.row(&[Value::Text("bitstamp".into()), Value::Real(7934.57)]).unwrap();
        o.row(&[Value::Text("kraken, \"eu\"".into()), Value::Integer(11780)]).unwrap();
        if several {
            o.section("missing", None, &["day"]).unwrap();
            o.row(&[Value::Text("2020-03-01".into())]).unwrap();
        }
        String::from_utf8(o.finish().unwrap()).unwrap()
    }

    #[test]
    fn tables_align_numbers_right() {
        let t = render(Format::Table, false);
        assert_eq!(
            t,
            "Prices\nexchange        close\n------------  -------\nbitstamp      7934.57\nkraken, \"eu\"    11780\n"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(render(Format::Csv, false), "exchange,close\nbitstamp,7934.57\n\"kraken, \"\"eu\"\"\",11780\n");
    }

    #[test]
    fn json_is_an_array_or_an_object_of_arrays() {
        let one: serde_json::Value = serde_json::from_str(&render(Format::Json, false)).unwrap();
        assert_eq!(one[1]["close"], 11780);
        let many: serde_json::Value = serde_json::from_str(&render(Format::Json, true)).unwrap();
        assert_eq!(many["prices"][0]["exchange"], "bitstamp");
        assert_eq!(many["missing"][0]["day"], "2020-03-01");
    }

    #[test]
    fn ndjson_lines_name_their_section() {
        let text = render(Format::Ndjson, true);
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[2]["kind"], "missing");
    }
}
