//! The days of a column, a row or the whole grid, counted by their
//! [`Kind`], and the [`Mark`] they sum up to.

use super::Mark;
use crate::life::Kind;
use crate::words::plural;

/// Days by what they hold: the days of one column, of a row, or of the
/// whole grid, one count per [`Kind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayCounts([u64; Kind::ALL.len()]);

impl DayCounts {
    /// Counts one more day.
    pub fn add(&mut self, day: Kind) {
        self.0[day as usize] += 1;
    }

    /// The days of `kind`.
    pub fn of(&self, kind: Kind) -> u64 {
        self.0[kind as usize]
    }

    /// The days a column of them alone would show as `mark`.
    pub fn shown_as(&self, mark: Mark) -> u64 {
        Kind::ALL.into_iter().filter(|k| Mark::of(*k) == mark).map(|k| self.of(k)).sum()
    }

    /// All days counted.
    pub fn days(&self) -> u64 {
        self.0.iter().sum()
    }

    /// Days without a price that still need something done (or to wait
    /// for): every kind that is not [settled](Kind::is_settled).
    pub fn unsettled(&self) -> u64 {
        Kind::ALL.into_iter().filter(|k| !k.is_settled()).map(|k| self.of(k)).sum()
    }

    /// Days without a price, whatever the reason.
    pub fn missing(&self) -> u64 {
        self.days() - self.of(Kind::Price)
    }

    /// The column these days make: the one that most needs doing wins
    /// ([`Mark::NEEDS_DOING`]); otherwise prices, partial for prices and
    /// days without one for good, outside the source's history where that
    /// is all, or no data. A column without days (there is none in a grid)
    /// is not asked.
    pub fn mark(&self) -> Mark {
        if let Some(mark) = Mark::NEEDS_DOING.into_iter().find(|s| self.shown_as(*s) > 0) {
            return mark;
        }
        let has = |mark| self.shown_as(mark) > 0;
        match (has(Mark::Prices), has(Mark::NoData), has(Mark::OutsideHistory)) {
            _ if has(Mark::Partial) => Mark::Partial,
            (true, false, false) => Mark::Prices,
            (true, _, _) => Mark::Partial,
            (false, false, true) => Mark::OutsideHistory,
            (false, true, _) => Mark::NoData,
            (false, false, false) => Mark::NotAsked,
        }
    }

    /// The counts for people: "40 prices, 20 no data, 0 failed, 2 pending, 0 not asked",
    /// and the days outside the source's history, not yet due or abandoned
    /// when there are some.
    pub fn line(&self) -> String {
        let mut line = plural(self.shown_as(Mark::Prices), "price", "prices");
        // Days below `1d` with some candles, the rest proven empty.
        let partial = self.of(Kind::Partial);
        if partial > 0 {
            line.push_str(&format!(", {partial} partial"));
        }
        for mark in LINE_ALWAYS {
            line.push_str(&format!(", {} {}", self.shown_as(mark), mark.words()));
        }
        for mark in LINE_WHEN_SOME {
            let n = self.shown_as(mark);
            if n > 0 {
                line.push_str(&format!(", {n} {}", mark.words()));
            }
        }
        line
    }
}

/// The marks [`DayCounts::line`] always counts, after the prices.
const LINE_ALWAYS: [Mark; 4] = [Mark::NoData, Mark::Failed, Mark::Pending, Mark::NotAsked];
/// The marks it counts only when some day shows as one.
const LINE_WHEN_SOME: [Mark; 3] = [Mark::OutsideHistory, Mark::NotYetDue, Mark::Abandoned];

impl std::ops::AddAssign for DayCounts {
    fn add_assign(&mut self, o: DayCounts) {
        for (mine, theirs) in self.0.iter_mut().zip(o.0) {
            *mine += theirs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::life::Reason;

    fn counts(days: &[Kind]) -> DayCounts {
        let mut c = DayCounts::default();
        for day in days {
            c.add(*day);
        }
        c
    }

    #[test]
    fn reasons_show_as_states() {
        let shown = |reason: Option<&Reason>| Mark::of(Kind::of(reason));
        assert_eq!(shown(None), Mark::Prices);
        assert_eq!(shown(Some(&Reason::NoData)), Mark::NoData);
        assert_eq!(shown(Some(&Reason::OutsideHistory)), Mark::OutsideHistory, "not no data");
        assert_eq!(shown(Some(&Reason::Failed { error: "HTTP 404".into() })), Mark::Failed);
        assert_eq!(shown(Some(&Reason::PriceDeleted)), Mark::Failed);
        assert_eq!(shown(Some(&Reason::Queued { attempts: 2, error: None })), Mark::Pending);
        assert_eq!(shown(Some(&Reason::InProgress)), Mark::Pending);
        assert_eq!(shown(Some(&Reason::NotQueued)), Mark::NotAsked);
        assert_eq!(shown(Some(&Reason::NotYetDue { at: 0, note: None })), Mark::NotYetDue);
        assert_eq!(shown(Some(&Reason::Cooling { error: "HTTP 503".into(), at: 0, rounds: 1 })), Mark::NotYetDue);
        assert_eq!(shown(Some(&Reason::Abandoned { error: "HTTP 404".into() })), Mark::Abandoned);
    }

    #[test]
    fn every_state_of_a_day_is_counted_in_the_line() {
        let line: Vec<Mark> =
            [Mark::Prices, Mark::Partial].into_iter().chain(LINE_ALWAYS).chain(LINE_WHEN_SOME).collect();
        for mark in Mark::ALL {
            assert!(line.contains(&mark), "{mark:?}");
        }
        let all = counts(&Kind::ALL);
        assert_eq!(all.days(), Kind::ALL.len() as u64);
        assert_eq!(all.unsettled(), 7, "{all:?}");
        assert_eq!(
            all.line(),
            "1 price, 1 partial, 1 no data, 2 failed, 2 pending, 1 not asked, 1 outside the source's history, \
             2 not yet due, 1 abandoned"
        );
    }

    #[test]
    fn a_column_shows_what_most_needs_doing() {
        use Kind::*;
        assert_eq!(counts(&[Price, Price]).mark(), Mark::Prices);
        assert_eq!(counts(&[NoData, NoData]).mark(), Mark::NoData);
        assert_eq!(counts(&[Price, NoData, Price]).mark(), Mark::Partial);
        assert_eq!(counts(&[OutsideHistory, Price]).mark(), Mark::Partial);
        assert_eq!(counts(&[OutsideHistory, OutsideHistory]).mark(), Mark::OutsideHistory);
        assert_eq!(counts(&[OutsideHistory, NoData]).mark(), Mark::NoData);
        assert_eq!(counts(&[NotQueued, NotQueued]).mark(), Mark::NotAsked);
        assert_eq!(counts(&[Price, NotQueued, NoData]).mark(), Mark::NotAsked);
        assert_eq!(counts(&[Price, Queued, NotQueued]).mark(), Mark::Pending);
        assert_eq!(counts(&[Price, InProgress, Failed, NotQueued]).mark(), Mark::Failed);
        assert_eq!(counts(&[]).mark(), Mark::NotAsked);
        let c = counts(&[Price, Queued, Failed, NoData, NoData]);
        assert_eq!((c.days(), c.missing()), (5, 4));
        assert_eq!(c.line(), "1 price, 2 no data, 1 failed, 1 pending, 0 not asked");
    }
}
