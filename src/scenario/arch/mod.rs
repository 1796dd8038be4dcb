//! The `[[arch]]` tables: one configuration type per architecture kind, and the dispatch from a
//! kind's name to its type.
//!
//! Each kind's table is parsed only once its kind is known (from `kind`, or from the preset the
//! entry names), so every kind rejects the keys of the others, and errors carry the full path
//! (`arch[2].path_length`).

pub mod centralized;
pub mod federated;
pub mod mixnet;
pub mod onion;
pub mod p2p;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::arch::ArchSpec;
use crate::scenario::diag::{KeyPath, Problem};
use crate::scenario::resolve::{Env, serde_problem};
use crate::scenario::schema::RawArch;

/// A kind's table: parsed by serde, checked and turned into the engine's [`ArchSpec`] here.
pub trait ArchConfig: DeserializeOwned + Serialize + JsonSchema {
    /// The kind's name in scenario files.
    const KIND: &'static str;
    /// One line on what the kind models.
    const SUMMARY: &'static str;
    /// Checks values (pushing every problem found) and builds the engine's parameters.
    fn resolve(&self, path: &KeyPath, env: &Env<'_>, problems: &mut Vec<Problem>) -> Option<ArchSpec>;
}

/// Every kind a scenario can name, with its one-line summary.
pub fn kinds() -> Vec<(&'static str, &'static str)> {
    vec![
        (centralized::CentralizedConfig::KIND, centralized::CentralizedConfig::SUMMARY),
        (federated::FederatedConfig::KIND, federated::FederatedConfig::SUMMARY),
        (onion::OnionConfig::KIND, onion::OnionConfig::SUMMARY),
        (p2p::P2pConfig::KIND, p2p::P2pConfig::SUMMARY),
        (mixnet::MixnetConfig::KIND, mixnet::MixnetConfig::SUMMARY),
    ]
}

/// Parses and resolves one kind's table; returns the engine parameters and the complete table
/// (defaults filled in) for the resolved scenario.
pub fn resolve_kind(
    kind: &str,
    params: toml::Table,
    path: &KeyPath,
    env: &Env<'_>,
    problems: &mut Vec<Problem>,
) -> Option<(ArchSpec, toml::Table)> {
    match kind {
        centralized::CentralizedConfig::KIND => {
            resolve_with::<centralized::CentralizedConfig>(params, path, env, problems)
        }
        federated::FederatedConfig::KIND => resolve_with::<federated::FederatedConfig>(params, path, env, problems),
        onion::OnionConfig::KIND => resolve_with::<onion::OnionConfig>(params, path, env, problems),
        p2p::P2pConfig::KIND => resolve_with::<p2p::P2pConfig>(params, path, env, problems),
        mixnet::MixnetConfig::KIND => resolve_with::<mixnet::MixnetConfig>(params, path, env, problems),
        other => {
            let names: Vec<&str> = kinds().iter().map(|k| k.0).collect();
            problems.push(
                Problem::new(path.key("kind"), format!("unknown architecture kind `{other}`"))
                    .hint(format!("use one of: {}", names.join(", "))),
            );
            None
        }
    }
}

fn resolve_with<C: ArchConfig>(
    params: toml::Table,
    path: &KeyPath,
    env: &Env<'_>,
    problems: &mut Vec<Problem>,
) -> Option<(ArchSpec, toml::Table)> {
    let config: C = match serde_path_to_error::deserialize(toml::Value::Table(params)) {
        Ok(c) => c,
        Err(e) => {
            problems.push(serde_problem(path, e));
            return None;
        }
    };
    let spec = config.resolve(path, env, problems)?;
    let table = toml::Table::try_from(&config).expect("a parsed config serialises back");
    Some((spec, table))
}

impl JsonSchema for RawArch {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Arch".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        // One alternative per kind: its own keys plus `kind`, `name` and `preset`; and one per
        // preset: `preset` set to its name, and only its kind's keys (issue 13, item 11: a single
        // open alternative for presets let any key through, so editors never flagged a typo).
        let mut alternatives = Vec::new();
        let mut preset_alternatives = Vec::new();
        for preset in crate::scenario::presets::all() {
            let (kind, _) = preset.arch_table();
            let mut schema = match kind.as_str() {
                centralized::CentralizedConfig::KIND => {
                    <centralized::CentralizedConfig as JsonSchema>::json_schema(generator)
                }
                federated::FederatedConfig::KIND => <federated::FederatedConfig as JsonSchema>::json_schema(generator),
                onion::OnionConfig::KIND => <onion::OnionConfig as JsonSchema>::json_schema(generator),
                p2p::P2pConfig::KIND => <p2p::P2pConfig as JsonSchema>::json_schema(generator),
                mixnet::MixnetConfig::KIND => <mixnet::MixnetConfig as JsonSchema>::json_schema(generator),
                _ => continue,
            };
            if let Some(obj) = schema.as_object_mut() {
                let props = obj.entry("properties").or_insert_with(|| serde_json::json!({}));
                props["preset"] = serde_json::json!({ "const": preset.name, "description": preset.title });
                props["name"] = serde_json::json!({ "type": "string", "description": "Label in outputs." });
                props["kind"] = serde_json::json!({ "const": kind });
                // The preset gives every key a value: none is required but the preset itself.
                obj.insert("required".into(), serde_json::json!(["preset"]));
                obj.insert("additionalProperties".into(), serde_json::json!(false));
                obj.remove("title");
            }
            preset_alternatives.push(schema);
        }
        let mut add = |kind: &str, mut schema: Schema| {
            if let Some(obj) = schema.as_object_mut() {
                let props = obj.entry("properties").or_insert_with(|| serde_json::json!({}));
                props["kind"] = serde_json::json!({ "const": kind });
                props["name"] = serde_json::json!({ "type": "string", "description": "Label in outputs." });
                props["preset"] = serde_json::json!({ "type": "string", "description": "App preset to start from." });
                let required = obj.entry("required").or_insert_with(|| serde_json::json!([]));
                if let Some(list) = required.as_array_mut() {
                    list.push(serde_json::json!("kind"));
                }
            }
            alternatives.push(schema);
        };
        add(
            centralized::CentralizedConfig::KIND,
            <centralized::CentralizedConfig as JsonSchema>::json_schema(generator),
        );
        add(federated::FederatedConfig::KIND, <federated::FederatedConfig as JsonSchema>::json_schema(generator));
        add(onion::OnionConfig::KIND, <onion::OnionConfig as JsonSchema>::json_schema(generator));
        add(p2p::P2pConfig::KIND, <p2p::P2pConfig as JsonSchema>::json_schema(generator));
        add(mixnet::MixnetConfig::KIND, <mixnet::MixnetConfig as JsonSchema>::json_schema(generator));
        alternatives.extend(preset_alternatives);
        json_schema!({ "description": "One architecture to run on the shared world.", "anyOf": alternatives })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Whether one `anyOf` alternative of the schema admits `entry`, as far as keys go: its
    /// required keys are there, its `const`s match, and no key is left over when it is closed.
    fn admits(alt: &Value, entry: &serde_json::Map<String, Value>) -> bool {
        let props = alt["properties"].as_object().cloned().unwrap_or_default();
        let required = alt["required"].as_array().cloned().unwrap_or_default();
        let closed = alt["additionalProperties"] == Value::Bool(false);
        required.iter().all(|k| entry.contains_key(k.as_str().unwrap_or_default()))
            && entry.iter().all(|(k, v)| match props.get(k) {
                Some(p) => p.get("const").is_none_or(|c| c == v),
                None => !closed,
            })
    }

