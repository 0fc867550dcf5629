//! What one column of the grid shows, and how it is drawn: a glyph, its
//! color, and what the legend says of it.

/// The ANSI escape (Select Graphic Rendition 0) that ends a glyph's color.
pub(super) const RESET: &str = "\x1b[0m";

/// What one column of the grid shows: the summary of its days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every day has a price.
    Prices,
    /// Some days have a price, the others no data: nothing left to do.
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

impl State {
    /// The character drawn for the state: block glyphs with color, plain
    /// ASCII without, so that a grid piped into a file or a mail still reads.
    pub fn glyph(self, color: bool) -> char {
        match (self, color) {
            (State::Prices, true) => '█',
            (State::Prices, false) => '#',
            (State::Partial, true) => '▄',
            (State::Partial, false) => '+',
            (State::NoData, true) => '·',
            (State::NoData, false) => '.',
            (State::OutsideHistory, true) => '‹',
            (State::OutsideHistory, false) => '<',
            (State::Failed, true) => '✗',
            (State::Failed, false) => 'x',
            (State::Pending, true) => '░',
            (State::Pending, false) => '?',
            (State::NotYetDue, true) => '◌',
            (State::NotYetDue, false) => '-',
            (State::Abandoned, true) => '✗',
            (State::Abandoned, false) => '_',
            (State::NotAsked, _) => ' ',
        }
    }

    /// The ANSI escape that colors the glyph, if it has a color.
    pub(super) fn style(self) -> Option<&'static str> {
        match self {
            State::Prices | State::Partial => Some("\x1b[32m"), // green
            State::NoData => Some("\x1b[90m"),                  // grey
            State::OutsideHistory => Some("\x1b[90m"),          // grey
            State::Failed => Some("\x1b[1;31m"),                // bold red
            State::Pending => Some("\x1b[33m"),                 // yellow
            State::NotYetDue => Some("\x1b[36m"),               // cyan
            State::Abandoned => Some("\x1b[90m"),               // grey
            State::NotAsked => None,
        }
    }

    /// What the legend says of the state.
    pub(super) fn meaning(self) -> &'static str {
        match self {
            State::Prices => "prices",
            State::Partial => "partial: some prices",
            State::NoData => "no data (the server has none)",
            State::OutsideHistory => "outside the source's history",
            State::Failed => "failed",
            State::Pending => "pending: queued or in progress",
            State::NotYetDue => "not yet due",
            State::Abandoned => "abandoned (retry --never)",
            State::NotAsked => "not asked: never queued",
        }
    }
}
