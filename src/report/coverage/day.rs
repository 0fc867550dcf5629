//! What one day of a row holds, and the counts of days that a column, a
//! row or the whole grid sums up to a [`State`].

use super::State;
use crate::store::Reason;
use crate::words::plural;

/// What one day of a row holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Day {
    /// A stored price.
    Price,
    /// The server answered that it has no price for the day.
    NoData,
    /// The source cannot serve a day that old (Kraken keeps its latest 720).
    OutsideHistory,
    /// Gave up (or its price row was deleted by hand: done, yet missing,
    /// and fetching again will not bring it back either).
    Failed,
    /// Queued, or held by a worker.
    Pending,
    /// Never enqueued.
    NotAsked,
    /// Its day has not come due (or its price was not published yet).
    NotYetDue,
    /// A failure given up on for good (`retry --never`).
    Abandoned,
}

impl Day {
    /// The day of a cell as [`Store::for_each_cell`](crate::store::Store::for_each_cell) reports it: `None`
    /// has a price, otherwise why it has none.
    pub fn of(reason: Option<&Reason>) -> Day {
        match reason {
            None => Day::Price,
            Some(Reason::NoData) => Day::NoData,
            Some(Reason::OutsideHistory) => Day::OutsideHistory,
            Some(Reason::Failed { .. } | Reason::PriceDeleted) => Day::Failed,
            Some(Reason::Queued { .. } | Reason::InProgress) => Day::Pending,
            Some(Reason::NotQueued) => Day::NotAsked,
            // Asked again by a later run, as a day not yet due is.
            Some(Reason::NotYetDue { .. } | Reason::Cooling { .. }) => Day::NotYetDue,
            Some(Reason::Abandoned { .. }) => Day::Abandoned,
        }
    }
}

/// Days by what they hold: the days of one column, of a row, or of the
/// whole grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub prices: u64,
    pub no_data: u64,
    pub outside_history: u64,
    pub failed: u64,
    pub pending: u64,
    pub not_asked: u64,
    pub not_yet_due: u64,
    pub abandoned: u64,
}

impl DayCounts {
    /// Counts one more day.
    pub fn add(&mut self, day: Day) {
        match day {
            Day::Price => self.prices += 1,
            Day::NoData => self.no_data += 1,
            Day::OutsideHistory => self.outside_history += 1,
            Day::Failed => self.failed += 1,
            Day::Pending => self.pending += 1,
            Day::NotAsked => self.not_asked += 1,
            Day::NotYetDue => self.not_yet_due += 1,
            Day::Abandoned => self.abandoned += 1,
        }
    }

    /// All days counted.
    pub fn days(&self) -> u64 {
        self.prices
            + self.no_data
            + self.outside_history
            + self.failed
            + self.pending
            + self.not_asked
            + self.not_yet_due
            + self.abandoned
    }

    /// Days without a price that still need something done (or to wait
    /// for): failed, pending, never asked, not yet due.
    pub fn unsettled(&self) -> u64 {
        self.failed + self.pending + self.not_asked + self.not_yet_due
    }

    /// Days without a price, whatever the reason.
    pub fn missing(&self) -> u64 {
        self.days() - self.prices
    }

    /// The column these days make: the one that most needs doing wins
    /// (failed, then pending, then not asked), so a month with one failed
    /// day is not drawn as done; otherwise prices, partial for prices and
    /// days without one for good, outside the source's history where that
    /// is all, or no data. A column without days (there is none in a grid)
    /// is not asked.
    pub fn state(&self) -> State {
        if self.failed > 0 {
            State::Failed
        } else if self.pending > 0 {
            State::Pending
        } else if self.not_asked > 0 {
            State::NotAsked
        } else if self.not_yet_due > 0 {
            State::NotYetDue
        } else if self.abandoned > 0 {
            State::Abandoned
        } else {
            match (self.prices > 0, self.no_data > 0, self.outside_history > 0) {
                (true, false, false) => State::Prices,
                (true, _, _) => State::Partial,
                (false, false, true) => State::OutsideHistory,
                (false, true, _) => State::NoData,
                (false, false, false) => State::NotAsked,
            }
        }
    }

    /// The counts for people: "40 prices, 20 no data, 0 failed, 2 pending, 0 not asked",
    /// and the days outside the source's history, not yet due or abandoned
    /// when there are some.
    pub fn line(&self) -> String {
        let mut line = format!(
            "{}, {} no data, {} failed, {} pending, {} not asked",
            plural(self.prices, "price", "prices"),
            self.no_data,
            self.failed,
            self.pending,
            self.not_asked
        );
        if self.outside_history > 0 {
            line.push_str(&format!(", {} outside the source's history", self.outside_history));
        }
        if self.not_yet_due > 0 {
            line.push_str(&format!(", {} not yet due", self.not_yet_due));
        }
        if self.abandoned > 0 {
            line.push_str(&format!(", {} abandoned", self.abandoned));
        }
        line
    }
}

impl std::ops::AddAssign for DayCounts {
    fn add_assign(&mut self, o: DayCounts) {
        self.prices += o.prices;
        self.no_data += o.no_data;
        self.outside_history += o.outside_history;
        self.failed += o.failed;
        self.pending += o.pending;
        self.not_asked += o.not_asked;
        self.not_yet_due += o.not_yet_due;
        self.abandoned += o.abandoned;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(days: &[Day]) -> DayCounts {
        let mut c = DayCounts::default();
        for day in days {
            c.add(*day);
        }
        c
    }

    #[test]
    fn reasons_map_to_days() {
        assert_eq!(Day::of(None), Day::Price);
        assert_eq!(Day::of(Some(&Reason::NoData)), Day::NoData);
        assert_eq!(Day::of(Some(&Reason::OutsideHistory)), Day::OutsideHistory, "not no data");
        assert_eq!(Day::of(Some(&Reason::Failed { error: "HTTP 404".into() })), Day::Failed);
        assert_eq!(Day::of(Some(&Reason::PriceDeleted)), Day::Failed);
        assert_eq!(Day::of(Some(&Reason::Queued { attempts: 2, error: None })), Day::Pending);
        assert_eq!(Day::of(Some(&Reason::InProgress)), Day::Pending);
        assert_eq!(Day::of(Some(&Reason::NotQueued)), Day::NotAsked);
    }

    #[test]
    fn a_column_shows_what_most_needs_doing() {
        use Day::*;
        assert_eq!(counts(&[Price, Price]).state(), State::Prices);
        assert_eq!(counts(&[NoData, NoData]).state(), State::NoData);
        assert_eq!(counts(&[Price, NoData, Price]).state(), State::Partial);
        assert_eq!(counts(&[OutsideHistory, Price]).state(), State::Partial);
        assert_eq!(counts(&[OutsideHistory, OutsideHistory]).state(), State::OutsideHistory);
        assert_eq!(counts(&[OutsideHistory, NoData]).state(), State::NoData);
        assert_eq!(counts(&[NotAsked, NotAsked]).state(), State::NotAsked);
        assert_eq!(counts(&[Price, NotAsked, NoData]).state(), State::NotAsked);
        assert_eq!(counts(&[Price, Pending, NotAsked]).state(), State::Pending);
        assert_eq!(counts(&[Price, Pending, Failed, NotAsked]).state(), State::Failed);
        assert_eq!(counts(&[]).state(), State::NotAsked);
        let c = counts(&[Price, Pending, Failed, NoData, NoData]);
        assert_eq!((c.days(), c.missing()), (5, 4));
        assert_eq!(c.line(), "1 price, 2 no data, 1 failed, 1 pending, 0 not asked");
    }
}