    fn arch_alternatives() -> Vec<Value> {
        let schema = serde_json::to_value(schemars::schema_for!(crate::scenario::schema::RawScenario)).unwrap();
        let defs = schema.get("$defs").or_else(|| schema.get("definitions")).expect("the schema has definitions");
        defs["Arch"]["anyOf"].as_array().expect("an anyOf of alternatives").clone()
    }

    #[test]
    fn the_schema_refuses_a_misspelt_key_on_a_preset_entry_issue_13() {
        let alts = arch_alternatives();
        let entry = |v: Value| v.as_object().unwrap().clone();
        let accepted = |e: &serde_json::Map<String, Value>| alts.iter().any(|a| admits(a, e));
        assert!(!accepted(&entry(serde_json::json!({ "preset": "signal", "sealed_sendr": false }))), "a typo");
        assert!(accepted(&entry(serde_json::json!({ "preset": "signal", "sealed_sender": false, "name": "s" }))));
        assert!(!accepted(&entry(serde_json::json!({ "preset": "briar", "sealed_sender": false }))), "not p2p's key");
        assert!(accepted(&entry(serde_json::json!({ "kind": "centralized", "sealed_sender": false }))));
        // Every shipped scenario's entries pass (they all use presets, so editors now check them).
        for b in crate::scenario::builtin::BUILTINS {
            let raw: toml::Table = toml::from_str(b.text).unwrap();
            for a in raw.get("arch").and_then(|v| v.as_array()).into_iter().flatten() {
                let e = serde_json::to_value(a).unwrap();
                assert!(accepted(e.as_object().unwrap()), "{}: {e}", b.name);
            }
        }
    }
}
