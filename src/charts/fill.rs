//! Polygon filling for bitmap charts: plotters' own scan-line fill, computed the same way
//! with less work.
//!
//! Every line wider than one pixel is drawn as a filled polygon, and a dashed line is one
//! polygon per dash: the time-series chart of a long run draws thousands of them.
//! `plotters_backend::rasterizer::fill_polygon` builds a new list of active edges for
//! every scan line and works out each edge's position again at every comparison of its
//! sort. [`fill_polygon`] keeps one list, updated in place, and each edge's position once
//! per scan line; everything else is the same: the same edges in the same order, the same
//! arithmetic for each position, the same stable sort on it, the same pairing, and the
//! same calls to the backend with the same arguments in the same order. So the pixels are
//! the same, byte for byte (a test below compares the two on many polygons).

use plotters_backend::{BackendCoord, BackendStyle, DrawingBackend, DrawingErrorKind};

/// One edge crossing the scan lines (plotters' `Edge`): `epoch` scan lines after its
/// first, of `total` in all, running from `begin` to `end` across them.
#[derive(Clone, Copy)]
struct Edge {
    epoch: u32,
    total: u32,
    begin: i32,
    end: i32,
    /// Where the edge crosses the current scan line (`position()` of this epoch).
    at: f64,
}

impl Edge {
    /// An edge from `from` to `to` in (master, slave) coordinates, none if it runs along a
    /// scan line.
    fn new(mut from: BackendCoord, mut to: BackendCoord) -> Option<Edge> {
        if from.0 == to.0 {
            return None;
        }
        if from.0 > to.0 {
            std::mem::swap(&mut from, &mut to);
        }
        Some(Edge {
            epoch: 0,
            total: (to.0 - from.0) as u32,
            begin: from.1,
            end: to.1,
            at: 0.0,
        })
    }

    /// Scan lines left after this one (0 on the edge's last).
    fn left(&self) -> i32 {
        (self.total - self.epoch) as i32
    }

    /// The crossing, computed exactly as plotters computes it.
    fn position(&self) -> f64 {
        f64::from(self.begin)
            + (i64::from(self.end - self.begin) * i64::from(self.epoch)) as f64
                / f64::from(self.total)
    }
}

/// Fills the polygon `vertices` on `back` exactly as
/// `plotters_backend::rasterizer::fill_polygon` does (the default `fill_polygon` of a
/// backend, and so what a default `draw_path` wider than one pixel ends in).
pub fn fill_polygon<DB: Rectangles, S: BackendStyle>(
    back: &mut DB,
    vertices: &[BackendCoord],
    style: &S,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let Some(&first) = vertices.first() else {
        return Ok(());
    };
    let (mut x_span, mut y_span) = ((first.0, first.0), (first.1, first.1));
    for &(x, y) in vertices {
        x_span = (x_span.0.min(x), x_span.1.max(x));
        y_span = (y_span.0.min(y), y_span.1.max(y));
    }
    // All on one vertical or horizontal line.
    if x_span.0 == x_span.1 || y_span.0 == y_span.1 {
        return back.draw_line((x_span.0, y_span.0), (x_span.1, y_span.1), style);
    }
    let horizontal = x_span.1 - x_span.0 > y_span.1 - y_span.0;
    // (master, slave): the master coordinate numbers the scan lines.
    let ms = |p: BackendCoord| if horizontal { p } else { (p.1, p.0) };
    if is_rectangle(vertices, x_span, y_span) {
        return back.fill_rectangle(
            ms((x_span.0, y_span.0)),
            ms((x_span.1, y_span.1)),
            horizontal,
            style.color(),
        );
    }

    let n = vertices.len();
    // The lists are kept from one polygon to the next (a dashed line is thousands of small
    // polygons, each of which would otherwise allocate and free both).
    let (mut edges, mut active) = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
    edges.clear();
    active.clear();
    edges.extend((0..n).map(|i| (ms(vertices[i]), ms(vertices[(i + 1) % n]))));
    // Stable, by the lower master coordinate: plotters' order.
    stable_sort_by(&mut edges, |(a, b), (c, d)| a.0.min(b.0) < c.0.min(d.0));
    for e in &mut edges {
        if e.0 .0 > e.1 .0 {
            std::mem::swap(&mut e.0, &mut e.1);
        }
    }
    let (low, high) = if horizontal { x_span } else { y_span };
    let color = style.color();
    let result = scan(back, &edges, &mut active, low, high, horizontal, color);
    SCRATCH.with(|s| *s.borrow_mut() = (edges, active));
    result
}

