//! SVG charts written with less work than plotters' own SVG backend, byte for byte the same.
//!
//! plotters' `SVGBackend` (plotters-svg 0.3.7) formats every attribute of every element
//! into a string of its own (`format!`), then copies it character by character while
//! escaping it, and writes colours and opacities through the formatting machinery again for
//! each element. A long run's time-series chart draws thousands of small elements (the
//! dashes of a dashed line are one polyline each), so that formatting was most of drawing
//! its SVG. [`FastSvg`] writes the very same document (same elements, attributes, order,
//! number formats and escapes: the tests draw every kind of element through both and
//! compare the text) straight into the output string. Only text and font names can hold
//! characters that need escaping; numbers and colours never do.

use std::fmt::Write as _;

use plotters::prelude::DrawingBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontStyle,
    FontTransform,
};

/// A drawing backend writing an SVG document into a string, as
/// `SVGBackend::with_string` does.
pub struct FastSvg<'a> {
    buf: &'a mut String,
    size: (u32, u32),
    /// Whether the `<svg>` element is still open (closed at `present` or drop).
    open: bool,
}

impl<'a> FastSvg<'a> {
    pub fn with_string(buf: &'a mut String, size: (u32, u32)) -> Self {
        buf.push_str("<svg width=\"");
        push_int(buf, size.0 as i64);
        buf.push_str("\" height=\"");
        push_int(buf, size.1 as i64);
        buf.push_str("\" viewBox=\"0 0 ");
        push_int(buf, size.0 as i64);
        buf.push(' ');
        push_int(buf, size.1 as i64);
        buf.push_str("\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        FastSvg {
            buf,
            size,
            open: true,
        }
    }

    /// ` key="value"` for a value that needs no escaping.
    fn attr(&mut self, key: &str, value: &str) {
        self.buf.push(' ');
        self.buf.push_str(key);
        self.buf.push_str("=\"");
        self.buf.push_str(value);
        self.buf.push('"');
    }

    fn attr_int(&mut self, key: &str, value: i64) {
        self.buf.push(' ');
        self.buf.push_str(key);
        self.buf.push_str("=\"");
        push_int(self.buf, value);
        self.buf.push('"');
    }

    fn attr_opacity(&mut self, color: BackendColor) {
        self.buf.push_str(" opacity=\"");
        push_f64(self.buf, color.alpha);
        self.buf.push('"');
    }

    fn attr_color(&mut self, key: &str, color: BackendColor) {
        self.buf.push(' ');
        self.buf.push_str(key);
        self.buf.push_str("=\"");
        push_color(self.buf, color);
        self.buf.push('"');
    }

    fn attr_points(&mut self, path: impl IntoIterator<Item = BackendCoord>) {
        self.buf.push_str(" points=\"");
        for (x, y) in path {
            push_int(self.buf, x as i64);
            self.buf.push(',');
            push_int(self.buf, y as i64);
            self.buf.push(' ');
        }
        self.buf.push('"');
    }

    fn end_empty(&mut self) {
        self.buf.push_str("/>\n");
    }
}

/// The decimal digits of `v`, as `Display` writes them.
fn push_int(buf: &mut String, v: i64) {
    let mut digits = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        buf.push('-');
    }
    // Only ASCII digits were written.
    buf.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
}

/// `v` as `Display` writes it; opaque colours (most of them) without the formatting.
fn push_f64(buf: &mut String, v: f64) {
    if v == 1.0 {
        buf.push('1');
    } else {
        let _ = write!(buf, "{v}");
    }
}

/// `#RRGGBB` in upper-case hexadecimal.
fn push_color(buf: &mut String, color: BackendColor) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let (r, g, b) = color.rgb;
    buf.push('#');
    for c in [r, g, b] {
        buf.push(HEX[(c >> 4) as usize] as char);
        buf.push(HEX[(c & 15) as usize] as char);
    }
}

/// Text and attribute values with XML's special characters escaped, as plotters does.
fn push_escaped(buf: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '<' => buf.push_str("&lt;"),
            '>' => buf.push_str("&gt;"),
            '&' => buf.push_str("&amp;"),
            '"' => buf.push_str("&quot;"),
            '\'' => buf.push_str("&apos;"),
            other => buf.push(other),
        }
    }
}

