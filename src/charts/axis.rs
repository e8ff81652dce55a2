//! Axis scales chosen from the data: linear with "nice" ticks, or base-10 logarithmic when
//! the values span more than a factor of [`LOG_RATIO`], so that small rates stay visible
//! next to large ones. Plotting happens in *plot coordinates* (`log10(v)` on a log axis);
//! [`Axis::pos`] maps a value there and [`Axis::label`] maps a tick back to text.

use std::ops::Range;

use crate::recommend::fmt_pct;

/// Above this ratio between the largest and the smallest positive value, an automatic
/// axis is logarithmic.
pub const LOG_RATIO: f64 = 12.0;

/// How tick labels are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Fractions written as percentages.
    Percent,
    /// Plain numbers (the unit goes in the axis title).
    Number,
}

#[derive(Debug, Clone)]
pub struct Axis {
    pub log: bool,
    /// Plot-coordinate range.
    pub lo: f64,
    pub hi: f64,
    /// Tick positions in plot coordinates.
    pub ticks: Vec<f64>,
    pub unit: Unit,
    /// On a log axis, the value drawn on the lower edge; smaller values (0 included) are
    /// clamped to it. 0 on a linear axis.
    pub floor: f64,
    /// Decimals for tick labels.
    decimals: usize,
    /// Explicit tick labels (categorical axes), parallel to `ticks`.
    labels: Option<Vec<String>>,
}

impl Axis {
    /// Maps a data value to plot coordinates.
    pub fn pos(&self, v: f64) -> f64 {
        if v.is_nan() {
            return v;
        }
        if self.log {
            v.max(self.floor).log10()
        } else {
            v
        }
    }

    /// True when `v` is drawn clamped on the lower edge of a log axis.
    pub fn clamped(&self, v: f64) -> bool {
        self.log && v < self.floor * (1.0 + 1e-9)
    }

    pub fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }

    /// The tick label at plot coordinate `t`.
    pub fn label(&self, t: f64) -> String {
        if let Some(labels) = &self.labels {
            return self
                .ticks
                .iter()
                .position(|k| (k - t).abs() < 1e-9 * (1.0 + k.abs()))
                .map(|i| labels[i].clone())
                .unwrap_or_default();
        }
        if self.log {
            let v = 10f64.powf(t);
            return match self.unit {
                Unit::Percent => fmt_pct(round_sig(v, 3)),
                Unit::Number => trim(&format!("{:.*}", log_decimals(v), v)),
            };
        }
        let v = if t.abs() < 1e-12 { 0.0 } else { t };
        match self.unit {
            Unit::Percent => format!("{}%", trim(&format!("{:.*}", self.decimals, v * 100.0))),
            Unit::Number => trim(&format!("{:.*}", self.decimals, v)),
        }
    }

    /// A linear axis covering `[lo, hi]` with about six nice ticks.
    pub fn linear(lo: f64, hi: f64, unit: Unit) -> Axis {
        let (lo, hi) = if hi > lo {
            (lo, hi)
        } else {
            let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
            (lo, lo + pad)
        };
        let step = nice_step((hi - lo) / 6.0);
        let k0 = (lo / step + 1e-9).floor() as i64;
        let k1 = (hi / step - 1e-9).ceil() as i64;
        let k1 = k1.max(k0 + 1);
        let ticks: Vec<f64> = (k0..=k1).map(|k| k as f64 * step).collect();
        let scale = if unit == Unit::Percent { 100.0 } else { 1.0 };
        let decimals = decimals_for(step * scale);
        Axis {
            log: false,
            lo: k0 as f64 * step,
            hi: k1 as f64 * step,
            ticks,
            unit,
            floor: 0.0,
            decimals,
            labels: None,
        }
    }

    /// A log axis from `floor` (drawn on the lower edge) up to a little above `max`.
    pub fn log(floor: f64, max: f64, unit: Unit) -> Axis {
        let floor = floor.max(f64::MIN_POSITIVE);
        let lo = floor.log10();
        let top = max.max(floor * 10.0).log10();
        let hi = top + 0.06 * (top - lo);
        let mut ticks = Vec::new();
        let mut nine = Vec::new();
        for e in (lo.floor() as i32 - 1)..=(hi.ceil() as i32 + 1) {
            for m in 1..=9 {
                let t = (m as f64).log10() + e as f64;
                if t >= lo - 1e-9 && t <= hi + 1e-9 {
                    nine.push(t);
                    if m == 1 || m == 2 || m == 5 {
                        ticks.push(t);
                    }
                }
            }
        }
        if ticks.len() > 10 {
            ticks.retain(|t| (t - t.round()).abs() < 1e-9);
        }
        if ticks.len() < 3 {
            ticks = nine;
        }
        Axis {
            log: true,
            lo,
            hi,
            ticks,
            unit,
            floor,
            decimals: 0,
            labels: None,
        }
    }

    /// Chooses an axis for `values` (NaN ignored). Linear from 0 unless the positive values
    /// span more than [`LOG_RATIO`] (and `allow_log`); with `zero = false` a linear axis may
    /// start above 0 when the values are far from it.
    pub fn auto(values: &[f64], unit: Unit, allow_log: bool, zero: bool) -> Axis {
        // One pass, no copies (a long run's series have tens of thousands of values): each
        // extreme is folded over the same values in the same order as separate passes would.
        let (mut any_pos, mut max, mut min_pos, mut min) = (false, f64::MIN, f64::MAX, f64::MAX);
        for &v in values {
            if !v.is_finite() {
                continue;
            }
            min = f64::min(min, v);
            if v > 0.0 {
                any_pos = true;
                max = f64::max(max, v);
                min_pos = f64::min(min_pos, v);
            }
        }
        if !any_pos {
            let top = if unit == Unit::Percent { 0.01 } else { 1.0 };
            return Axis::linear(0.0, top, unit);
        }
        if allow_log && max / min_pos > LOG_RATIO {
            return Axis::log(floor_125(min_pos / 1.4), max, unit);
        }
        let lo = if zero || min < 0.4 * max {
            min.min(0.0)
        } else {
            min - 0.1 * (max - min).max(max * 0.02)
        };
        let hi = max + 0.08 * (max - lo);
        Axis::linear(lo, hi, unit)
    }

    /// A categorical-looking axis for sweep values: ticks at the distinct values, range
    /// padded by half a step on each side. More than 14 values are thinned to those that
    /// are multiples of a round step (1, 2 or 5 times a power of ten: 0, 1000, 2000, … for
    /// a sweep of 0 to 9999) when that leaves 2 to 14 of them, else to every k-th value.
    pub fn sweep(values: &[f64]) -> Axis {
        let mut xs: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.is_empty() {
            xs.push(0.0);
        }
        let step = min_step(&xs);
        let ticks = if xs.len() <= 14 {
            xs.clone()
        } else {
            round_ticks(&xs).unwrap_or_else(|| {
                let every = xs.len().div_ceil(14);
                xs.iter().copied().step_by(every).collect()
            })
        };
        let labels = ticks.iter().map(|v| super::fmt_num(*v)).collect();
        Axis {
            log: false,
            lo: xs[0] - 0.5 * step,
            hi: xs[xs.len() - 1] + 0.5 * step,
            ticks,
            unit: Unit::Number,
            floor: 0.0,
            decimals: 0,
            labels: Some(labels),
        }
    }
}

