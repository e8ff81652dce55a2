//! Even text in PNG charts.
//!
//! plotters 0.3.7 rasterises `ab_glyph` text without each glyph's left side bearing, so
//! letters in bitmaps are unevenly spaced ("wa ited"). [`CrispText`] wraps a bitmap backend
//! and draws text itself with the same embedded font, the same advances (so plotters' own
//! layout estimates still hold) and proper glyph placement. Wide lines and circles are
//! drawn as `B` would, with less work (see `fill` and `stamp`); everything else is
//! delegated.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
};

fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(super::FONT_BYTES).ok())
        .as_ref()
}

/// The pixels a glyph covers (x, y relative to the text's box, coverage in 0..=1) at a
/// size and caret position. Rasterising is most of drawing text, and a chart of many points
/// draws the same digits at the same few positions thousands of times: each thread keeps
/// the pixels of the glyphs it has drawn (a few thousand at most; the same computation, so
/// the same pixels).
fn glyph_pixels(
    font: &FontRef<'static>,
    id: ab_glyph::GlyphId,
    size: f32,
    caret: f32,
    baseline: f32,
) -> std::rc::Rc<[(i32, i32, f32)]> {
    type Key = (u16, u32, u32, u32);
    type Pixels = std::rc::Rc<[(i32, i32, f32)]>;
    thread_local! {
        static KNOWN: std::cell::RefCell<std::collections::HashMap<Key, Pixels>> =
            std::cell::RefCell::new(std::collections::HashMap::new());
    }
    const KEEP: usize = 4096;
    let key = (id.0, size.to_bits(), caret.to_bits(), baseline.to_bits());
    if let Some(p) = KNOWN.with(|k| k.borrow().get(&key).cloned()) {
        return p;
    }
    let glyph = id.with_scale_and_position(PxScale::from(size), point(caret, baseline));
    let mut pixels = Vec::new();
    if let Some(outline) = font.outline_glyph(glyph) {
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            if coverage > 0.0 {
                pixels.push((
                    bounds.min.x as i32 + gx as i32,
                    bounds.min.y as i32 + gy as i32,
                    coverage.min(1.0),
                ));
            }
        });
    }
    let pixels: Pixels = pixels.into();
    KNOWN.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() < KEEP {
            k.insert(key, pixels.clone());
        }
    });
    pixels
}

/// A backend whose text is drawn by [`draw_text`](DrawingBackend::draw_text) here.
pub struct CrispText<B>(pub B);

impl<B: super::fill::Rectangles> DrawingBackend for CrispText<B> {
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

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    /// A line wider than a pixel is a filled polygon: filled here as `B` would (`B` must
    /// draw such a line with plotters' `rasterizer::draw_line` and its default
    /// `fill_polygon`, as the bitmap backend does), with less work (see `fill`). Error
    /// bars are three such lines each, and a sweep of many points draws thousands.
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.stroke_width() > 1 {
            return super::fill::draw_wide_line(&mut self.0, from, to, style);
        }
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    /// Lines wider than a pixel are filled polygons: filled here as `B` would (`B` must
    /// keep the default `draw_path` and `fill_polygon`, as the bitmap backend does), with
    /// less work (see `fill`).
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        super::fill::draw_path(&mut self.0, path, style)
    }

    /// From a stamp of the circle's calls (see `stamp`; `B` must draw circles with
    /// plotters' `rasterizer::draw_circle`, as the bitmap backend does): a sweep of many
    /// points draws thousands of markers of a few kinds.
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        super::stamp::draw_circle(&mut self.0, center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let vert: Vec<BackendCoord> = vert.into_iter().collect();
        super::fill::fill_polygon(&mut self.0, &vert, style)
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let Some(font) = font() else {
            return self.0.draw_text(text, style, pos);
        };
        let color = style.color();
        if color.alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        let size = style.size() as f32;
        let sf = font.as_scaled(PxScale::from(size));

        // The same box plotters estimates: advance widths plus kerning, height size / 1.24.
        let mut width = 0f32;
        let mut prev = None;
        let mut carets = Vec::with_capacity(text.len());
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                width += sf.kern(p, id);
            }
            carets.push((id, width));
            width += sf.h_advance(id);
            prev = Some(id);
        }
        let width = width as i32;
        let height = (style.size() / 1.24) as i32;
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
        // Baseline placed so that the em box (ascent..descent) fills the layout box.
        let (ascent, descent) = (sf.ascent(), sf.descent());
        let baseline = height as f32 * ascent / (ascent - descent);
        let bold = matches!(style.style(), FontStyle::Bold);
        let trans = style.transform();
        let (w, h) = self.0.get_size();
        for (id, caret) in carets {
            let pixels = glyph_pixels(font, id, size, caret, baseline);
            for &(x, y, coverage) in pixels.iter() {
                for shift in 0..=(bold as i32) {
                    let (tx, ty) = trans.transform(x + shift + dx, y + dy);
                    let (px, py) = (pos.0 + tx, pos.1 + ty);
                    if px >= 0 && py >= 0 && px < w as i32 && py < h as i32 {
                        self.0.draw_pixel(
                            (px, py),
                            BackendColor {
                                alpha: color.alpha * coverage as f64,
                                rgb: color.rgb,
                            },
                        )?;
                    }
                }
            }
        }
        Ok(())
    }
}
