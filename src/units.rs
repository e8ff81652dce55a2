//! Units: simulated time, durations and rates as users write them in scenario files.
//!
//! Simulated time is an integer number of microseconds ([`Time`]); the engine never
//! orders events by floating point. Durations are written as a number of seconds or a
//! string with a unit (`"250ms"`, `"30s"`, `"2m"`, `"1h"`, `"1d"`); rates as a number per
//! second or a string `"N/s"`, `"N/min"`, `"N/h"`.

use std::fmt;

/// Simulated time and durations, in microseconds.
pub type Time = u64;

/// Microseconds per second.
pub const US_PER_S: f64 = 1_000_000.0;

/// Converts seconds to simulated microseconds, rounding to the nearest microsecond.
/// Negative or NaN inputs give 0; values past the range (or +inf) saturate.
#[inline]
pub fn secs_to_time(seconds: f64) -> Time {
    if seconds.is_nan() || seconds <= 0.0 {
        return 0;
    }
    let x = seconds * US_PER_S;
    // x.round() without the library call (x86-64 has no rounding instruction in its
    // baseline): below 2^53 the fraction x - trunc(x) is exact, and above it x is whole.
    if x < I64_LIMIT {
        // Below 2^63 (every duration but the absurd): the signed conversions are single
        // instructions, where the unsigned ones branch; the result is the same.
        let whole = x as i64;
        return (whole + (x - whole as f64 >= 0.5) as i64) as u64;
    }
    if x >= u64::MAX as f64 {
        return u64::MAX;
    }
    let whole = x as u64;
    whole + (x - whole as f64 >= 0.5) as u64
}

/// 2^63 as an f64.
const I64_LIMIT: f64 = 9_223_372_036_854_775_808.0;

/// Converts simulated microseconds to seconds.
pub fn time_to_secs(t: Time) -> f64 {
    t as f64 / US_PER_S
}

/// A number or a string, as written in a scenario file; interpreted by the field it fills.
#[derive(Debug, Clone, PartialEq)]
pub enum Quantity {
    Int(i64),
    Float(f64),
    Str(String),
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quantity::Int(i) => write!(f, "{i}"),
            Quantity::Float(x) => write!(f, "{x}"),
            Quantity::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a string with a unit")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity::Int(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                i64::try_from(v)
                    .map(Quantity::Int)
                    .map_err(|_| E::custom(format!("{v} is too large")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity::Float(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity::Str(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Why a quantity could not be read; the caller adds the key path.
pub type UnitError = String;

fn split_number(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|(_, c)| {
            !(c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '+' || *c == 'e' || *c == 'E')
        })
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(end);
    let num = num.trim();
    num.parse::<f64>().ok().map(|x| (x, unit.trim()))
}

const DURATION_HELP: &str =
    "a duration is a number of seconds or a string like \"250ms\", \"30s\", \"2m\", \"1h\", \"1d\"";
const RATE_HELP: &str =
    "a rate is a number per second or a string like \"3/s\", \"40/min\", \"100/h\"";

fn finite(x: f64, help: &str) -> Result<f64, UnitError> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("must be a finite number; {help}"))
    }
}

/// A duration in seconds (may be negative or zero; callers check the range they allow).
/// A non-zero duration shorter than the time resolution (1 us) is an error: it would
/// round to 0 and silently mean something else.
pub fn duration_secs(q: &Quantity) -> Result<f64, UnitError> {
    let x = duration_secs_unchecked(q)?;
    if x != 0.0 && x.abs() < 1e-6 {
        return Err(
            "is shorter than the time resolution of 1 us (slotsim's clock counts whole microseconds); use 0 or at least \"1us\""
                .to_string(),
        );
    }
    Ok(x)
}

fn duration_secs_unchecked(q: &Quantity) -> Result<f64, UnitError> {
    match q {
        Quantity::Int(i) => Ok(*i as f64),
        Quantity::Float(x) => finite(*x, DURATION_HELP),
        Quantity::Str(s) => {
            let (x, unit) =
                split_number(s).ok_or_else(|| format!("is not a duration; {DURATION_HELP}"))?;
            let scale = match unit {
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "" | "s" | "sec" => 1.0,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                other => {
                    return Err(format!("has unknown unit {other:?}; {DURATION_HELP}"));
                }
            };
            finite(x * scale, DURATION_HELP)
        }
    }
}

/// A rate in events per second.
pub fn rate_per_sec(q: &Quantity) -> Result<f64, UnitError> {
    match q {
        Quantity::Int(i) => Ok(*i as f64),
        Quantity::Float(x) => finite(*x, RATE_HELP),
        Quantity::Str(s) => {
            let (num, unit) = s
                .split_once('/')
                .ok_or_else(|| format!("is not a rate; {RATE_HELP}"))?;
            let x: f64 = num
                .trim()
                .parse()
                .map_err(|_| format!("is not a rate; {RATE_HELP}"))?;
            let per = match unit.trim() {
                "s" | "sec" => 1.0,
                "min" | "m" => 60.0,
                "h" => 3600.0,
                "d" => 86400.0,
                other => return Err(format!("has unknown unit {other:?}; {RATE_HELP}")),
            };
            finite(x / per, RATE_HELP)
        }
    }
}

/// A plain number (no unit).
pub fn plain_number(q: &Quantity) -> Result<f64, UnitError> {
    match q {
        Quantity::Int(i) => Ok(*i as f64),
        Quantity::Float(x) => finite(*x, "a plain number"),
        Quantity::Str(_) => Err("must be a plain number, not a string".to_string()),
    }
}

/// Formats seconds compactly for messages and reports: `90` -> `"1m30s"`.
pub fn format_secs(s: f64) -> String {
    if s >= 86400.0 && (s % 86400.0) == 0.0 {
        format!("{}d", s / 86400.0)
    } else if s >= 3600.0 && (s % 3600.0) == 0.0 {
        format!("{}h", s / 3600.0)
    } else if s >= 60.0 && (s % 60.0) == 0.0 {
        format!("{}m", s / 60.0)
    } else if s < 1.0 && s > 0.0 {
        format!("{}ms", s * 1000.0)
    } else {
        format!("{s}s")
    }
}

/// Rounds to `digits` significant digits, for human-readable descriptions.
pub fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    (x * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        let cases = [
            (Quantity::Int(5), 5.0),
            (Quantity::Float(0.5), 0.5),
            (Quantity::Str("250ms".into()), 0.25),
            (Quantity::Str("30s".into()), 30.0),
            (Quantity::Str("2m".into()), 120.0),
            (Quantity::Str("1.5h".into()), 5400.0),
            (Quantity::Str("1d".into()), 86400.0),
            (Quantity::Str(" 10 s ".into()), 10.0),
            (Quantity::Str("7".into()), 7.0),
        ];
        for (q, want) in cases {
            assert_eq!(duration_secs(&q).unwrap(), want, "{q}");
        }
        for bad in ["", "abc", "5 parsecs", "s", "1e400s"] {
            assert!(duration_secs(&Quantity::Str(bad.into())).is_err(), "{bad}");
        }
        assert!(duration_secs(&Quantity::Float(f64::NAN)).is_err());
        // Below the clock's resolution: an error, not a silent 0.
        for tiny in ["0.4us", "1e-9s", "0.0000009"] {
            let e = duration_secs(&Quantity::Str(tiny.into())).unwrap_err();
            assert!(e.contains("1 us"), "{tiny}: {e}");
        }
        assert!(duration_secs(&Quantity::Float(-1e-9)).is_err());
        assert_eq!(duration_secs(&Quantity::Str("1us".into())).unwrap(), 1e-6);
        assert_eq!(duration_secs(&Quantity::Int(0)).unwrap(), 0.0);
    }

