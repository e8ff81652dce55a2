//! Circles in bitmap charts, drawn from a stamp.
//!
//! A sweep of many points draws thousands of markers and error-bar dots, all of a few
//! sizes. plotters' circle rasteriser works out the same outline (square roots, floors,
//! coverage of the rim) for each of them, and then calls the backend with coordinates that
//! are the centre plus offsets that depend on the radius, the stroke and the colour alone.
//! [`draw_circle`] records those calls once per kind of circle, relative to the centre,
//! and replays them at each centre: the same calls on the backend, with the same
//! arguments, in the same order, so the same pixels, byte for byte (a test below compares
//! the two on a canvas that is not plain white, at its edges too).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, DrawingBackend, DrawingErrorKind,
};

/// One call of the rasteriser on its backend, at an offset from the centre. The
/// rasteriser draws only lines and pixels, and passes each line its colour alone (a
/// style one pixel wide).
#[derive(Clone, Copy)]
enum Op {
    Line(BackendCoord, BackendCoord, BackendColor),
    Pixel(BackendCoord, BackendColor),
}

/// A backend that keeps the calls made on it instead of drawing.
struct Recorder(Vec<Op>);

impl DrawingBackend for Recorder {
    type ErrorType = std::convert::Infallible;

    // The circle rasteriser never asks for the size (it leaves clipping to the backend
    // it draws on); the test below would fail if it came to depend on it.
    fn get_size(&self) -> (u32, u32) {
        (u32::MAX, u32::MAX)
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.push(Op::Pixel(point, color));
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.push(Op::Line(from, to, style.color()));
        Ok(())
    }
}

/// What a circle's calls depend on besides its centre: radius, stroke width, filled or
/// not, colour and opacity (as bits).
type Kind = (u32, u32, bool, (u8, u8, u8), u64);

/// Stamps a thread keeps: charts draw circles of a handful of kinds; the bound only keeps
/// the memory small (a kind past it is recorded again at each drawing).
const KEEP: usize = 64;

/// The calls that draw a circle of `kind` in `color` centred on (0, 0), recorded once per
/// thread.
fn stamp(kind: Kind, color: BackendColor) -> Rc<[Op]> {
    thread_local! {
        static KNOWN: RefCell<HashMap<Kind, Rc<[Op]>>> = RefCell::new(HashMap::new());
    }
    if let Some(ops) = KNOWN.with(|k| k.borrow().get(&kind).cloned()) {
        return ops;
    }
    let (radius, width, fill, ..) = kind;
    let mut rec = Recorder(Vec::new());
    let style = Styled(color, width);
    // The recorder never fails.
    let _ = plotters_backend::rasterizer::draw_circle(&mut rec, (0, 0), radius, &style, fill);
    let ops: Rc<[Op]> = rec.0.into();
    KNOWN.with(|k| {
        let mut k = k.borrow_mut();
        if k.len() < KEEP {
            k.insert(kind, ops.clone());
        }
    });
    ops
}

/// A colour with a stroke width, the style the rasteriser is given.
pub(super) struct Styled(pub(super) BackendColor, pub(super) u32);

impl BackendStyle for Styled {
    fn color(&self) -> BackendColor {
        self.0
    }

    fn stroke_width(&self) -> u32 {
        self.1
    }
}

