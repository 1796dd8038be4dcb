//! Values with units as written in scenario files: durations ("50ms", "2h"), sizes ("1.5MB"),
//! rates ("6/h").
//!
//! Each is a newtype that parses from a string, serialises back to a canonical string (so the
//! resolved scenario in results.json reads like the file), and describes itself in the JSON
//! Schema. Fractions are allowed ("1.5h"); the result is rounded to whole microseconds or bytes.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::SimDuration;

const DURATION_UNITS: [(&str, f64); 8] =
    [("us", 1.0), ("ms", 1e3), ("s", 1e6), ("min", 6e7), ("m", 6e7), ("h", 3.6e9), ("d", 8.64e10), ("w", 6.048e11)];

const SIZE_UNITS: [(&str, f64); 7] =
    [("B", 1.0), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("KiB", 1024.0), ("MiB", 1048576.0), ("GiB", 1073741824.0)];

const RATE_UNITS: [(&str, f64); 4] = [("s", 1.0), ("min", 60.0), ("h", 3600.0), ("d", 86400.0)];

/// Splits "1.5ms" or "2e6B" into (1.5, "ms") or (2e6, "B"): digits with an optional fraction and
/// an optional exponent (`e` or `E`, a sign, digits; no unit starts with `e`), then the unit. The
/// number must be finite and non-negative.
fn split_number(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let mut end = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(t.len());
    let rest = &t.as_bytes()[end..];
    if matches!(rest.first(), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(rest.get(1), Some(b'+' | b'-')));
        let digits = rest[1 + sign..].iter().take_while(|b| b.is_ascii_digit()).count();
        if digits > 0 {
            end += 1 + sign + digits;
        }
    }
    let number: String = t[..end].chars().filter(|&c| c != '_').collect();
    if !number.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let value: f64 = number.parse().ok()?;
    value.is_finite().then_some((value, t[end..].trim()))
}

/// The largest seed, 2^64 - 1: seeds take every value of a u64.
pub const MAX_SEED: u64 = u64::MAX;

/// What a seed must be, for error messages.
const SEED_EXPECTED: &str = "a seed: a whole number from 0 to 18446744073709551615, in digits";

/// Parses a seed written as a string of decimal digits (`_` separators allowed), for seeds of
/// 2^63 and above, which TOML integers (signed 64-bit) cannot hold.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    let digits: String = text.trim().chars().filter(|&c| c != '_').collect();
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not {SEED_EXPECTED}"));
    }
    digits.parse().map_err(|_| format!("`{text}` is above the largest seed, {MAX_SEED}"))
}

/// Reads a seed: a non-negative integer, or a string of digits (for 2^63 to 2^64 - 1).
pub fn deserialize_seed<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    struct SeedVisitor;
    impl serde::de::Visitor<'_> for SeedVisitor {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(SEED_EXPECTED)
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("{v} is not {SEED_EXPECTED}")))
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<u64, E> {
            parse_seed(v).map_err(E::custom)
        }
    }
    d.deserialize_any(SeedVisitor)
}

/// The JSON Schema of a seed: an integer, or (from 2^63 on) a string of digits.
pub fn seed_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "description": "A whole number from 0 to 18446744073709551615; from 9223372036854775808 on (beyond a TOML integer), a string of digits also works.",
        "anyOf": [
            { "type": "integer", "minimum": 0 },
            { "type": "string", "pattern": "^[0-9_]+$" }
        ]
    })
}

fn lookup(unit: &str, table: &[(&str, f64)]) -> Option<f64> {
    table.iter().find(|(u, _)| *u == unit).map(|&(_, f)| f)
}

/// Parses a duration such as "50ms", "1.5h", "30d" or "0".
pub fn parse_duration(text: &str) -> Result<SimDuration, String> {
    let bad =
        || format!("`{text}` is not a duration; write a number and a unit, e.g. \"50ms\", \"30s\", \"2h\", \"14d\"");
    let (value, unit) = split_number(text).ok_or_else(bad)?;
    let factor = if unit.is_empty() && value == 0.0 { 1.0 } else { lookup(unit, &DURATION_UNITS).ok_or_else(bad)? };
    let us = value * factor;
    if us >= u64::MAX as f64 / 2.0 {
        return Err(format!("`{text}` is too long a duration"));
    }
    Ok(SimDuration(us.round() as u64))
}

/// Formats a duration in the largest unit that divides it exactly.
pub fn format_duration(d: SimDuration) -> String {
    if d.0 == 0 {
        return "0s".into();
    }
    for &(unit, factor) in [("w", 6.048e11), ("d", 8.64e10), ("h", 3.6e9), ("min", 6e7), ("s", 1e6), ("ms", 1e3)].iter()
    {
        let f = factor as u64;
        if d.0.is_multiple_of(f) {
            return format!("{}{unit}", d.0 / f);
        }
    }
    format!("{}us", d.0)
}

/// Parses a size such as "200B", "1.5MB" or "64KiB" into bytes.
pub fn parse_size(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a size; write a number and a unit, e.g. \"200B\", \"1.5KB\", \"2MiB\"");
    let (value, unit) = split_number(text).ok_or_else(bad)?;
    let factor = lookup(unit, &SIZE_UNITS).ok_or_else(bad)?;
    Ok((value * factor).round())
}

