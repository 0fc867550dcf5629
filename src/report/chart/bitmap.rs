//! The chart as a PNG: drawn into a buffer of RGB pixels by plotters,
//! encoded by the `png` crate (plotters' own encoder would bring in the
//! whole `image` crate for it).

use anyhow::{Context, Result};
use plotters::prelude::*;

use super::draw::draw;
use super::glyphs::Glyphs;
use super::{check_size, ChartData, Style};

/// The chart of `data` in `style`, `size` pixels wide and high, as a PNG
/// file's bytes.
pub fn png(data: &ChartData, style: Style, size: (u32, u32)) -> Result<Vec<u8>> {
    check_size(size)?;
    let (width, height) = size;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = Glyphs(BitMapBackend::with_buffer(&mut pixels, size)).into_drawing_area();
        draw(&root, data, style)?;
        root.present().context("finishing the bitmap")?;
    }
    let mut out = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut out, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header().context("encoding the PNG")?;
    writer.write_image_data(&pixels).context("encoding the PNG")?;
    writer.finish().context("encoding the PNG")?;
    Ok(out)
}