    #[test]
    fn rates() {
        assert_eq!(
            rate_per_sec(&Quantity::Str("40/min".into())).unwrap(),
            40.0 / 60.0
        );
        assert_eq!(rate_per_sec(&Quantity::Str("3/s".into())).unwrap(), 3.0);
        assert_eq!(rate_per_sec(&Quantity::Str("360/h".into())).unwrap(), 0.1);
        assert_eq!(rate_per_sec(&Quantity::Int(2)).unwrap(), 2.0);
        for bad in ["3", "3/fortnight", "x/s", "/s"] {
            assert!(rate_per_sec(&Quantity::Str(bad.into())).is_err(), "{bad}");
        }
    }

    #[test]
    fn inline_rounding_equals_round() {
        use rand::{Rng, SeedableRng};
        let reference = |s: f64| {
            let us = (s * US_PER_S).round();
            if us >= u64::MAX as f64 {
                u64::MAX
            } else {
                us as u64
            }
        };
        let mut rng = rand_pcg::Pcg64::seed_from_u64(3);
        for _ in 0..200_000 {
            // Seconds from 1e-9 to 1e14, and exact half microseconds.
            let s = 10f64.powf(rng.random_range(-9.0..14.0));
            let half = (rng.random_range(0..1u64 << 40) as f64 + 0.5) / US_PER_S;
            let (up, down) = (
                f64::from_bits(half.to_bits() + 1),
                f64::from_bits(half.to_bits() - 1),
            );
            for x in [s, half, up, down] {
                assert_eq!(secs_to_time(x), reference(x), "{x:e}");
            }
        }
        // Just under half a microsecond, past 2^53 microseconds, at the u64 limit.
        let edges = [
            f64::from_bits(0.5e-6f64.to_bits() - 1),
            2f64.powi(53) / US_PER_S * 1.5,
            u64::MAX as f64 / US_PER_S,
            1e300,
            // Around 2^63 microseconds, where the conversion changes.
            2f64.powi(63) / US_PER_S,
            f64::from_bits((2f64.powi(63) / US_PER_S).to_bits() - 1),
            f64::from_bits((2f64.powi(63) / US_PER_S).to_bits() + 1),
            f64::MIN_POSITIVE,
            5e-324,
            0.5e-6,
        ];
        for x in edges {
            assert_eq!(secs_to_time(x), reference(x), "{x:e}");
        }
    }

    #[test]
    fn time_conversion_rounds() {
        assert_eq!(secs_to_time(1.0), 1_000_000);
        assert_eq!(secs_to_time(0.0000004), 0);
        assert_eq!(secs_to_time(0.0000006), 1);
        assert_eq!(secs_to_time(-3.0), 0);
        assert_eq!(secs_to_time(f64::NAN), 0);
        assert_eq!(secs_to_time(f64::INFINITY), u64::MAX);
    }
}
