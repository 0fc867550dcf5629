//! A report's selection as a page's address gives it
//! (`?exchange=kraken,bitstamp&symbol=btc&source=cryptodb&from=2020-03`),
//! and the form that writes it: the names and days of a report's flags, as
//! the same plain [`ReportAsk`], resolved the same way.

use maud::{html, Markup};
use serde::Deserialize;

use crate::resolve::{self, ReportAsk};
use crate::selection::Selection;
use crate::store::Store;

/// A report's selection as the address gives it: names separated by
/// commas, days as the command line writes them.
#[derive(Debug, Default, Deserialize)]
pub struct ReportSelectionQuery {
    #[serde(default)]
    pub exchange: String,
    #[serde(default)]
    pub symbol: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    /// The candles' interval, `1m` to `1d` (empty: `1d`).
    #[serde(default)]
    pub interval: String,
}

impl ReportSelectionQuery {
    /// What the address asks for, as a report's flags would.
    pub fn ask(&self) -> anyhow::Result<ReportAsk> {
        let names = |s: &str| s.split(',').map(str::trim).filter(|n| !n.is_empty()).map(String::from).collect();
        let day = |s: &str, what: &str| -> anyhow::Result<_> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            crate::dates::parse_span(s.trim())
                .map(Some)
                .map_err(|e| crate::error::Usage(format!("{what} {s:?}: {e}")).into())
        };
        let (from, to) = (day(&self.from, "from")?, day(&self.to, "to")?);
        let interval = match self.interval.trim() {
            "" => None,
            i => Some(i.parse().map_err(|e: String| crate::error::Usage(format!("interval: {e}")))?),
        };
        Ok(ReportAsk {
            exchanges: names(&self.exchange),
            symbols: names(&self.symbol),
            sources: names(&self.source),
            from: from.map(|s| s.first),
            to: to.or(from).map(|s| s.last),
            interval,
        })
    }

    /// The selection this names, the rest filled in from the database as a
    /// report's flags are; `None` when nothing is stored or queued for it.
    pub fn resolve(&self, store: &Store) -> anyhow::Result<Option<Selection>> {
        resolve::report_selection(store, &self.ask()?)
    }

    /// Whether the address names anything: without, a page shows all.
    pub fn is_set(&self) -> bool {
        ![&self.exchange, &self.symbol, &self.source, &self.from, &self.to, &self.interval]
            .iter()
            .all(|s| s.trim().is_empty())
    }

    /// The same, opened on the pair fetched last when it names neither an
    /// exchange nor a symbol: a page's first view shows prices, not the
    /// alphabetically first pair, which may be one whose every task failed.
    pub fn or_latest_pair(self, store: &Store) -> anyhow::Result<ReportSelectionQuery> {
        if [&self.exchange, &self.symbol, &self.source].iter().any(|s| !s.trim().is_empty()) {
            return Ok(self);
        }
        Ok(match store.latest_pair()? {
            Some((exchange, symbol)) => ReportSelectionQuery { exchange, symbol, ..self },
            None => self,
        })
    }

    /// The form that writes it, on the failures, coverage and prices pages:
    /// its fields show what the page shows (`shown`, the selection
    /// displayed), and what was typed where nothing is displayed; `extra`
    /// holds a page's own fields.
    pub fn form(&self, action: &str, shown: Option<&Selection>, extra: Markup) -> Markup {
        // One name shown: that one; several shown for an empty field are
        // all of them, as the placeholder says.
        let name = |typed: &str, shown_names: Option<std::collections::BTreeSet<&str>>| -> String {
            match shown_names {
                _ if !typed.trim().is_empty() => typed.to_string(),
                Some(names) if names.len() == 1 => names.into_iter().next().unwrap_or_default().to_string(),
                _ => String::new(),
            }
        };
        let exchange = name(&self.exchange, shown.map(|s| s.pairs.iter().map(|p| p.exchange.as_str()).collect()));
        let symbol = name(&self.symbol, shown.map(|s| s.pairs.iter().map(|p| p.symbol.as_str()).collect()));
        let (from, to) = match shown {
            Some(sel) => (sel.from.to_string(), sel.to.to_string()),
            None => (self.from.clone(), self.to.clone()),
        };
        html! {
            form.filter method="get" action=(action) {
                label { "exchange " input name="exchange" value=(exchange) placeholder="all"; }
                label { "symbol " input name="symbol" value=(symbol) placeholder="all"; }
                label { "source " input name="source" value=(self.source) placeholder="any"; }
                label { "from " input name="from" value=(from) placeholder="first day"; }
                label { "to " input name="to" value=(to) placeholder="last day"; }
                label { "interval "
                    select name="interval" {
                        @for i in crate::interval::Interval::ALL {
                            option value=(i) selected[shown.map_or(self.interval.trim() == i.name(), |s| s.interval == i)] { (i) }
                        }
                    }
                }
                (extra)
                button type="submit" { "Show" }
            }
        }
    }
}