/// Whether `vertices` are the four corners of the box `x_span` by `y_span` (both of
/// some extent), each a side of the box from the one before: a rectangle whose sides run
/// along the scan lines and across them. A wide horizontal or vertical line (as every
/// error bar is made of) is one.
fn is_rectangle(vertices: &[BackendCoord], x_span: (i32, i32), y_span: (i32, i32)) -> bool {
    let corner = |&(x, y): &BackendCoord| {
        (x == x_span.0 || x == x_span.1) && (y == y_span.0 || y == y_span.1)
    };
    vertices.len() == 4
        && vertices.iter().all(corner)
        && (0..4).all(|i| {
            let (a, b) = (vertices[i], vertices[(i + 1) % 4]);
            (a.0 == b.0) != (a.1 == b.1)
        })
}

/// What [`scan`] does for a rectangle from `low` to `high` in (master, slave)
/// coordinates, without its edge lists: its two sides across the scan lines never enter
/// (they run along one), and the two along them are crossed at their own slave
/// coordinates, `low.1` and `high.1`, on every scan line from `low.0` to `high.0`. So each
/// line is the same span; only on the last, where both sides end, the span is left out
/// when it is wider than one pixel (plotters' rule for two edges ending together).
fn fill_rectangle_by_lines<DB: DrawingBackend>(
    back: &mut DB,
    low: BackendCoord,
    high: BackendCoord,
    horizontal: bool,
    color: plotters_backend::BackendColor,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let (from, to) = (f64::from(low.1), f64::from(high.1));
    for line in low.0..=last_line(low, high) {
        span(back, line, from, to, horizontal, color)?;
    }
    Ok(())
}

/// The last scan line [`fill_rectangle_by_lines`] fills.
fn last_line(low: BackendCoord, high: BackendCoord) -> i32 {
    if i64::from(high.1) - i64::from(low.1) > 1 {
        high.0 - 1
    } else {
        high.0
    }
}

/// A backend [`fill_polygon`] fills: how it fills a rectangle whose sides run along the
/// scan lines and across them, from `low` to `high` in (master, slave) coordinates
/// (`horizontal`: the scan lines are columns).
pub trait Rectangles: DrawingBackend {
    /// Line by line, as plotters' scan fill does ([`fill_rectangle_by_lines`]).
    fn fill_rectangle(
        &mut self,
        low: BackendCoord,
        high: BackendCoord,
        horizontal: bool,
        color: plotters_backend::BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        fill_rectangle_by_lines(self, low, high, horizontal, color)
    }
}

/// The bitmap fills the whole rectangle at once: a scan line's span is a one-pixel-high
/// (or wide) rectangle filled by the bitmap's `draw_line` with `fill_rect_fast` (opaque)
/// or `blend_rect_fast` (translucent), and its two end pixels are blended with alpha 0,
/// which leaves them as they are. Filling the lines' rectangles as one writes the same
/// bytes: opaque pixels are set, and a translucent rectangle is blended row by row, each
/// row as the one-row call blends it. Only translucent columns (scan lines across x) are
/// still filled one by one: a column is blended pixel by pixel, a wider rectangle eight
/// pixels at a time, which can round differently. An error bar is three such
/// rectangles, and a sweep of many points draws thousands of bars.
impl Rectangles for plotters::prelude::BitMapBackend<'_> {
    fn fill_rectangle(
        &mut self,
        low: BackendCoord,
        high: BackendCoord,
        horizontal: bool,
        color: plotters_backend::BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let last = last_line(low, high);
        let (from, to) = (low.1, high.1);
        if !horizontal {
            return self.draw_rect((from, low.0), (to + 1, last + 1), &color, true);
        }
        if color.alpha >= 1.0 {
            return self.draw_rect((low.0, from), (last + 1, to + 1), &color, true);
        }
        for line in low.0..=last {
            self.draw_rect((line, from), (line + 1, to + 1), &color, true)?;
        }
        Ok(())
    }
}

