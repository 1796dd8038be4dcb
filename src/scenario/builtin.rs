//! The built-in scenarios (`scenarios/*.toml`, shipped inside the binary), and scenarios made
//! on the fly for running an app preset by name.

/// A built-in scenario's name and text.
pub struct Builtin {
    /// The name `netarch run` takes.
    pub name: &'static str,
    /// The TOML text.
    pub text: &'static str,
}

/// The scenario `cargo run --release` runs with no arguments.
pub const DEFAULT: &str = "default";

/// Every shipped scenario, in the order `netarch list` shows them.
pub const BUILTINS: &[Builtin] = &[
    Builtin { name: "default", text: include_str!("../../scenarios/default.toml") },
    Builtin { name: "queueing", text: include_str!("../../scenarios/queueing.toml") },
    Builtin { name: "store-and-forward", text: include_str!("../../scenarios/store-and-forward.toml") },
    Builtin { name: "provider-outage", text: include_str!("../../scenarios/provider-outage.toml") },
    Builtin { name: "self-hosted", text: include_str!("../../scenarios/self-hosted.toml") },
    Builtin { name: "federation", text: include_str!("../../scenarios/federation.toml") },
    Builtin { name: "federation-outage", text: include_str!("../../scenarios/federation-outage.toml") },
    Builtin { name: "defederation", text: include_str!("../../scenarios/defederation.toml") },
    Builtin { name: "onion-latency", text: include_str!("../../scenarios/onion-latency.toml") },
    Builtin { name: "offline-swarm", text: include_str!("../../scenarios/offline-swarm.toml") },
    Builtin { name: "relay-churn", text: include_str!("../../scenarios/relay-churn.toml") },
    Builtin { name: "p2p-online", text: include_str!("../../scenarios/p2p-online.toml") },
    Builtin { name: "dht-lookup", text: include_str!("../../scenarios/dht-lookup.toml") },
    Builtin { name: "battery", text: include_str!("../../scenarios/battery.toml") },
    Builtin { name: "internet-outage", text: include_str!("../../scenarios/internet-outage.toml") },
    Builtin { name: "mixnet", text: include_str!("../../scenarios/mixnet.toml") },
    Builtin { name: "sealed-sender", text: include_str!("../../scenarios/sealed-sender.toml") },
    Builtin { name: "room-metadata", text: include_str!("../../scenarios/room-metadata.toml") },
    Builtin { name: "who-talks-to-whom", text: include_str!("../../scenarios/who-talks-to-whom.toml") },
    Builtin { name: "ip-exposure", text: include_str!("../../scenarios/ip-exposure.toml") },
    Builtin { name: "compromised-relays", text: include_str!("../../scenarios/compromised-relays.toml") },
    Builtin { name: "honest-relays", text: include_str!("../../scenarios/honest-relays.toml") },
];

/// The built-in scenario called `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// A scenario that runs one app preset on the default world.
pub fn for_preset(preset: &str) -> String {
    // The preset's own title heads the run (issue 13, item 11: it was empty); a JSON string is
    // also a TOML basic string.
    let title = super::presets::find(preset).map_or_else(|| preset.to_owned(), |p| p.title);
    let title = serde_json::to_string(&title).expect("a string serialises");
    format!(
        "name = \"{preset}\"\ntitle = {title}\nduration = \"6h\"\nwarmup = \"1h\"\ncooldown = \"2h\"\n\n[world]\nusers = 2000\n\n[[arch]]\npreset = \"{preset}\"\n"
    )
}
