//! The mark of a column of the grid: what its days sum up to, and how it
//! is drawn: a glyph, its color, and what the legend says of it.

use crate::life::Kind;

/// The ANSI escape (Select Graphic Rendition 0) that ends a glyph's color.
pub(super) const RESET: &str = "\x1b[0m";

/// The mark of one column of the grid: the summary of its days' kinds.
///
/// Not a [`Kind`]: a column is one character wide and its legend fits a
/// terminal, so kinds that ask the same of a reader share a mark (queued
/// and in progress are pending; a price deleted by hand is failed, as
/// fetching again will not bring it back either; cooling down is not yet
/// due, as a later run asks again), see [`Mark::of`]; and a column of
/// several days adds [`Mark::Partial`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Every day has a price.
    Prices,
    /// Some days have a price, the others none for good (no data, or
    /// outside the source's history): nothing left to do.
    Partial,
    /// No day has data on the server.
    NoData,
    /// Every day is older than the source serves (and none has a price).
    OutsideHistory,
    /// At least one day failed.
    Failed,
    /// At least one day is queued or in progress, none failed.
    Pending,
    /// At least one day was never asked for, none failed or pending.
    NotAsked,
    /// At least one day is not yet due, and nothing else needs doing.
    NotYetDue,
    /// Every day without a price is abandoned or has no data, and at least
    /// one is abandoned.
    Abandoned,
}

use Mark::*;

impl Mark {
    /// Every mark, in the order the legends (the grid's and the page's)
    /// list them.
    pub const ALL: [Mark; 9] =
        [Prices, Partial, NoData, OutsideHistory, Failed, Pending, NotYetDue, Abandoned, NotAsked];

    /// The marks of a column that still needs something done (or waited
    /// for), the one that most needs it first: a column with any day of
    /// one of them shows the first such, so a month with one failed day is
    /// not drawn as done.
    pub const NEEDS_DOING: [Mark; 5] = [Failed, Pending, NotAsked, NotYetDue, Abandoned];

    /// The mark of a day of `kind`, as a column of that day alone shows it.
    pub const fn of(kind: Kind) -> Mark {
        match kind {
            Kind::Price => Prices,
            // A day below `1d` with some candles, the rest proven empty.
            Kind::Partial => Partial,
            Kind::NoData => NoData,
            Kind::OutsideHistory => OutsideHistory,
            // Fetching again will not bring a price deleted by hand back.
            Kind::Failed | Kind::PriceDeleted => Failed,
            Kind::Queued | Kind::InProgress => Pending,
            Kind::NotQueued => NotAsked,
            // Asked again by a later run, as a day not yet due is.
            Kind::NotYetDue | Kind::Cooling => NotYetDue,
            Kind::Abandoned => Abandoned,
        }
    }

    /// The mark in a count of days: "2 pending", "0 not asked".
    pub const fn words(self) -> &'static str {
        match self {
            Prices => "prices",
            Partial => "partial",
            NoData => "no data",
            OutsideHistory => "outside the source's history",
            Failed => "failed",
            Pending => "pending",
            NotAsked => "not asked",
            NotYetDue => "not yet due",
            Abandoned => "abandoned",
        }
    }

    /// The character drawn for the mark: block glyphs with color, plain
    /// ASCII without, so that a grid piped into a file or a mail still reads.
    pub fn glyph(self, color: bool) -> char {
        match (self, color) {
            (Prices, true) => '█',
            (Prices, false) => '#',
            (Partial, true) => '▄',
            (Partial, false) => '+',
            (NoData, true) => '·',
            (NoData, false) => '.',
            (OutsideHistory, true) => '‹',
            (OutsideHistory, false) => '<',
            (Failed, true) => '✗',
            (Failed, false) => 'x',
            (Pending, true) => '░',
            (Pending, false) => '?',
            (NotYetDue, true) => '◌',
            (NotYetDue, false) => '-',
            (Abandoned, true) => '✗',
            (Abandoned, false) => '_',
            (NotAsked, _) => ' ',
        }
    }

    /// The ANSI escape that colors the glyph, if it has a color.
    pub(super) fn style(self) -> Option<&'static str> {
        match self {
            Prices | Partial => Some("\x1b[32m"), // green
            NoData => Some("\x1b[90m"),           // grey
            OutsideHistory => Some("\x1b[90m"),   // grey
            Failed => Some("\x1b[1;31m"),         // bold red
            Pending => Some("\x1b[33m"),          // yellow
            NotYetDue => Some("\x1b[36m"),        // cyan
            Abandoned => Some("\x1b[90m"),        // grey
            NotAsked => None,
        }
    }

    /// What the legend says of the mark.
    pub(super) fn meaning(self) -> &'static str {
        match self {
            Prices => "prices",
            Partial => "partial: some prices",
            NoData => "no data (the server has none)",
            OutsideHistory => "outside the source's history",
            Failed => "failed",
            Pending => "pending: queued or in progress",
            NotYetDue => "not yet due",
            Abandoned => "abandoned (retry --never)",
            NotAsked => "not asked: never queued",
        }
    }
}
