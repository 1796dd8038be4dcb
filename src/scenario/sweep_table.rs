//! The `[sweep]` table of a scenario file, as written: which keys a sweep varies over which
//! values. Part of the file format, so it lives with the scenario; `sweep::plan` resolves
//! it (with `--vary` arguments) into a plan.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::scenario::units::{parse_duration, parse_rate, parse_size};

/// The `[sweep]` table of a scenario file: what `netarch sweep <scenario>` does without `--vary`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    /// The keys to vary (dotted paths as for `--set`); every combination of their values is one
    /// point, the first key varying slowest.
    #[serde(default)]
    pub vary: Vec<RawVary>,
    /// Independent runs per point, each with its own seed. Default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicates: Option<u32>,
    /// Labels of the architectures to run (default: every `[[arch]]` entry).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub archs: Vec<String>,
    /// Overrides applied to every point before the varied keys, as `--set KEY=VALUE` would.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<String>,
    /// Metrics to chart against the varied key (names as in tidy.csv's `metric` column). Default:
    /// delivery ratio, delivered within the deadline, p50 and p95 latency, transmissions per
    /// delivered copy and wake-ups per device-hour.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
}

/// One varied key of a `[sweep]` table: a list of values, or a range.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawVary {
    /// Dotted key path, as for `--set` (e.g. `world.users`, `arch.0.block_share`); `arch.*.key`
    /// sets the key on every selected architecture.
    pub key: String,
    /// The values, in order (numbers, booleans, or strings such as "30min").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<SweepValue>>,
    /// A range "start:stop:step", stop included (numbers, or durations such as "15min:2h:15min").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
}

/// One value a key takes in a sweep.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SweepValue {
    /// true or false.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction.
    Float(f64),
    /// Anything else as written, e.g. "30min", "1KB", "6/h", "uniform".
    Text(String),
}

impl SweepValue {
    /// Reads one value as `--set` would: a TOML number or boolean, else the text itself.
    pub fn parse(text: &str) -> Result<SweepValue, String> {
        let text = text.trim();
        let parsed = format!("v = {text}").parse::<toml::Table>().ok().and_then(|mut t| t.remove("v"));
        match parsed {
            None => Ok(SweepValue::Text(text.to_owned())),
            Some(toml::Value::Boolean(b)) => Ok(SweepValue::Bool(b)),
            Some(toml::Value::Integer(i)) => Ok(SweepValue::Int(i)),
            Some(toml::Value::Float(f)) => Ok(SweepValue::Float(f)),
            Some(toml::Value::String(s)) => Ok(SweepValue::Text(s)),
            Some(_) => Err(format!("`{text}`: only numbers, booleans and words can be swept, not tables or arrays")),
        }
    }

    /// The value as a TOML literal, for `--set key=<literal>` (1.0 stays a float, text is quoted).
    pub fn toml_literal(&self) -> String {
        match self {
            SweepValue::Bool(b) => toml::Value::Boolean(*b).to_string(),
            SweepValue::Int(i) => toml::Value::Integer(*i).to_string(),
            SweepValue::Float(f) => toml::Value::Float(*f).to_string(),
            SweepValue::Text(s) => toml::Value::String(s.clone()).to_string(),
        }
    }

    /// A number for a chart axis, with the unit it is in: plain numbers as they are, durations in
    /// seconds, sizes in bytes, rates per hour. `None` for words and booleans.
    pub fn numeric(&self) -> Option<(f64, Unit)> {
        match self {
            SweepValue::Int(i) => Some((*i as f64, Unit::Plain)),
            SweepValue::Float(f) => Some((*f, Unit::Plain)),
            SweepValue::Bool(_) => None,
            SweepValue::Text(t) => {
                if let Ok(d) = parse_duration(t) {
                    Some((d.as_secs_f64(), Unit::Seconds))
                } else if let Ok(b) = parse_size(t) {
                    Some((b, Unit::Bytes))
                } else {
                    parse_rate(t).ok().map(|r| (r * 3600.0, Unit::PerHour))
                }
            }
        }
    }
}

impl std::fmt::Display for SweepValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepValue::Bool(b) => write!(f, "{b}"),
            SweepValue::Int(i) => write!(f, "{i}"),
            SweepValue::Float(x) => write!(f, "{x}"),
            SweepValue::Text(s) => f.write_str(s),
        }
    }
}

/// What a numeric sweep value measures (chart axes say it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A plain number.
    Plain,
    /// A duration, in seconds.
    Seconds,
    /// A size, in bytes.
    Bytes,
    /// A rate, per hour.
    PerHour,
}