/// The values among `xs` (sorted, distinct, more than 14) that are multiples of the
/// smallest round step (1, 2 or 5 times a power of ten, from the largest one at most a
/// fourteenth of the range up) leaving at most 14 of them, if that leaves at least 2.
fn round_ticks(xs: &[f64]) -> Option<Vec<f64>> {
    let span = xs[xs.len() - 1] - xs[0];
    if !(span > 0.0 && span.is_finite()) {
        return None;
    }
    let mut step = floor_125(span / 14.0);
    for _ in 0..4 {
        let ticks: Vec<f64> = xs
            .iter()
            .copied()
            .filter(|v| {
                let k = v / step;
                (k - k.round()).abs() <= 1e-9 * k.abs().max(1.0)
            })
            .collect();
        if ticks.len() <= 14 {
            return (ticks.len() >= 2).then_some(ticks);
        }
        // The next round step up: 1 -> 2 -> 5 -> 10.
        step = floor_125(step * 2.6);
    }
    None
}

/// The smallest gap between distinct sorted values (1 when there is one value).
pub fn min_step(sorted: &[f64]) -> f64 {
    let m = sorted
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    if m.is_finite() {
        m
    } else {
        1.0
    }
}

/// The largest of 1, 2, 5 times a power of ten that is at most `v`.
pub fn floor_125(v: f64) -> f64 {
    let e = v.log10().floor();
    let base = 10f64.powf(e);
    let m = v / base;
    let m = if m >= 5.0 - 1e-9 {
        5.0
    } else if m >= 2.0 - 1e-9 {
        2.0
    } else {
        1.0
    };
    m * base
}

fn nice_step(raw: f64) -> f64 {
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let e = raw.log10().floor();
    let base = 10f64.powf(e);
    let m = raw / base;
    let nice = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .find(|n| *n >= m - 1e-9)
        .unwrap_or(10.0);
    nice * base
}

/// Decimals that write every multiple of `step` exactly.
fn decimals_for(step: f64) -> usize {
    for d in 0..8 {
        let scaled = step * 10f64.powi(d);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0) {
            return d as usize;
        }
    }
    8
}

