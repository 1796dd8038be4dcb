//! App presets: the seed's recommended apps as documented combinations of an architecture and its
//! parameters (`presets/*.toml`, shipped inside the binary).
//!
//! A preset is an `[arch]` table plus the text `netarch explain` prints: what it models and where
//! each default comes from. An `[[arch]]` entry with `preset = "signal"` starts from the preset's
//! keys and may override any of them.

use serde::Deserialize;

use crate::scenario::schema::RawExplain;

/// The shipped presets, by name.
const PRESETS: &[(&str, &str)] = &[
    ("signal", include_str!("../../presets/signal.toml")),
    ("element", include_str!("../../presets/element.toml")),
    ("session", include_str!("../../presets/session.toml")),
    ("briar", include_str!("../../presets/briar.toml")),
];

/// One app preset.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// The preset's name.
    pub name: String,
    /// One line on what it is.
    pub title: String,
    /// Claim ids it shows on its own.
    #[serde(default)]
    pub claims: Vec<String>,
    /// Text for `netarch explain`.
    pub explain: RawExplain,
    /// The architecture table (with `kind`).
    pub arch: toml::Table,
}

impl Preset {
    /// The preset's kind and its other keys.
    pub fn arch_table(&self) -> (String, toml::Table) {
        let mut t = self.arch.clone();
        let kind = t.remove("kind").and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        (kind, t)
    }
}

/// Names of all presets.
pub fn names() -> Vec<&'static str> {
    PRESETS.iter().map(|p| p.0).collect()
}

/// The preset called `name`.
pub fn find(name: &str) -> Option<Preset> {
    PRESETS.iter().find(|p| p.0 == name).map(|(_, text)| toml::from_str(text).expect("shipped presets parse"))
}

/// Every preset.
pub fn all() -> Vec<Preset> {
    names().into_iter().filter_map(find).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_preset_parses_and_names_itself() {
        for name in super::names() {
            let p = super::find(name).unwrap();
            assert_eq!(p.name, name);
            assert!(!p.arch_table().0.is_empty(), "{name} has no kind");
            assert!(!p.explain.sources.is_empty(), "{name} does not say where its defaults come from");
        }
    }
}
