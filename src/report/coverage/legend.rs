//! The legend below the grid: every glyph and its meaning, packed into
//! lines that fit the width.

use super::mark::RESET;
use super::{Bucket, Mark};

/// Where the legend's lines start, under its first entry.
const LEGEND_INDENT: &str = "        ";

/// The lines of [`Grid::legend`](super::Grid::legend) for a grid of
/// `bucket` columns drawn `width` characters wide, with or without color.
pub(super) fn lines(bucket: Bucket, color: bool, width: usize) -> Vec<String> {
    let entries = Mark::ALL.iter().map(|&s| {
        let meaning = s.meaning();
        match (s, color, s.style()) {
            (Mark::NotAsked, _, _) => (format!("(blank) {meaning}"), 8 + meaning.len()),
            (_, true, Some(style)) => (format!("{style}{}{RESET} {meaning}", s.glyph(true)), 2 + meaning.len()),
            _ => (format!("{} {meaning}", s.glyph(false)), 2 + meaning.len()),
        }
    });
    let mut lines = pack("Legend: ", entries, "   ", width);
    if bucket != Bucket::Day {
        let first = Mark::NEEDS_DOING.map(Mark::words).join(", then ");
        let why = format!(
            "A column shows what most needs doing among its days: {first}; otherwise prices, no data, outside \
             the source's history, or partial for prices and days without one for good."
        );
        lines.extend(pack(LEGEND_INDENT, why.split(' ').map(|w| (w.to_string(), w.len())), " ", width));
    }
    lines
}

/// Lays out `items` (text, and its length on screen) separated by `sep`
/// in lines of at most `width` characters where they fit, the first line
/// starting with `first` and the others indented under it.
fn pack(first: &str, items: impl Iterator<Item = (String, usize)>, sep: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let (mut line, mut len, mut empty) = (first.to_string(), first.len(), true);
    for (text, n) in items {
        if !empty && len + sep.len() + n > width {
            lines.push(std::mem::replace(&mut line, LEGEND_INDENT.to_string()));
            (len, empty) = (LEGEND_INDENT.len(), true);
        }
        if !empty {
            line.push_str(sep);
            len += sep.len();
        }
        line.push_str(&text);
        (len, empty) = (len + n, false);
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::coverage::{test_day as d, Grid};

    #[test]
    fn the_legend_fits_the_width_and_explains_columns_of_several_days() {
        let days = Grid::new(d("2020-03-01"), d("2020-03-31"), 16, 280, false);
        let legend = days.legend();
        assert_eq!(legend.len(), 1, "{legend:?}");
        for mark in &Mark::ALL[..8] {
            assert!(legend[0].contains(&format!("{} {}", mark.glyph(false), mark.meaning())), "{mark:?}");
        }
        assert!(legend[0].ends_with("(blank) not asked: never queued"));
        let years = Grid::new(d("2013-04-24"), d("2020-12-08"), 16, 40, false);
        let legend = years.legend();
        assert!(legend.iter().all(|l| l.chars().count() <= 40), "{legend:#?}");
        assert!(legend.iter().any(|l| l.contains("A column shows what most needs")), "{legend:#?}");
        let colored = Grid::new(d("2013-04-24"), d("2020-12-08"), 16, 40, true).legend();
        assert_eq!(colored.len(), legend.len(), "escapes take no room on screen");
    }
}
