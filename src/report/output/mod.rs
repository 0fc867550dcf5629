//! Tabular output in each format: aligned tables for people, CSV, JSON and
//! NDJSON for programs. Rows stream through; nothing holds a whole result.
//!
//! A report speaks to [`Output`] (sections of rows, notes between them);
//! each format is a [`Writer`] of its own (`table.rs`, `csv.rs`,
//! `json.rs`), and the bytes go through a buffer to the destination.

mod csv;
mod json;
mod table;

use std::io::{BufWriter, Write};

use anyhow::Result;

pub use crate::value::Value;

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

/// One output format: how it starts a section, writes a row, and ends.
trait Writer {
    /// Starts a section named `name` of `columns` (made unique); `title`
    /// heads it where the format shows titles.
    fn section(&mut self, out: &mut dyn Write, name: &str, title: Option<&str>, columns: &[String]) -> Result<()>;
    /// Writes one row of the current section.
    fn row(&mut self, out: &mut dyn Write, values: &[Value]) -> Result<()>;
    /// A line of text between sections: shown in a table, left out of the
    /// machine formats (whose callers put it on stderr instead).
    fn note(&mut self, _out: &mut dyn Write, _line: &str) -> Result<()> {
        Ok(())
    }
    /// Ends the last section and the document.
    fn finish(&mut self, out: &mut dyn Write) -> Result<()>;
}

/// Writes one or more named sections of rows in one format.
///
/// With one section, JSON is an array of objects; with several, an object
/// holding an array per section, and NDJSON lines carry a `"kind"` field.
pub struct Output<W: Write> {
    out: BufWriter<W>,
    writer: Box<dyn Writer>,
}

impl<W: Write> Output<W> {
    /// An output that will hold one section (`several == false`) or more.
    pub fn new(format: Format, out: W, several: bool) -> Output<W> {
        let writer: Box<dyn Writer> = match format {
            Format::Table => Box::new(table::Table::default()),
            Format::Csv => Box::new(csv::Csv),
            Format::Json => Box::new(json::Json::new(several)),
            Format::Ndjson => Box::new(json::Ndjson::new(several)),
        };
        Output { out: BufWriter::new(out), writer }
    }

    /// Starts a section; `title` heads it in a table.
    pub fn section(&mut self, name: &str, title: Option<&str>, columns: &[&str]) -> Result<()> {
        self.writer.section(&mut self.out, name, title, &unique(columns))
    }

    /// Writes one row of the current section.
    pub fn row(&mut self, values: &[Value]) -> Result<()> {
        self.writer.row(&mut self.out, values)
    }

    /// Writes a line of text between sections (a table's only).
    pub fn note(&mut self, line: &str) -> Result<()> {
        self.writer.note(&mut self.out, line)
    }

    /// Ends the last section and flushes.
    pub fn finish(mut self) -> Result<W> {
        self.writer.finish(&mut self.out)?;
        self.out.flush()?;
        self.out.into_inner().map_err(|e| e.into_error().into())
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
    fn a_tables_prices_line_up_on_one_number_of_decimals() {
        let mut o = Output::new(Format::Table, Vec::new(), false);
        o.section("prices", None, &["close", "volume"]).unwrap();
        for (close, volume) in [(3982.8, 12.0), (4178.25, 0.5), (11780.0, 0.1 + 0.2)] {
            o.row(&[Value::Real(close), Value::Real(volume)]).unwrap();
        }
        let t = String::from_utf8(o.finish().unwrap()).unwrap();
        // The volume column pads to 8 decimals; the one value that needs
        // more keeps its exact form rather than being rounded.
        assert_eq!(
            t,
            "   close               volume\n--------  -------------------\n 3982.80          12.00000000\n \
             4178.25           0.50000000\n11780.00  0.30000000000000004\n"
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