/// Fills scan line `line` from crossing `from` to crossing `to` (`from <= to`), as
/// plotters does: whole pixels between them, and the pixel at each end blended by how
/// much of it the span covers.
#[inline]
fn span<DB: DrawingBackend>(
    back: &mut DB,
    line: i32,
    from: f64,
    to: f64,
    horizontal: bool,
    color: plotters_backend::BackendColor,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    if horizontal {
        back.draw_line((line, ceil(from) as i32), (line, floor(to) as i32), &color)?;
        back.draw_pixel((line, floor(from) as i32), color.mix(ceil(from) - from))?;
        back.draw_pixel((line, ceil(to) as i32), color.mix(to - floor(to)))
    } else {
        back.draw_line((ceil(from) as i32, line), (floor(to) as i32, line), &color)?;
        back.draw_pixel((floor(from) as i32, line), color.mix(ceil(from) - from))?;
        back.draw_pixel((ceil(to) as i32, line), color.mix(floor(to) - to))
    }
}

/// What plotters' `rasterizer::draw_line` does for a line wider than one pixel (which is
/// what the bitmap backend's `draw_line` ends in): the polygon of its outline, filled
/// by [`fill_polygon`].
pub fn draw_wide_line<DB: Rectangles, S: BackendStyle>(
    back: &mut DB,
    from: BackendCoord,
    to: BackendCoord,
    style: &S,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    if style.color().alpha == 0.0 || style.stroke_width() == 0 {
        return Ok(());
    }
    let v = (i64::from(to.0 - from.0), i64::from(to.1 - from.1));
    let l = ((v.0 * v.0 + v.1 * v.1) as f64).sqrt();
    if l < 1e-5 {
        return Ok(());
    }
    let v = (v.0 as f64 / l, v.1 as f64 / l);
    let r = f64::from(style.stroke_width()) / 2.0;
    let mut trans = [(v.1 * r, -v.0 * r), (-v.1 * r, v.0 * r)];
    let mut vertices = [(0, 0); 4];
    for (k, point) in [from, to].iter().enumerate() {
        for (j, t) in trans.iter().enumerate() {
            vertices[2 * k + j] = (
                (f64::from(point.0) + t.0) as i32,
                (f64::from(point.1) + t.1) as i32,
            );
        }
        trans.swap(0, 1);
    }
    fill_polygon(back, &vertices, style)
}

type EdgeList = Vec<(BackendCoord, BackendCoord)>;