/// Parses a rate such as "6/h" or "0.5/s" into events per second.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    let bad = || format!("`{text}` is not a rate; write a count per unit of time, e.g. \"6/h\", \"0.5/s\", \"20/d\"");
    let (count, per) = text.split_once('/').ok_or_else(bad)?;
    let (value, rest) = split_number(count).ok_or_else(bad)?;
    if !rest.is_empty() {
        return Err(bad());
    }
    let seconds = lookup(per.trim(), &RATE_UNITS).ok_or_else(bad)?;
    Ok(value / seconds)
}

macro_rules! unit_newtype {
    ($name:ident, $inner:ty, $parse:expr, $format:expr, $pattern:expr, $desc:expr, $example:expr) => {
        #[doc = $desc]
        #[derive(Clone, Copy, Debug, PartialEq)]
        pub struct $name(pub $inner);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                let parse: fn(&str) -> Result<$inner, String> = $parse;
                parse(&text).map($name).map_err(serde::de::Error::custom)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let format: fn(&$inner) -> String = $format;
                s.serialize_str(&format(&self.0))
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({ "type": "string", "pattern": $pattern, "description": $desc, "examples": [$example] })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let format: fn(&$inner) -> String = $format;
                f.write_str(&format(&self.0))
            }
        }
    };
}

unit_newtype!(
    Duration,
    SimDuration,
    parse_duration,
    |d| format_duration(*d),
    r"^[0-9_.]+([eE][+-]?[0-9]+)?\s*(us|ms|s|min|m|h|d|w)?$",
    "A duration: a number and a unit (us, ms, s, min, h, d, w), e.g. \"50ms\" or \"2h\".",
    "30min"
);

unit_newtype!(
    Size,
    f64,
    parse_size,
    |b| format!("{b}B"),
    r"^[0-9_.]+([eE][+-]?[0-9]+)?\s*(B|KB|MB|GB|KiB|MiB|GiB)$",
    "A size: a number and a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. \"1.5KB\".",
    "2KB"
);

unit_newtype!(
    Rate,
    f64,
    parse_rate,
    |r| format!("{}/h", r * 3600.0),
    r"^[0-9_.]+([eE][+-]?[0-9]+)?\s*/\s*(s|min|h|d)$",
    "A rate: a count per unit of time, e.g. \"6/h\" or \"0.5/s\".",
    "6/h"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_round_trip() {
        assert_eq!(parse_duration("50ms"), Ok(SimDuration::from_millis(50)));
        assert_eq!(parse_duration("1.5h"), Ok(SimDuration::from_secs(5400)));
        assert_eq!(parse_duration("0"), Ok(SimDuration::ZERO));
        assert_eq!(parse_duration("14d"), Ok(SimDuration::from_secs(14 * 86400)));
        assert_eq!(format_duration(SimDuration::from_secs(5400)), "90min");
        assert_eq!(format_duration(SimDuration::from_secs(14 * 86400)), "2w");
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("-5s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
    }

    #[test]
    fn exponent_form_issue_9_reads_like_plain_digits() {
        assert_eq!(parse_duration("1e6w"), parse_duration("1000000w"));
        assert_eq!(parse_duration("3.6e3s"), Ok(SimDuration::from_secs(3600)));
        assert_eq!(parse_duration("1.5E+2ms"), Ok(SimDuration::from_millis(150)));
        assert_eq!(parse_duration("5e-1s"), Ok(SimDuration::from_millis(500)));
        assert_eq!(parse_duration("0e0"), Ok(SimDuration::ZERO));
        assert_eq!(parse_rate("1e9/s"), Ok(1e9));
        assert_eq!(parse_size("2e3KiB"), Ok(2048e3));
        // A lone `e` is not an exponent, and `1e30w` is still too long.
        assert!(parse_duration("1es").is_err());
        assert!(parse_duration("e3s").is_err());
        assert!(parse_duration("1e30w").unwrap_err().contains("too long"));
    }

    #[test]
    fn seeds_issue_9_take_0_to_2_pow_64_minus_1() {
        assert_eq!(parse_seed("0"), Ok(0));
        assert_eq!(parse_seed("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_seed("9_223_372_036_854_775_808"), Ok(1 << 63));
        assert!(parse_seed("18446744073709551616").unwrap_err().contains("above the largest seed"));
        assert!(parse_seed("-1").is_err());
        assert!(parse_seed("1e3").is_err());
        assert!(parse_seed("").is_err());
    }

    #[test]
    fn sizes_and_rates_parse() {
        assert_eq!(parse_size("1.5KB"), Ok(1500.0));
        assert_eq!(parse_size("2KiB"), Ok(2048.0));
        assert!(parse_size("12").is_err());
        assert_eq!(parse_rate("6/h"), Ok(6.0 / 3600.0));
        assert_eq!(parse_rate("0.5 / s"), Ok(0.5));
        assert!(parse_rate("6").is_err());
        assert!(parse_rate("-1/h").is_err());
    }
}
