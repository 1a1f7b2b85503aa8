//! The group logic on a simulated network, as iroh-gossip simulates its protocol.
//!
//! A [`Scenario`] (TOML, see `multicast/simulations/`) says how many members join, how
//! latency is spread, what the origin sends and which relays are killed. [`Simulator`] runs
//! it deterministically from its seed: every peer is a [`Node`](crate::group::Node) driven
//! in-process, channels deliver in order after a per-channel latency, a channel to a peer
//! without the port is silently lost (as CADET keeps it loose), and killing a peer destroys
//! its channels for the other ends. The [`Report`] gives delivery ratio, RMR (relative
//! message redundancy), LDH (last delivery hop) and the repair after a relay is killed.
//!
//! Signatures use [`InsecureSimCrypto`] so 10,000 members stay fast; the logic around them is
//! the service's own.

mod crypto;
mod network;
mod scenario;

pub use crypto::InsecureSimCrypto;
pub use network::{PhaseReport, Report, Simulator};
pub use scenario::{Latency, Scenario, ScenarioConfig, ScenarioError};

/// Loads and runs a scenario file.
pub fn run_file(path: &std::path::Path) -> Result<Report, ScenarioError> {
    Ok(Simulator::new(Scenario::load(path)?).run())
}
