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

/// Splits "1.5ms" into (1.5, "ms"); the number must be finite and non-negative.
fn split_number(text: &str) -> Option<(f64, &str)> {
    let t = text.trim();
    let end = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(t.len());
    let number: String = t[..end].chars().filter(|&c| c != '_').collect();
    let value: f64 = number.parse().ok()?;
    value.is_finite().then_some((value, t[end..].trim()))
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
    r"^[0-9_.]+\s*(us|ms|s|min|m|h|d|w)?$",
    "A duration: a number and a unit (us, ms, s, min, h, d, w), e.g. \"50ms\" or \"2h\".",
    "30min"
);

unit_newtype!(
    Size,
    f64,
    parse_size,
    |b| format!("{b}B"),
    r"^[0-9_.]+\s*(B|KB|MB|GB|KiB|MiB|GiB)$",
    "A size: a number and a unit (B, KB, MB, GB, KiB, MiB, GiB), e.g. \"1.5KB\".",
    "2KB"
);

unit_newtype!(
    Rate,
    f64,
    parse_rate,
    |r| format!("{}/h", r * 3600.0),
    r"^[0-9_.]+\s*/\s*(s|min|h|d)$",
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