/// Draws a circle on `back` as plotters' `rasterizer::draw_circle` does (which is what
/// the bitmap backend's `draw_circle` is), from the circle's stamp.
pub fn draw_circle<DB: DrawingBackend, S: BackendStyle>(
    back: &mut DB,
    center: BackendCoord,
    radius: u32,
    style: &S,
    fill: bool,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let color = style.color();
    let kind = (
        radius,
        style.stroke_width(),
        fill,
        color.rgb,
        color.alpha.to_bits(),
    );
    let at = |(x, y): BackendCoord| (center.0 + x, center.1 + y);
    for op in stamp(kind, color).iter() {
        match *op {
            Op::Line(from, to, c) => back.draw_line(at(from), at(to), &c)?,
            Op::Pixel(p, c) => back.draw_pixel(at(p), c)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::BitMapBackend;
    use rand::{Rng, SeedableRng};

    /// The canvas after plotters' own `draw_circle`, and after ours.
    fn both_ways(
        canvas: &[u8],
        size: (u32, u32),
        center: BackendCoord,
        radius: u32,
        color: BackendColor,
        width: u32,
        fill: bool,
    ) -> (Vec<u8>, Vec<u8>) {
        let style = Styled(color, width);
        let (mut theirs, mut ours) = (canvas.to_vec(), canvas.to_vec());
        BitMapBackend::with_buffer(&mut theirs, size)
            .draw_circle(center, radius, &style, fill)
            .unwrap();
        draw_circle(
            &mut BitMapBackend::with_buffer(&mut ours, size),
            center,
            radius,
            &style,
            fill,
        )
        .unwrap();
        (theirs, ours)
    }

    /// Circles of the charts' kinds and random ones (radius 0 to 14, stroke 0 to 4,
    /// filled or not, opaque and translucent), centred anywhere on a canvas that is not
    /// plain white and beyond its edges: the same bytes as the bitmap backend's own
    /// `draw_circle`.
    #[test]
    fn the_same_pixels_as_plotters() {
        let (w, h) = (90u32, 70u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(17);
        // Markers (filled, and open: a ring with a white centre), error-bar dots, the ring
        // of the featured point.
        let charts = [
            (5, 0, true),
            (6, 2, false),
            (4, 0, true),
            (5, 2, false),
            (10, 2, false),
        ];
        for case in 0..6000u64 {
            let (radius, width, fill) = match charts.get(case as usize % 8) {
                Some(&k) => k,
                None => (
                    rng.random_range(0..=14),
                    rng.random_range(0..=4),
                    rng.random(),
                ),
            };
            let center = (rng.random_range(-20..110), rng.random_range(-20..90));
            let color = BackendColor {
                alpha: [1.0, 0.35, 0.8, 0.0][(case % 4) as usize],
                rgb: (rng.random(), rng.random(), rng.random()),
            };
            let canvas = crate::charts::noisy_canvas(w, h, rng.random());
            // Twice: while the thread keeps fewer than KEEP kinds, the second drawing
            // replays the stamp the first kept (the test below reuses kept stamps on
            // purpose).
            for _ in 0..2 {
                let (a, c) = both_ways(&canvas, (w, h), center, radius, color, width, fill);
                assert!(
                    a == c,
                    "case {case}: radius {radius}, width {width}, fill {fill}, at {center:?}"
                );
            }
        }
    }

    /// A few kinds that differ in one part each (radius, stroke width, filled or not,
    /// colour, opacity), drawn in a random order many times on one thread, so that all
    /// but the first drawing of each kind replay a kept stamp: every drawing gives the
    /// same bytes as plotters', so a stamp is never replayed for a kind it was not made for.
    #[test]
    fn a_kept_stamp_serves_only_its_own_kind() {
        let (w, h) = (60u32, 50u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(23);
        let mut kinds = Vec::new();
        for radius in [5, 6] {
            for width in [0, 2] {
                for fill in [true, false] {
                    for rgb in [(200, 30, 30), (30, 30, 200)] {
                        for alpha in [1.0, 0.35] {
                            kinds.push((radius, width, fill, BackendColor { alpha, rgb }));
                        }
                    }
                }
            }
        }
        assert!(
            kinds.len() < KEEP,
            "every kind must be kept for this test to mean anything"
        );
        for _ in 0..1500 {
            let (radius, width, fill, color) = kinds[rng.random_range(0..kinds.len())];
            let center = (rng.random_range(-10..70), rng.random_range(-10..60));
            let canvas = crate::charts::noisy_canvas(w, h, rng.random());
            let (a, c) = both_ways(&canvas, (w, h), center, radius, color, width, fill);
            assert!(
                a == c,
                "radius {radius}, width {width}, fill {fill}, rgb {:?}, alpha {} at {center:?}",
                color.rgb,
                color.alpha
            );
        }
    }
}
