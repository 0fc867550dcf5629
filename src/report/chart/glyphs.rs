//! Text for the PNG chart, set glyph by glyph where each glyph belongs.
//!
//! plotters 0.3.7 (`style/font/ab_glyph.rs`, `draw`) cuts each glyph's pen
//! position to a whole pixel and draws the glyph from there without its
//! left side bearing, rasterized as if it began on a pixel boundary. At the
//! size of axis labels that leaves a blank column after narrow glyphs:
//! "2018-1 0-01", "btc:  close". [`Glyphs`] wraps a backend and sets text
//! itself, with the same font, size, anchor and rotation as plotters, each
//! glyph rasterized at its fractional pen position with its bearing; wide
//! lines go segment by segment (`strokes.rs`), and every other drawing to
//! the wrapped backend unchanged. The SVG chart leaves text to the viewer
//! and needs none of this.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, ScaleFont};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

use super::draw::DEJAVU_SANS;

/// A backend whose text is set by [`Glyphs::draw_text`].
pub struct Glyphs<B>(pub B);

/// The one font the charts use (plotters' "sans-serif" is registered with it).
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(DEJAVU_SANS).ok()).as_ref()
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        super::strokes::draw_path(&mut self.0, path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    /// Sets `text` as plotters does (its layout box, anchor and rotation),
    /// each glyph at its pen position plus its left side bearing.
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<B::ErrorType>> {
        let color = style.color();
        let Some(font) = font() else { return self.0.draw_text(text, style, pos) };
        if color.alpha == 0.0 {
            return Ok(());
        }
        let ((min_x, min_y), (max_x, max_y)) =
            style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let transform = style.transform();
        let (w, h) = self.get_size();
        let size = style.size() as f32;
        let scaled = font.as_scaled(size);
        let mut pen = 0f32;
        let mut previous = None;
        for c in text.chars() {
            let mut glyph = scaled.scaled_glyph(c);
            let id = glyph.id;
            // Placed at its fractional pen position, the outline's pixel
            // bounds start at a whole pixel and its coverage carries the rest.
            glyph.position = ab_glyph::point(pen, 0.0);
            if let Some(p) = previous {
                pen += scaled.kern(p, id);
            }
            previous = Some(id);
            if let Some(outline) = scaled.outline_glyph(glyph) {
                let bounds = outline.px_bounds();
                // plotters' own vertical placement, kept so labels stay
                // where its layout expects them.
                let (left, top) = (bounds.min.x as i32, (size / 2.0 + bounds.min.y) as i32);
                let mut pixels = Vec::new();
                outline.draw(|x, y, coverage| pixels.push((x as i32 + left, y as i32 + top, coverage)));
                for (x, y, coverage) in pixels {
                    let (x, y) = transform.transform(x + dx - min_x, y + dy - min_y);
                    let (x, y) = (pos.0 + x, pos.1 + y);
                    if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                        self.0.draw_pixel((x, y), color.mix(coverage as f64))?;
                    }
                }
            }
            pen += scaled.h_advance(id);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use plotters::prelude::*;

    use super::Glyphs;

    /// The widths of the blank pixel columns between the glyphs of `text`
    /// set at 13 px (the chart's axis labels), by [`Glyphs`] or by plotters'
    /// own text.
    fn gaps(text: &str, glyphs: bool) -> Vec<usize> {
        super::super::draw::register_font().unwrap();
        let (w, h) = (200u32, 30u32);
        let mut pixels = vec![255u8; (w * h * 3) as usize];
        {
            let label = Text::new(text.to_string(), (10, 5), ("sans-serif", 13).into_font().color(&BLACK));
            if glyphs {
                let root = Glyphs(BitMapBackend::with_buffer(&mut pixels, (w, h))).into_drawing_area();
                root.draw(&label).unwrap();
                root.present().unwrap();
            } else {
                let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
                root.draw(&label).unwrap();
                root.present().unwrap();
            }
        }
        let inked: Vec<bool> = (0..w).map(|x| (0..h).any(|y| pixels[((y * w + x) * 3) as usize] < 160)).collect();
        let first = inked.iter().position(|i| *i).unwrap();
        let last = inked.iter().rposition(|i| *i).unwrap();
        let mut gaps = Vec::new();
        let mut run = 0;
        for i in &inked[first..=last] {
            if *i && run > 0 {
                gaps.push(run);
                run = 0;
            } else if !*i {
                run += 1;
            }
        }
        gaps
    }

    #[test]
    fn a_date_label_is_set_without_a_gap_after_each_1() {
        let set = gaps("2018-10-01", true);
        assert_eq!(set.len(), 9, "a gap between each two of the ten glyphs: {set:?}");
        assert!(set.iter().all(|g| (1..=2).contains(g)), "uneven spacing: {set:?}");
        // plotters' own setting, which this replaces, shows the fault: a
        // blank of 3 px after each 1 ("2018-1 0-01").
        let plain = gaps("2018-10-01", false);
        assert_eq!((plain[2], plain[5]), (3, 3), "plotters' text changed: {plain:?}");
    }
}
