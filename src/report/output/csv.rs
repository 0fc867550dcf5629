//! Comma-separated values: a header row per section, one record per row.

use std::io::Write;

use anyhow::Result;

use super::{Value, Writer};

pub(super) struct Csv;

impl Writer for Csv {
    fn section(&mut self, out: &mut dyn Write, _name: &str, _title: Option<&str>, columns: &[String]) -> Result<()> {
        record(out, columns.iter().map(|c| Field::Text(c)))
    }

    // Written field by field, straight into the output's buffer: a csv
    // writer per row allocated its own 8 KiB buffer, most of the time of a
    // year of 1m candles (525,600 rows).
    fn row(&mut self, out: &mut dyn Write, values: &[Value]) -> Result<()> {
        record(
            out,
            values.iter().map(|v| match v {
                Value::Null => Field::Text(""),
                Value::Text(s) => Field::Text(s),
                other => Field::Number(other),
            }),
        )
    }

    fn finish(&mut self, _out: &mut dyn Write) -> Result<()> {
        Ok(())
    }
}

/// A field of a record: text, quoted where it must be, or a number.
enum Field<'a> {
    Text(&'a str),
    Number(&'a Value),
}

/// Writes one record as the `csv` crate does by default: a field quoted
/// only where it holds a comma, a quote or a line break (its quotes
/// doubled), or where it is the only field and empty; records end in `\n`.
fn record<'a>(out: &mut dyn Write, fields: impl Iterator<Item = Field<'a>>) -> Result<()> {
    let mut fields = fields.peekable();
    let mut first = true;
    while let Some(field) = fields.next() {
        if !first {
            out.write_all(b",")?;
        }
        match field {
            Field::Number(v) => write!(out, "{v}")?,
            Field::Text(s) if s.contains([',', '"', '\n', '\r']) => {
                write!(out, "\"{}\"", s.replace('"', "\"\""))?;
            }
            Field::Text("") if first && fields.peek().is_none() => out.write_all(b"\"\"")?,
            Field::Text(s) => out.write_all(s.as_bytes())?,
        }
        first = false;
    }
    out.write_all(b"\n")?;
    Ok(())
}
