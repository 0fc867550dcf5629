//! Comma-separated values: a header row per section, one record per row.

use std::io::Write;

use anyhow::Result;

use super::{Value, Writer};

pub(super) struct Csv;

impl Writer for Csv {
    fn section(&mut self, out: &mut dyn Write, _name: &str, _title: Option<&str>, columns: &[String]) -> Result<()> {
        let mut w = ::csv::Writer::from_writer(out);
        w.write_record(columns)?;
        w.flush()?;
        Ok(())
    }

    fn row(&mut self, out: &mut dyn Write, values: &[Value]) -> Result<()> {
        let mut w = ::csv::Writer::from_writer(out);
        w.write_record(values.iter().map(|v| match v {
            Value::Null => String::new(),
            v => v.to_string(),
        }))?;
        w.flush()?;
        Ok(())
    }

    fn finish(&mut self, _out: &mut dyn Write) -> Result<()> {
        Ok(())
    }
}
