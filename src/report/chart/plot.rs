//! What a chart draws, in columns of the x axis: a day each at `1d`; below
//! a day, its slots reduced to the pixel columns the chart has (per
//! column: the first open, the highest high, the lowest low, the last
//! close), so a year of minutes draws as fast as a month of days. A column
//! without any candle is a gap, banded in the colour of why.

use chrono::NaiveDate;

use super::{ChartData, Reason};
use crate::interval::Interval;
use crate::life::Kind;
use crate::price::Price;

/// The chart's columns: what is drawn in each, and where the days fall.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Plot {
    /// How many columns the x axis has.
    pub units: i64,
    /// The columns with a price, in order.
    pub points: Vec<(i64, Price)>,
    /// Runs of columns without one, each with why: (first, last, kind).
    pub bands: Vec<(i64, i64, Kind)>,
    /// What the legend counts: days at `1d`, candles below.
    pub counted: &'static str,
    /// How many of those each kind of missing has.
    pub tally: Vec<(Kind, u64)>,
}

impl Plot {
    /// The plot of `data` in at most `columns` columns below a day (a
    /// column a day at `1d`, however many: as it always drew).
    pub fn of(data: &ChartData, columns: usize) -> Plot {
        match &data.candles {
            None => Plot::of_days(data),
            Some(candles) => Plot::of_candles(data, candles, columns),
        }
    }

    fn of_days(data: &ChartData) -> Plot {
        let index = |day: NaiveDate| (day - data.from).num_days();
        let points = data.prices.iter().map(|(day, p)| (index(*day), *p)).collect();
        let bands = data
            .missing
            .chunk_by(|(a, ra), (b, rb)| a.succ_opt() == Some(*b) && ra.kind() == rb.kind())
            .map(|run| (index(run[0].0), index(run[run.len() - 1].0), run[0].1.kind()))
            .collect();
        let tally = Kind::missing()
            .map(|k| (k, data.missing.iter().filter(|(_, r)| r.kind() == k).count() as u64))
            .filter(|(_, n)| *n > 0)
            .collect();
        Plot { units: data.days() as i64, points, bands, counted: "", tally }
    }

    fn of_candles(data: &ChartData, candles: &Candles, columns: usize) -> Plot {
        let interval = candles.interval;
        let first = interval.first_slot(data.from);
        let slots = data.days() as i64 * interval.per_day();
        let units = slots.min(columns.max(1) as i64).max(1);
        let reduced = reduce(&candles.candles, first, slots, units);
        let column = |slot: i64| column_of(slot - first, slots, units);
        // An empty column takes the reason of the first run that reaches it.
        let mut why: Vec<Option<Kind>> = vec![None; units as usize];
        for (a, b, reason) in &candles.gaps {
            for c in column(*a)..=column(*b) {
                let slot = &mut why[c as usize];
                if reduced[c as usize].is_none() && slot.is_none() {
                    *slot = Some(reason.kind());
                }
            }
        }
        let points = reduced.iter().enumerate().filter_map(|(i, p)| p.map(|p| (i as i64, p))).collect();
        let mut bands: Vec<(i64, i64, Kind)> = Vec::new();
        for (i, kind) in why.iter().enumerate() {
            let (Some(kind), i) = (*kind, i as i64) else { continue };
            match bands.last_mut() {
                Some((_, last, k)) if *last + 1 == i && *k == kind => *last = i,
                _ => bands.push((i, i, kind)),
            }
        }
        let tally = Kind::missing()
            .map(|k| {
                let n = candles.gaps.iter().filter(|(_, _, r)| r.kind() == k).map(|(a, b, _)| (b - a + 1) as u64);
                (k, n.sum())
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        Plot { units, points, bands, counted: "candles", tally }
    }

    /// The first column of `day` and the one after its last, for the
    /// hover layer: a day at `1d`, or its slots' columns below.
    pub fn day_columns(&self, data: &ChartData, day: NaiveDate) -> (i64, i64) {
        let index = (day - data.from).num_days();
        match &data.candles {
            None => (index, index + 1),
            Some(c) => {
                let per_day = c.interval.per_day();
                let slots = data.days() as i64 * per_day;
                let first = column_of(index * per_day, slots, self.units);
                (first, column_of((index + 1) * per_day - 1, slots, self.units) + 1)
            }
        }
    }

    /// The day a column shows (its first slot's).
    pub fn day_of(&self, data: &ChartData, column: i64) -> NaiveDate {
        let per_day = data.candles.as_ref().map_or(1, |c| c.interval.per_day());
        let slots = data.days() as i64 * per_day;
        // The first slot whose column is `column`: ceil(column * slots / units).
        let slot = (column * slots + self.units - 1).div_euclid(self.units.max(1));
        data.from + chrono::Duration::days(slot.div_euclid(per_day))
    }
}

/// The candles of a chart below a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Candles {
    pub interval: Interval,
    /// Each stored candle's slot and price, in order.
    pub candles: Vec<(i64, Price)>,
    /// Runs of slots without a candle, (first, last, why), in order.
    pub gaps: Vec<(i64, i64, Reason)>,
}

/// The column of the `index`-th of `slots` slots, in `units` columns.
fn column_of(index: i64, slots: i64, units: i64) -> i64 {
    (i128::from(index) * i128::from(units) / i128::from(slots.max(1))) as i64
}

/// `candles` (slot, price; in order) from slot `first` on, `slots` of
/// them, in `units` columns: each column's first open, highest high,
/// lowest low, last close and summed volume, or `None` where no candle
/// falls. One pass, whatever the count.
pub fn reduce(candles: &[(i64, Price)], first: i64, slots: i64, units: i64) -> Vec<Option<Price>> {
    let mut out: Vec<Option<Price>> = vec![None; units.max(0) as usize];
    for (slot, p) in candles {
        let index = slot - first;
        if index < 0 || index >= slots {
            continue;
        }
        let column = &mut out[column_of(index, slots, units) as usize];
        *column = Some(match *column {
            None => *p,
            Some(c) => Price {
                open: c.open,
                high: c.high.max(p.high),
                low: c.low.min(p.low),
                close: p.close,
                volume: c.volume + p.volume,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests;
