//! Aligned columns for people: widths chosen from the first rows, numbers
//! to the right, and each column of decimals with one number of decimals
//! (`3982.80` above `4178.25`), so the points line up.

use std::io::Write;

use anyhow::Result;

use super::{Value, Writer};

/// Rows a table buffers to choose its column widths; later rows reuse them.
const SAMPLE: usize = 500;

/// The most decimals a column is padded to: beyond it a value keeps its own
/// shortest form (`0.30000000000000004`), which is rare and stays exact.
const MOST_DECIMALS: usize = 8;

#[derive(Default)]
pub(super) struct Table {
    columns: Vec<String>,
    sections: usize,
    sample: Vec<Vec<Value>>,
    numeric: Vec<bool>,
    /// Decimals of each column, chosen from the sample with the widths.
    decimals: Vec<usize>,
    widths: Option<Vec<usize>>,
}

impl Table {
    /// Writes the header and the sampled rows, once the widths are known.
    fn flush(&mut self, out: &mut dyn Write) -> Result<()> {
        self.decimals = vec![0; self.columns.len()];
        for row in &self.sample {
            for (d, value) in self.decimals.iter_mut().zip(row) {
                if let Value::Real(x) = value {
                    *d = (*d).max(decimals(*x).min(MOST_DECIMALS));
                }
            }
        }
        let sample: Vec<Vec<String>> = std::mem::take(&mut self.sample).iter().map(|r| self.cells(r)).collect();
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for row in &sample {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        write_row(out, &self.columns, &widths, &self.numeric)?;
        let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
        write_row(out, &rule, &widths, &self.numeric)?;
        for row in &sample {
            write_row(out, row, &widths, &self.numeric)?;
        }
        self.widths = Some(widths);
        Ok(())
    }

    /// A row's cells as shown: a real with its column's decimals where that
    /// loses nothing, every other value as it is.
    fn cells(&self, values: &[Value]) -> Vec<String> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Real(x) => {
                    let d = self.decimals.get(i).copied().unwrap_or(0);
                    if x.is_finite() && decimals(*x) <= d {
                        format!("{x:.d$}")
                    } else {
                        x.to_string()
                    }
                }
                _ => v.to_string(),
            })
            .collect()
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
        if self.numeric.is_empty() {
            self.numeric = values.iter().map(|v| matches!(v, Value::Integer(_) | Value::Real(_))).collect();
        }
        match &self.widths {
            Some(widths) => write_row(out, &self.cells(values), widths, &self.numeric)?,
            None => {
                self.sample.push(values.to_vec());
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

/// The decimals of a number's shortest exact form: 2 for 4178.25, 0 for 11780.
fn decimals(x: f64) -> usize {
    let shown = x.to_string();
    shown.split_once('.').map_or(0, |(_, fraction)| fraction.len())
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
