//! `chart`: the prices of one (exchange, symbol) drawn into an SVG or PNG
//! file, for a cron job that mails a picture.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use anyhow::{bail, Context, Result};

use super::open::open_selection;
use super::{Env, Execute};
use crate::cli::{ChartArgs, ChartOutput};
use crate::error::{Exit, Usage};
use crate::report::chart::{self, ChartData, Style};
use crate::resolve::ReportAsk;
use crate::selection::{Pair, Selection};

impl Execute for ChartArgs {
    fn execute(&self, env: &Env) -> Result<Exit> {
        // A name given is one name; one left open is filled in from the
        // database, as in `query`: `--symbol BTCUSDT` alone is the one
        // pair of that symbol with tasks.
        let asked = self.selection.ask();
        let ask = ReportAsk {
            exchanges: at_most_one(&asked.exchanges, "exchange")?,
            symbols: at_most_one(&asked.symbols, "symbol")?,
            ..asked
        };
        let Some((store, sel)) = open_selection(env, &ask)? else { return Ok(Exit::Incomplete) };
        let Pair { exchange, symbol } = one_pair(&sel)?;
        let data = ChartData::load_at(&store, exchange, symbol, (sel.from, sel.to), sel.interval)?;
        let style = if self.candles { Style::Candles } else { Style::Line };
        let size = self.size.unwrap_or(chart::DEFAULT_SIZE);
        let written = match &self.output {
            ChartOutput::Stdout => {
                let svg = chart::svg(&data, style, size)?;
                let mut out = io::stdout().lock();
                out.write_all(svg.as_bytes())
                    .and_then(|()| out.flush())
                    .context("writing the chart to standard output")?;
                "standard output".to_string()
            }
            ChartOutput::Svg(path) => write(path, chart::svg(&data, style, size)?.as_bytes())?,
            ChartOutput::Png(path) => write(path, &chart::png(&data, style, size)?)?,
        };
        // A written chart is a success (the missing days are drawn in it),
        // so `chart ... && mail` works; --strict asks for query's codes.
        let code = match self.strict {
            true => super::query::completeness(data.missing.len() as u64, data.unsettled()),
            false => Exit::Ok,
        };
        env.report(&format!("wrote the chart to {written}: {}", summary(&data)), code);
        Ok(code)
    }
}

/// The name a chart is of, if given: `--exchange` and `--symbol` each take
/// one name at most.
fn at_most_one(names: &[String], what: &str) -> Result<Vec<String>> {
    let names: Vec<&str> = names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()).collect();
    match names[..] {
        [] => Ok(vec![]),
        [name] if !name.eq_ignore_ascii_case("all") => Ok(vec![name.to_string()]),
        _ => bail!(Usage(format!(
            "--{what} {}: a chart is of one {what}; run chart once for each, with its own --output",
            names.join(",")
        ))),
    }
}

/// The one pair of the selection a chart draws; several is a usage error
/// that names them.
fn one_pair(sel: &Selection) -> Result<&Pair> {
    match &sel.pairs[..] {
        [pair] => Ok(pair),
        pairs => {
            const NAMED: usize = 8;
            let mut names: Vec<String> = pairs.iter().take(NAMED).map(Pair::to_string).collect();
            if pairs.len() > NAMED {
                names.push(format!("... {} more", pairs.len() - NAMED));
            }
            bail!(Usage(format!(
                "a chart is of one pair, and these flags leave {} with tasks ({}): name one with --exchange \
                 and --symbol (or --source)",
                pairs.len(),
                names.join(", ")
            )))
        }
    }
}

/// Writes the chart to `path`; what to call it in the summary.
fn write(path: &Path, bytes: &[u8]) -> Result<String> {
    std::fs::write(path, bytes).with_context(|| format!("writing the chart to {}", path.display()))?;
    Ok(path.display().to_string())
}

/// "bitstamp btc, 2020-03-01 to 2020-03-31: 25 prices, 6 missing (6 no data)";
/// below a day, "... 43,190 1m candles, 2 missing (2 no data)", the
/// missing counted in days.
fn summary(data: &ChartData) -> String {
    let from = data.source.as_deref().map(|s| format!(" from {s}")).unwrap_or_default();
    let mut line = format!(
        "{} {}{from}, {} to {}: {}, {} missing",
        data.exchange,
        data.symbol,
        data.from,
        data.to,
        match &data.candles {
            None => crate::words::plural(data.prices.len() as u64, "price", "prices"),
            Some(c) => crate::words::plural(
                c.candles.len() as u64,
                &format!("{} candle", c.interval),
                &format!("{} candles", c.interval)
            ),
        },
        data.missing.len()
    );
    let mut reasons: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, reason) in &data.missing {
        *reasons.entry(reason.code()).or_default() += 1;
    }
    if !reasons.is_empty() {
        let parts: Vec<String> = reasons.iter().map(|(r, n)| format!("{n} {r}")).collect();
        line.push_str(&format!(" ({})", parts.join(", ")));
    }
    line
}