fn log_decimals(v: f64) -> usize {
    if v >= 1.0 {
        0
    } else {
        (-v.log10() + 1e-9).ceil().max(0.0) as usize
    }
}

fn round_sig(v: f64, sig: i32) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let e = v.abs().log10().floor() as i32;
    let f = 10f64.powi(sig - 1 - e);
    (v * f).round() / f
}

fn trim(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_percent_ticks() {
        let a = Axis::auto(&[0.0, 0.004, 0.012], Unit::Percent, true, true);
        assert!(!a.log);
        assert_eq!(a.lo, 0.0);
        assert!(a.hi >= 0.012);
        assert_eq!(a.ticks[0], 0.0, "{a:?}");
        let labels: Vec<String> = a.ticks.iter().map(|t| a.label(*t)).collect();
        assert_eq!(labels[0], "0%");
        // distinct labels
        let mut d = labels.clone();
        d.dedup();
        assert_eq!(d.len(), labels.len(), "{labels:?}");
    }

    #[test]
    fn wide_range_goes_log_and_keeps_zero_visible() {
        let a = Axis::auto(&[0.0, 0.0002, 0.05], Unit::Percent, true, true);
        assert!(a.log);
        assert!(a.floor < 0.0002);
        assert!(a.clamped(0.0));
        assert!(
            a.pos(f64::NAN).is_nan(),
            "unknown values are not drawn as 0"
        );
        assert!(!a.clamped(0.0002));
        assert!(a.pos(0.0002) > a.lo);
        let labels: Vec<String> = a.ticks.iter().map(|t| a.label(*t)).collect();
        assert!(labels.contains(&"1%".to_string()), "{labels:?}");
        assert!(labels.contains(&"0.01%".to_string()), "{labels:?}");
    }

    #[test]
    fn linear_from_zero_does_not_go_negative() {
        let a = Axis::linear(0.0, 7.0, Unit::Number);
        assert_eq!(a.lo, 0.0);
        assert!(a.hi >= 7.0 && a.hi < 9.0, "{a:?}");
        let a = Axis::auto(&[0.0, 55.0], Unit::Number, false, true);
        assert_eq!(a.lo, 0.0);
    }

    #[test]
    fn all_zero_gets_a_small_linear_range() {
        let a = Axis::auto(&[0.0, 0.0], Unit::Percent, true, true);
        assert!(!a.log);
        assert!(a.hi > 0.0);
    }

    #[test]
    fn tight_range_without_zero() {
        let a = Axis::auto(&[10.1, 10.4], Unit::Number, false, false);
        assert!(a.lo > 5.0, "{a:?}");
        assert!(a.hi >= 10.4);
    }

    #[test]
    fn sweep_axis_labels_values() {
        let a = Axis::sweep(&[2.0, 0.0, 1.0, 3.0, 1.0]);
        assert_eq!(a.ticks, vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(a.label(2.0), "2");
        assert_eq!(a.lo, -0.5);
        assert_eq!(a.hi, 3.5);
    }

    #[test]
    fn long_sweeps_are_ticked_at_round_values() {
        let range = |n: usize, step: f64| (0..n).map(|i| i as f64 * step).collect::<Vec<_>>();
        assert_eq!(Axis::sweep(&range(10_000, 1.0)).ticks, range(10, 1000.0));
        assert_eq!(Axis::sweep(&range(60, 1.0)).ticks, range(12, 5.0));
        assert_eq!(Axis::sweep(&range(30, 1.0)).ticks, range(6, 5.0));
        let tenths = Axis::sweep(&range(41, 0.1)).ticks;
        assert_eq!(tenths.len(), 9, "{tenths:?}");
        assert!((tenths[8] - 4.0).abs() < 1e-9, "{tenths:?}");
        // Up to 14 values: every one is a tick.
        assert_eq!(Axis::sweep(&range(14, 7.0)).ticks, range(14, 7.0));
        // Values with no round multiples among them: every k-th value.
        let odd: Vec<f64> = (0..20).map(|i| 1.0 + 2.0 * i as f64 + 0.37).collect();
        let ticks = Axis::sweep(&odd).ticks;
        assert_eq!(ticks, odd.iter().copied().step_by(2).collect::<Vec<_>>());
    }

    #[test]
    fn helpers() {
        assert_eq!(floor_125(0.0007), 0.0005);
        assert_eq!(floor_125(0.003), 0.002);
        assert!((floor_125(0.01) - 0.01).abs() < 1e-15);
        assert_eq!(min_step(&[0.0, 0.5, 2.0]), 0.5);
        assert_eq!(min_step(&[3.0]), 1.0);
    }
}