thread_local! {
    /// The edge lists of [`fill_polygon`], reused.
    static SCRATCH: std::cell::RefCell<(EdgeList, Vec<Edge>)> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

/// Sorts `v` stably by `less` (a strict order): an insertion sort for the few edges of
/// a dash, the standard stable sort otherwise. A stable sort's result is defined by the
/// order alone, so both give the same sequence.
fn stable_sort_by<T: Copy>(v: &mut [T], less: impl Fn(&T, &T) -> bool) {
    if v.len() > 12 {
        v.sort_by(|a, b| {
            if less(a, b) {
                std::cmp::Ordering::Less
            } else if less(b, a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        return;
    }
    for i in 1..v.len() {
        let x = v[i];
        let mut j = i;
        // Only past elements strictly after `x`: equal ones keep their order.
        while j > 0 && less(&x, &v[j - 1]) {
            v[j] = v[j - 1];
            j -= 1;
        }
        v[j] = x;
    }
}

/// `x.floor()` for a crossing, inline (the baseline x86-64 target has no instruction for
/// it, so `floor` is a call into the maths library): the same value for any `x` below
/// 2^52 in size, the library's beyond (and for what is not finite). Only a zero result
/// may lose its sign (-0.3 gives 0, not -0), which neither the conversion to a pixel nor
/// the coverage `from - floor(from)` (never -0 itself: crossings start at +0) can see.
#[inline]
fn floor(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = x as i64 as f64;
        if t > x {
            t - 1.0
        } else {
            t
        }
    } else {
        x.floor()
    }
}

/// `x.ceil()`, inline, as [`floor`].
#[inline]
fn ceil(x: f64) -> f64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let t = x as i64 as f64;
        if t < x {
            t + 1.0
        } else {
            t
        }
    } else {
        x.ceil()
    }
}

/// The scan lines of [`fill_polygon`], `edges` sorted.
fn scan<DB: DrawingBackend>(
    back: &mut DB,
    edges: &[(BackendCoord, BackendCoord)],
    active: &mut Vec<Edge>,
    low: i32,
    high: i32,
    horizontal: bool,
    color: plotters_backend::BackendColor,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let mut idx = 0;
    for line in low..=high {
        // Edges that end before this line leave; the others move on one line (in order).
        active.retain_mut(|e| {
            let stays = e.left() > 0;
            if stays {
                e.epoch += 1;
            }
            stays
        });
        while idx < edges.len() && edges[idx].0 .0 <= line {
            if let Some(e) = Edge::new(edges[idx].0, edges[idx].1) {
                active.push(e);
            }
            idx += 1;
        }
        for e in active.iter_mut() {
            e.at = e.position();
        }
        // Stable, like plotters' `sort()` of edges by position: the same order.
        debug_assert!(active.iter().all(|e| e.at.is_finite()));
        stable_sort_by(active, |a, b| a.at < b.at);

        // Pairs of crossings, skipping edges that end on this line where plotters does.
        let (mut first, mut second): (Option<Edge>, Option<Edge>) = (None, None);
        for &edge in active.iter() {
            if first.is_none() {
                first = Some(edge);
            } else if second.is_none() {
                second = Some(edge);
            }
            let (Some(a), Some(b)) = (first, second) else {
                continue;
            };
            if a.left() == 0 && b.left() != 0 {
                first = Some(b);
                second = None;
                continue;
            }
            if a.left() != 0 && b.left() == 0 {
                second = None;
                continue;
            }
            let (from, to) = (a.at, b.at);
            if a.left() == 0 && b.left() == 0 && to - from > 1.0 {
                first = None;
                second = None;
                continue;
            }
            span(back, line, from, to, horizontal, color)?;
            first = None;
            second = None;
        }
    }
    Ok(())
}

/// What a backend's default `draw_path` does, with [`fill_polygon`] for lines wider than
/// one pixel.
pub fn draw_path<DB: Rectangles, S: BackendStyle>(
    back: &mut DB,
    path: impl IntoIterator<Item = BackendCoord>,
    style: &S,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    if style.color().alpha == 0.0 {
        return Ok(());
    }
    if style.stroke_width() == 1 {
        return back.draw_path(path, style);
    }
    let p: Vec<BackendCoord> = path.into_iter().collect();
    let v = plotters_backend::rasterizer::polygonize(&p, style.stroke_width());
    fill_polygon(back, &v, &style.color())
}

/// What plotters' default `draw_path` does for a line wider than one pixel: the
/// reference the tests compare with.
#[cfg(test)]
fn reference_path<DB: DrawingBackend, S: BackendStyle>(
    back: &mut DB,
    path: &[BackendCoord],
    style: &S,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    if style.color().alpha == 0.0 {
        return Ok(());
    }
    let v = plotters_backend::rasterizer::polygonize(path, style.stroke_width());
    plotters_backend::rasterizer::fill_polygon(back, &v, &style.color())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::BitMapBackend;
    use plotters_backend::BackendColor;
    use rand::{Rng, SeedableRng};

    use crate::charts::noisy_canvas as canvas;
    use crate::charts::stamp::Styled as Style;

    /// Whole numbers, their neighbours one unit in the last place away, and random values
    /// of either sign, large and small: the library's `floor` and `ceil`.
    #[test]
    fn inline_floor_and_ceil_are_the_library_ones() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        let mut xs = vec![0.0, -0.0, 4.5e15, -4.5e15, 1e300, f64::NAN, f64::INFINITY];
        for k in -3000..3000 {
            let b = (k as f64 + 0.5).to_bits();
            xs.extend([k as f64, f64::from_bits(b + 1), f64::from_bits(b - 1)]);
        }
        for _ in 0..100_000 {
            let scale = 10f64.powi(rng.random_range(-3..16));
            xs.push(rng.random_range(-1.0..1.0) * scale);
        }
        for x in xs {
            assert_eq!(
                floor(x).to_bits() | (1 << 63),
                x.floor().to_bits() | (1 << 63),
                "{x:e}"
            );
            assert_eq!(
                ceil(x).to_bits() | (1 << 63),
                x.ceil().to_bits() | (1 << 63),
                "{x:e}"
            );
            assert_eq!(floor(x) as i32, x.floor() as i32);
            assert_eq!(ceil(x) as i32, x.ceil() as i32);
        }
    }

    /// Rectangles of every small size and some large ones, their corners in any order
    /// (so some are not rectangles but crossed outlines), partly off the canvas, opaque
    /// and translucent: the same bytes as plotters' own fill.
    #[test]
    fn rectangles_fill_as_plotters() {
        let (w, h) = (160u32, 120u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        for case in 0..4000u64 {
            let big = if case % 3 == 0 { 150 } else { 6 };
            let (x0, y0) = (rng.random_range(-20..170), rng.random_range(-20..130));
            let (x1, y1) = (
                x0 + rng.random_range(1..=big),
                y0 + rng.random_range(1..=big),
            );
            let mut pts = vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)];
            if case % 2 == 0 {
                pts.reverse();
            }
            pts.rotate_left(rng.random_range(0..4));
            if case % 7 == 0 {
                pts.swap(rng.random_range(0..4), rng.random_range(0..4));
            }
            let style = Style(
                BackendColor {
                    alpha: if case % 4 == 0 { 0.35 } else { 1.0 },
                    rgb: (rng.random(), rng.random(), rng.random()),
                },
                rng.random_range(1..=3),
            );
            let mut a = canvas(w, h, case);
            let mut b = a.clone();
            {
                let mut back = BitMapBackend::with_buffer(&mut a, (w, h));
                plotters_backend::rasterizer::fill_polygon(&mut back, &pts, &style).unwrap();
            }
            {
                let mut back = BitMapBackend::with_buffer(&mut b, (w, h));
                fill_polygon(&mut back, &pts, &style).unwrap();
            }
            assert!(a == b, "case {case}: {pts:?}");
        }
    }

    /// Rectangles filled at once by the bitmap, across rows and columns, small and large,
    /// partly or wholly off the canvas, opaque and translucent: the same bytes as filled
    /// line by line.
    #[test]
    fn the_bitmap_fills_a_rectangle_as_line_by_line() {
        let (w, h) = (160u32, 120u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(21);
        for case in 0..4000u64 {
            let big = if case % 3 == 0 { 200 } else { 6 };
            let low = (rng.random_range(-40..200), rng.random_range(-40..200));
            let high = (
                low.0 + rng.random_range(1..=big),
                low.1 + rng.random_range(1..=big),
            );
            let horizontal = case % 2 == 0;
            let color = BackendColor {
                alpha: [1.0, 0.35, 0.8, 0.0][(case % 4) as usize],
                rgb: (rng.random(), rng.random(), rng.random()),
            };
            let mut a = canvas(w, h, case);
            let mut b = a.clone();
            {
                let mut back = BitMapBackend::with_buffer(&mut a, (w, h));
                fill_rectangle_by_lines(&mut back, low, high, horizontal, color).unwrap();
            }
            {
                let mut back = BitMapBackend::with_buffer(&mut b, (w, h));
                back.fill_rectangle(low, high, horizontal, color).unwrap();
            }
            assert!(
                a == b,
                "case {case}: {low:?} to {high:?}, horizontal {horizontal}"
            );
        }
    }

    /// Lines wider than a pixel (horizontal, vertical and slanted, short and long, partly
    /// off the canvas, opaque and translucent): the same bytes as the bitmap backend's own
    /// `draw_line`.
    #[test]
    fn wide_lines_as_the_bitmap_backend() {
        let (w, h) = (160u32, 120u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(9);
        for case in 0..4000u64 {
            let from = (rng.random_range(-20..180), rng.random_range(-20..140));
            let reach = if case % 3 == 0 { 200 } else { 12 };
            let mut to = (
                from.0 + rng.random_range(-reach..=reach),
                from.1 + rng.random_range(-reach..=reach),
            );
            match case % 4 {
                0 => to.0 = from.0,
                1 => to.1 = from.1,
                _ => {}
            }
            let style = Style(
                BackendColor {
                    alpha: if case % 5 == 0 { 0.35 } else { 1.0 },
                    rgb: (rng.random(), rng.random(), rng.random()),
                },
                rng.random_range(2..=5),
            );
            let mut a = canvas(w, h, case);
            let mut b = a.clone();
            {
                let mut back = BitMapBackend::with_buffer(&mut a, (w, h));
                back.draw_line(from, to, &style).unwrap();
            }
            {
                let mut back = BitMapBackend::with_buffer(&mut b, (w, h));
                draw_wide_line(&mut back, from, to, &style).unwrap();
            }
            assert!(a == b, "case {case}: {from:?} to {to:?} width {}", style.1);
        }
    }

    /// Random polygons and wide paths (dash-sized and long zigzags, partly off the
    /// canvas, opaque and translucent): the same bytes as plotters' own fill.
    #[test]
    fn the_same_pixels_as_plotters() {
        let (w, h) = (160u32, 120u32);
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        for case in 0..3000u64 {
            let n = rng.random_range(1..=if case % 3 == 0 { 40 } else { 6 });
            let spread = if case % 2 == 0 { 12 } else { 200 };
            let (cx, cy) = (rng.random_range(-20..180), rng.random_range(-20..140));
            let pts: Vec<BackendCoord> = (0..n)
                .map(|_| {
                    (
                        cx + rng.random_range(-spread..=spread),
                        cy + rng.random_range(-spread / 2..=spread / 2),
                    )
                })
                .collect();
            let alpha = if case % 4 == 0 { 0.35 } else { 1.0 };
            let style = Style(
                BackendColor {
                    alpha,
                    rgb: (rng.random(), rng.random(), rng.random()),
                },
                // A polygon's own style width matters only when it is flat (a line).
                if case % 5 == 0 {
                    rng.random_range(1..=4)
                } else {
                    rng.random_range(2..=4)
                },
            );
            let mut a = canvas(w, h, case);
            let mut b = a.clone();
            {
                let mut back = BitMapBackend::with_buffer(&mut a, (w, h));
                if case % 5 == 0 {
                    plotters_backend::rasterizer::fill_polygon(&mut back, &pts, &style).unwrap();
                } else {
                    reference_path(&mut back, &pts, &style).unwrap();
                }
            }
            {
                let mut back = BitMapBackend::with_buffer(&mut b, (w, h));
                if case % 5 == 0 {
                    fill_polygon(&mut back, &pts, &style).unwrap();
                } else {
                    draw_path(&mut back, pts.iter().copied(), &style).unwrap();
                }
            }
            assert!(a == b, "case {case}: {pts:?} width {}", style.1);
        }
    }
}
