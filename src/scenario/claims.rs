//! The reference text's claims (shared/CLAIMS.md), by id, so `list` and `explain` can quote the
//! sentence a scenario measures.

/// Every claim id with the claim, as CLAIMS.md states it.
pub const CLAIMS: &[(&str, &str)] = &[
    ("S1", "Signal: with Sealed Sender only the recipient is visible to the server"),
    ("S2", "Element/Matrix: profile data, reactions and nicknames are not encrypted; a private room is E2EE"),
    ("S3", "Briar: connects over Tor, and over Wi-Fi/Bluetooth nearby when the internet is down"),
    ("S4", "Session: three random service nodes route each message; swarms keep messages for offline users"),
    ("C1", "Centralized: one organisation controls the network (single point of control and failure)"),
    ("C2", "Self-hosted centralized servers are isolated: everyone must be on the same server"),
    ("F1", "Federated: users of one server reach users of others"),
    ("F2", "Federated: relaying to offline parties can be lacking or incomplete"),
    ("F3", "Federated: some metadata (who talks to whom) is visible to servers"),
    ("F4", "Federated: admins block other servers, which hinders communication"),
    ("P1", "P2P: peers find each other through a DHT"),
    ("P2", "P2P: messages only go through when both peers are online; the client holds them meanwhile"),
    ("P3", "P2P: staying connected to learn who is online costs battery"),
    ("P4", "P2P: IP addresses of sender and recipient are exposed unless used over Tor or I2P"),
    ("A1", "Anonymous routing hides the sender, the recipient, or that they communicate"),
    ("A2", "Anonymous routing: slow message propagation"),
    ("A3", "Anonymous routing: messages can be relayed while one party is offline"),
    ("A4", "Randomly selected nodes can be far away or go offline: latency and failed transmissions"),
    ("A5", "Running a node adds to everyone's resilience against identification"),
    (
        "X1",
        "Beyond the seed: a mix network with cover traffic resists the global observer that defeats low-latency onion routing",
    ),
];

/// The claim with id `id`.
pub fn claim(id: &str) -> Option<&'static str> {
    CLAIMS.iter().find(|c| c.0 == id).map(|c| c.1)
}
