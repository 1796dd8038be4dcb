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
        // One alternative per kind: its own keys plus `kind`, `name` and `preset`; and an
        // alternative for a preset entry, whose keys are checked once the preset is known.
        let mut alternatives = Vec::new();
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
        let preset_entry = json_schema!({
            "type": "object",
            "required": ["preset"],
            "properties": {
                "preset": { "type": "string", "description": "App preset (signal, element, briar, session)." },
                "name": { "type": "string" }
            }
        });
        alternatives.push(preset_entry);
        json_schema!({ "description": "One architecture to run on the shared world.", "anyOf": alternatives })
    }
}
