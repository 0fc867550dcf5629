//! The chart as SVG, with a hover layer: one invisible rectangle per
//! missing day over its slot, naming the day and the reason.
//!
//! The SVG is meant to be shown inline on a page whose Content-Security-Policy
//! allows no inline style and no script: plotters writes presentation
//! attributes only (`fill=`, `stroke=`, `opacity=`, `font-family=`), never
//! `style=` or `<script>`, and escapes every text it writes; the hover
//! layer below keeps to the same.

use std::fmt::Write;

use anyhow::{Context, Result};
use plotters::prelude::*;

use super::draw::{draw, printable, Frame};
use super::{check_size, ChartData, Style};

/// The chart of `data` in `style`, `size` pixels wide and high, as an SVG
/// document.
pub fn svg(data: &ChartData, style: Style, size: (u32, u32)) -> Result<String> {
    check_size(size)?;
    let mut out = String::new();
    let frame = {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        let frame = draw(&root, data, style)?;
        root.present().context("finishing the SVG")?;
        frame
    };
    let end = out.rfind("</svg>").context("plotters wrote an SVG without its closing tag")?;
    out.insert_str(end, &hover_layer(data, &frame));
    Ok(out)
}

/// A transparent `<rect class="gap">` over each missing day's slot, with
/// the day and the reason's code as data attributes and the day and the
/// whole reason as its title, which a browser shows on hover.
fn hover_layer(data: &ChartData, frame: &Frame) -> String {
    let mut layer = String::new();
    let height = frame.bottom - frame.top;
    for ((day, reason), (left, right)) in data.missing.iter().zip(&frame.slots) {
        // Writing to a String cannot fail.
        let _ = writeln!(
            layer,
            r##"<rect class="gap" data-day="{day}" data-reason="{code}" x="{left}" y="{top}" width="{width}" height="{height}" fill="#000" fill-opacity="0"><title>{day}: {title}</title></rect>"##,
            code = escape(reason.code()),
            top = frame.top,
            width = right - left,
            title = escape(&reason.to_string()),
        );
    }
    layer
}

/// `text` as XML text or an attribute's value: the five characters that
/// could end either escaped, the characters XML cannot hold replaced.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
