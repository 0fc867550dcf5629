//! Aligned columns for people: widths chosen from the first rows, numbers
//! to the right.

use std::io::Write;

use anyhow::Result;

use super::{Value, Writer};

/// Rows a table buffers to choose its column widths; later rows reuse them.
const SAMPLE: usize = 500;

#[derive(Default)]
pub(super) struct Table {
    columns: Vec<String>,
    sections: usize,
    sample: Vec<Vec<String>>,
    numeric: Vec<bool>,
    widths: Option<Vec<usize>>,
}

impl Table {
    /// Writes the header and the sampled rows, once the widths are known.
    fn flush(&mut self, out: &mut dyn Write) -> Result<()> {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &self.sample {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        write_row(out, &self.columns, &widths, &self.numeric)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        write_row(out, &rule, &widths, &self.numeric)?;
        for row in self.sample.drain(..) {
            write_row(out, &row, &widths, &self.numeric)?;
        }
        self.widths = Some(widths);
        Ok(())
    }

    fn end_section(&mut self, out: &mut dyn Write) -> Result<()> {
        if self.widths.is_none() && !self.columns.is_empty() {
            self.flush(out)?;
        }
        self.columns.clear();
        Ok(())
    }
}

impl Writer for Table {
    fn section(&mut self, out: &mut dyn Write, _name: &str, title: Option<&str>, columns: &[String]) -> Result<()> {
        self.end_section(out)?;
        if self.sections > 0 {
            writeln!(out)?;
        }
        if let Some(title) = title {
            writeln!(out, "{title}")?;
        }
        self.sections += 1;
        *self = Table { columns: columns.to_vec(), sections: self.sections, ..Table::default() };
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, values: &[Value]) -> Result<()> {
        let cells: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        if self.numeric.is_empty() {
            self.numeric = values.iter().map(|v| matches!(v, Value::Integer(_) | Value::Real(_))).collect();
        }
        match &self.widths {
            Some(widths) => write_row(out, &cells, widths, &self.numeric)?,
            None => {
                self.sample.push(cells);
                if self.sample.len() >= SAMPLE {
                    self.flush(out)?;
                }
            }
        }
        Ok(())
    }

    fn note(&mut self, out: &mut dyn Write, line: &str) -> Result<()> {
        self.end_section(out)?;
        writeln!(out, "{line}")?;
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Write) -> Result<()> {
        self.end_section(out)
    }
}

fn write_row(out: &mut dyn Write, cells: &[String], widths: &[usize], numeric: &[bool]) -> Result<()> {
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
