//! Scenario files (`multicast/simulations/*.toml`): who joins, what is sent, what fails.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use gnunet_service::privacy::DelayPolicy;

use crate::group::{Config, Privacy};

/// One simulation run, as read from a TOML file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name printed with the results.
    pub name: String,
    /// Seed of every random choice (latencies, re-attach jitter).
    pub seed: u64,
    /// Members besides the origin, one per peer.
    pub members: usize,
    /// Time between two members' joins, milliseconds.
    #[serde(default = "default_join_interval")]
    pub join_interval_ms: u64,
    /// One-way latency of a channel, drawn once per channel, milliseconds.
    #[serde(default)]
    pub latency_ms: Latency,
    /// Payload bytes of each fragment.
    #[serde(default = "default_payload")]
    pub payload: usize,
    /// Fragments the origin sends once everyone joined.
    pub messages: u64,
    /// Time between two fragments, milliseconds.
    #[serde(default = "default_message_interval")]
    pub message_interval_ms: u64,
    /// Relays killed after the first messages (the best-connected ones near the origin).
    #[serde(default)]
    pub kill_relays: usize,
    /// Fragments sent right after the kill.
    #[serde(default)]
    pub messages_after_kill: u64,
    /// Group logic knobs.
    #[serde(default)]
    pub config: ScenarioConfig,
}

/// A latency range.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Latency {
    /// Lowest, milliseconds.
    pub min: u64,
    /// Highest, milliseconds.
    pub max: u64,
}

impl Default for Latency {
    fn default() -> Self {
        Self { min: 10, max: 50 }
    }
}

/// The [`Config`] knobs a scenario may set (the rest keep their defaults).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioConfig {
    /// [`Config::max_children`].
    #[serde(default = "default_max_children")]
    pub max_children: usize,
    /// [`Config::replay_cache`].
    #[serde(default = "default_replay_cache")]
    pub replay_cache: usize,
    /// [`Config::join_timeout`], milliseconds.
    #[serde(default = "default_join_timeout")]
    pub join_timeout_ms: u64,
    /// [`Config::reattach_jitter`], milliseconds.
    #[serde(default = "default_jitter")]
    pub reattach_jitter_ms: u64,
    /// Mean of the per-hop delay of relays ([`Privacy::hop_delay`]), milliseconds; 0 (the
    /// default) for none.
    #[serde(default)]
    pub hop_delay_ms: u64,
    /// Cap of the per-hop delay, milliseconds.
    #[serde(default = "default_hop_delay_cap")]
    pub hop_delay_cap_ms: u64,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        Self {
            max_children: default_max_children(),
            replay_cache: default_replay_cache(),
            join_timeout_ms: default_join_timeout(),
            reattach_jitter_ms: default_jitter(),
            hop_delay_ms: 0,
            hop_delay_cap_ms: default_hop_delay_cap(),
        }
    }
}

impl ScenarioConfig {
    /// The logic's configuration.
    pub fn to_config(&self) -> Config {
        Config {
            max_children: self.max_children,
            replay_cache: self.replay_cache,
            join_timeout: Duration::from_millis(self.join_timeout_ms),
            reattach_jitter: Duration::from_millis(self.reattach_jitter_ms),
            ..Config::default()
        }
    }

    /// The privacy knobs of every node (only the per-hop delay is simulated).
    pub fn to_privacy(&self) -> Privacy {
        let ms = Duration::from_millis;
        Privacy {
            hop_delay: DelayPolicy::new(ms(self.hop_delay_ms), ms(self.hop_delay_cap_ms)),
            ..Privacy::default()
        }
    }
}

fn default_join_interval() -> u64 {
    2
}
fn default_payload() -> usize {
    200
}
fn default_message_interval() -> u64 {
    50
}
fn default_max_children() -> usize {
    10
}
fn default_replay_cache() -> usize {
    256
}
fn default_join_timeout() -> u64 {
    5000
}
fn default_jitter() -> u64 {
    200
}
fn default_hop_delay_cap() -> u64 {
    200
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// Reading the file failed.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML is invalid.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The cause.
        source: toml::de::Error,
    },
}

impl Scenario {
    /// Parses a scenario from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Reads a scenario file.
    pub fn load(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text).map_err(|source| ScenarioError::Parse {
            path: path.display().to_string(),
            source,
        })
    }
}