impl DrawingBackend for FastSvg<'_> {
    type ErrorType = std::io::Error;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        Ok(())
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if self.open {
            self.buf.push_str("</svg>\n");
            self.open = false;
        }
        Ok(())
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.buf.push_str("<rect");
        self.attr_int("x", point.0 as i64);
        self.attr_int("y", point.1 as i64);
        self.attr("width", "1");
        self.attr("height", "1");
        self.attr("stroke", "none");
        self.attr_opacity(color);
        self.attr_color("fill", color);
        self.end_empty();
        Ok(())
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.buf.push_str("<line");
        self.attr_opacity(color);
        self.attr_color("stroke", color);
        self.attr_int("stroke-width", style.stroke_width() as i64);
        self.attr_int("x1", from.0 as i64);
        self.attr_int("y1", from.1 as i64);
        self.attr_int("x2", to.0 as i64);
        self.attr_int("y2", to.1 as i64);
        self.end_empty();
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.buf.push_str("<rect");
        self.attr_int("x", upper_left.0 as i64);
        self.attr_int("y", upper_left.1 as i64);
        // In i32, as plotters computes them.
        self.attr_int("width", bottom_right.0.wrapping_sub(upper_left.0) as i64);
        self.attr_int("height", bottom_right.1.wrapping_sub(upper_left.1) as i64);
        self.attr_opacity(color);
        if fill {
            self.attr_color("fill", color);
            self.attr("stroke", "none");
        } else {
            self.attr("fill", "none");
            self.attr_color("stroke", color);
        }
        self.end_empty();
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.buf.push_str("<polyline");
        self.attr("fill", "none");
        self.attr_opacity(color);
        self.attr_color("stroke", color);
        self.attr_int("stroke-width", style.stroke_width() as i64);
        self.attr_points(path);
        self.end_empty();
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.buf.push_str("<polygon");
        self.attr_opacity(color);
        self.attr_color("fill", color);
        self.attr_points(path);
        self.end_empty();
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        self.buf.push_str("<circle");
        self.attr_int("cx", center.0 as i64);
        self.attr_int("cy", center.1 as i64);
        self.attr_int("r", radius as i64);
        self.attr_opacity(color);
        if fill {
            self.attr_color("fill", color);
            self.attr("stroke", "none");
        } else {
            self.attr("fill", "none");
            self.attr_color("stroke", color);
        }
        self.attr_int("stroke-width", style.stroke_width() as i64);
        self.end_empty();
        Ok(())
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let (x0, y0) = pos;
        let text_anchor = match style.anchor().h_pos {
            HPos::Left => "start",
            HPos::Right => "end",
            HPos::Center => "middle",
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => "0.76em",
            VPos::Center => "0.5ex",
            VPos::Bottom => "-0.5ex",
        };
        self.buf.push_str("<text");
        self.attr_int("x", x0 as i64);
        self.attr_int("y", y0 as i64);
        self.attr("dy", dy);
        self.attr("text-anchor", text_anchor);
        self.buf.push_str(" font-family=\"");
        push_escaped(self.buf, style.family().as_str());
        self.buf.push_str("\" font-size=\"");
        let _ = write!(self.buf, "{}", style.size() / 1.24);
        self.buf.push('"');
        self.attr_opacity(color);
        self.attr_color("fill", color);
        match style.style() {
            FontStyle::Normal => {}
            FontStyle::Bold => self.attr("font-weight", "bold"),
            other => {
                self.buf.push_str(" font-style=\"");
                push_escaped(self.buf, other.as_str());
                self.buf.push('"');
            }
        }
        let degrees = match style.transform() {
            FontTransform::Rotate90 => Some(90),
            FontTransform::Rotate180 => Some(180),
            FontTransform::Rotate270 => Some(270),
            _ => None,
        };
        if let Some(d) = degrees {
            let _ = write!(self.buf, " transform=\"rotate({d}, {x0}, {y0})\"");
        }
        self.buf.push_str(">\n");
        push_escaped(self.buf, text);
        self.buf.push_str("\n</text>\n");
        Ok(())
    }
}

