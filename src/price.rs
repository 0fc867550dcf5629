//! The values pricequeue moves around: a day's price, a candle below a day, and a stored price.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One day's price of one symbol on one exchange, as the API sends it.
///
/// Integers and floats both deserialize into `f64`; the API's `exchange`,
/// `symbol` and `day` echo the request and are checked by the source.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Price {
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// One candle below a day: its slot's open time, in Unix minutes (UTC),
/// and its price. Its interval is the task's or the series' it belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candle {
    pub minute: i64,
    pub price: Price,
}

/// A stored price with the cell it belongs to, as `query` reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PriceRow {
    pub exchange: String,
    pub symbol: String,
    pub day: NaiveDate,
    #[serde(flatten)]
    pub price: Price,
    pub fetched_at: String,
}
