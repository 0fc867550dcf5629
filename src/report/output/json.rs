//! JSON for programs: one document (an array of objects, or an object of
//! arrays for several sections), or NDJSON, one object per line. Columns
//! keep their order.

use std::io::Write;

use anyhow::Result;

use super::{Value, Writer};

/// One row as a JSON object, its columns in order.
fn object(
    columns: &[String],
    values: &[Value],
    kind: Option<&str>,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut obj = serde_json::Map::with_capacity(values.len() + 1);
    if let Some(kind) = kind {
        obj.insert("kind".into(), kind.into());
    }
    for (c, v) in columns.iter().zip(values) {
        obj.insert(c.clone(), serde_json::to_value(v)?);
    }
    Ok(obj)
}

pub(super) struct Json {
    several: bool,
    columns: Vec<String>,
    sections: usize,
    rows: usize,
}

impl Json {
    pub(super) fn new(several: bool) -> Json {
        Json { several, columns: Vec::new(), sections: 0, rows: 0 }
    }

    fn end_section(&mut self, out: &mut dyn Write) -> Result<()> {
        if !self.columns.is_empty() {
            write!(out, "]")?;
        }
        self.columns.clear();
        Ok(())
    }
}

impl Writer for Json {
    fn section(&mut self, out: &mut dyn Write, name: &str, _title: Option<&str>, columns: &[String]) -> Result<()> {
        self.end_section(out)?;
        if self.several {
            let sep = if self.sections == 0 { "{" } else { "," };
            write!(out, "{sep}{}:[", serde_json::to_string(name)?)?;
        } else {
            write!(out, "[")?;
        }
        self.columns = columns.to_vec();
        self.sections += 1;
        self.rows = 0;
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, values: &[Value]) -> Result<()> {
        if self.rows > 0 {
            write!(out, ",")?;
        }
        serde_json::to_writer(&mut *out, &object(&self.columns, values, None)?)?;
        self.rows += 1;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> Result<()> {
        self.end_section(out)?;
        if self.several {
            write!(out, "{}", if self.sections == 0 { "{}" } else { "}" })?;
        }
        writeln!(out)?;
        Ok(())
    }
}

pub(super) struct Ndjson {
    several: bool,
    columns: Vec<String>,
    section: String,
}

impl Ndjson {
    pub(super) fn new(several: bool) -> Ndjson {
        Ndjson { several, columns: Vec::new(), section: String::new() }
    }
}

impl Writer for Ndjson {
    fn section(&mut self, _out: &mut dyn Write, name: &str, _title: Option<&str>, columns: &[String]) -> Result<()> {
        self.columns = columns.to_vec();
        self.section = name.to_string();
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, values: &[Value]) -> Result<()> {
        let kind = self.several.then_some(self.section.as_str());
        serde_json::to_writer(&mut *out, &object(&self.columns, values, kind)?)?;
        writeln!(out)?;
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write) -> Result<()> {
        Ok(())
    }
}
