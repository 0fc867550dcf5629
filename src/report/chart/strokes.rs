//! Lines wider than a pixel in the PNG chart, drawn a segment at a time.
//!
//! plotters 0.3.7 draws a wide path (`DrawingBackend::draw_path`, through
//! `rasterizer::polygonize`) as one polygon around the whole path, filled
//! by the even-odd rule. Years of days put several to a pixel column: the
//! path doubles back on itself within a column, the polygon crosses
//! itself, and the fill leaves holes, breaks in a line whose every day has
//! a price. One segment alone is a convex quadrilateral, which fills
//! whole; a disc at each joint fills the notch between two segments. The
//! SVG leaves strokes to the viewer and needs none of this.

use plotters_backend::{BackendCoord, BackendStyle, DrawingBackend, DrawingErrorKind};

/// Draws `path` on `backend` as plotters would, but a path wider than a
/// pixel segment by segment.
pub(super) fn draw_path<B, S, I>(backend: &mut B, path: I, style: &S) -> Result<(), DrawingErrorKind<B::ErrorType>>
where
    B: DrawingBackend,
    S: BackendStyle,
    I: IntoIterator<Item = BackendCoord>,
{
    let width = style.stroke_width();
    if width <= 1 {
        return backend.draw_path(path, style);
    }
    let mut points: Vec<BackendCoord> = path.into_iter().collect();
    points.dedup();
    for segment in points.windows(2) {
        backend.draw_path(segment.iter().copied(), style)?;
    }
    let joints = points.get(1..points.len().saturating_sub(1)).unwrap_or_default();
    for joint in joints {
        backend.draw_circle(*joint, width / 2, &style.color(), true)?;
    }
    Ok(())
}