impl Drop for FastSvg<'_> {
    fn drop(&mut self) {
        let _ = self.present();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;
    use plotters::style::text_anchor::Pos;

    /// Draws every kind of element, at odd and negative positions, in odd colours,
    /// opacities, widths, fonts, anchors and rotations, with text needing escapes.
    fn draw_all<DB: DrawingBackend>(b: &mut DB)
    where
        DB::ErrorType: 'static,
    {
        let colors = [
            RGBColor(0, 0, 0).to_backend_color(),
            RGBColor(0x4E, 0x79, 0xA7).to_backend_color(),
            RGBColor(255, 10, 0xAB).mix(0.35).to_backend_color(),
            RGBColor(1, 2, 3).mix(0.0).to_backend_color(),
            RGBColor(250, 251, 252).mix(1.0 / 3.0).to_backend_color(),
        ];
        for (k, &c) in colors.iter().enumerate() {
            let k = k as i32;
            let w = k as u32;
            let style = ShapeStyle {
                color: RGBAColor(c.rgb.0, c.rgb.1, c.rgb.2, c.alpha),
                filled: k % 2 == 0,
                stroke_width: w,
            };
            b.draw_pixel((k * 7 - 3, -k * 1000), c).unwrap();
            b.draw_line((-k, 5), (123_456 * k, -98), &style).unwrap();
            for fill in [false, true] {
                b.draw_rect((10 * k, -20), (-5, 300 * k), &style, fill)
                    .unwrap();
                b.draw_circle((k, -k), w * 3, &style, fill).unwrap();
            }
            let path = [(0, 0), (-1, 2), (i32::MAX, i32::MIN), (k, k * 11)];
            b.draw_path(path, &style).unwrap();
            b.draw_path(std::iter::empty::<BackendCoord>(), &style)
                .unwrap();
            b.fill_polygon(path, &style).unwrap();
        }
        let transforms = [
            FontTransform::None,
            FontTransform::Rotate90,
            FontTransform::Rotate180,
            FontTransform::Rotate270,
        ];
        let h = [HPos::Left, HPos::Center, HPos::Right];
        let v = [VPos::Top, VPos::Center, VPos::Bottom];
        let styles = [FontStyle::Normal, FontStyle::Bold, FontStyle::Italic];
        for (i, size) in [13.0, 17.5, 1.0 / 7.0].into_iter().enumerate() {
            for (j, t) in transforms.iter().enumerate() {
                let text = ("sans-serif", size, styles[(i + j) % 3])
                    .into_font()
                    .transform(t.clone())
                    .color(&RGBColor(9, 8, 7).mix(if j == 2 { 0.5 } else { 1.0 }))
                    .pos(Pos::new(h[(i + j) % 3], v[j % 3]));
                b.draw_text("a <b> & \"c\" 'd' ± é", &text, (i as i32 * 17, -(j as i32)))
                    .unwrap();
            }
        }
        let odd = ("a\"<font>&'", 12.0).into_font().color(&BLACK.mix(0.0));
        b.draw_text("not drawn", &odd, (1, 1)).unwrap();
        let odd = ("a\"<font>&'", 12.0).into_font().color(&BLUE);
        b.draw_text("", &odd, (1, 1)).unwrap();
    }

    #[test]
    fn writes_the_same_document_as_plotters() {
        crate::charts::register_fonts();
        let (mut ours, mut theirs) = (String::new(), String::new());
        {
            let mut b = FastSvg::with_string(&mut ours, (1100, 960));
            draw_all(&mut b);
            b.present().unwrap();
            b.present().unwrap();
        }
        {
            let mut b = SVGBackend::with_string(&mut theirs, (1100, 960));
            draw_all(&mut b);
            b.present().unwrap();
            b.present().unwrap();
        }
        assert!(ours.len() > 3000, "{ours}");
        assert_eq!(ours, theirs);
    }

    #[test]
    fn a_document_not_presented_is_closed_when_dropped() {
        let (mut ours, mut theirs) = (String::new(), String::new());
        drop(FastSvg::with_string(&mut ours, (3, 4)));
        drop(SVGBackend::with_string(&mut theirs, (3, 4)));
        assert_eq!(ours, theirs);
        assert!(ours.ends_with("</svg>\n"));
    }

    #[test]
    fn integers_are_written_as_display_writes_them() {
        for v in [
            0,
            1,
            -1,
            9,
            10,
            -10,
            99,
            100,
            12345,
            i64::MAX,
            i64::MIN,
            -7,
            1000,
        ] {
            let mut s = String::new();
            push_int(&mut s, v);
            assert_eq!(s, v.to_string());
        }
    }
}
