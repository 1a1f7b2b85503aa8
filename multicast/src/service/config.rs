//! What the service reads from the configuration, and why it may refuse to start.

use std::path::PathBuf;
use std::time::Duration;

use gnunet_service::config::{required_socket, Config, ServiceSection};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::privacy::{Knobs, KnobsWatch};

use super::{QueueLimits, SECTION};
use crate::group::Config as GroupConfig;

/// Why the service cannot start (shared by the workspace's services).
pub use gnunet_service::config::StartError as ServiceError;

/// Everything the service reads from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// This peer.
    pub me: PeerIdentity,
    /// Knobs of the group logic (`[multicast] MAX_CHILDREN`, …).
    pub group: GroupConfig,
    /// Channel queue bounds (`[multicast] CHANNEL_QUEUE`).
    pub queue: QueueLimits,
    /// The cadet service's socket.
    pub cadet_socket: PathBuf,
    /// The statistics service's socket, if configured.
    pub statistics_socket: Option<PathBuf>,
    /// The privacy knobs (`[secushare]`): response and hop delays, the replay cache. Fixed
    /// unless [`ServiceConfig::watching`] names the file to follow.
    pub knobs: KnobsWatch,
}

impl ServiceConfig {
    /// Reads `[multicast]` (`MAX_CHILDREN`: children per peer before tree-capable joiners are
    /// redirected; `CHANNEL_QUEUE`: messages waiting for CADET credit per channel before the
    /// channel is closed; `REPLAY_CACHE_SIZE`: bytes of fragments kept per group for replays,
    /// 0 for none; `EPOCH_FRAGMENTS`: fragment ids per epoch of a deniable group), the
    /// privacy knobs of `[secushare]`, the cadet and statistics sockets, and this peer's
    /// identity (from `[PEER] PRIVATE_KEY`, else by asking CORE).
    pub fn from_config(cfg: &Config) -> Result<Self, ServiceError> {
        let own = ServiceSection::new(cfg, SECTION);
        let mut group = GroupConfig::default();
        if let Some(n) = own.positive_count("MAX_CHILDREN")? {
            group.max_children = n;
        }
        // 0 is allowed: no replay cache.
        if let Some(n) = cfg
            .get_size(SECTION, "REPLAY_CACHE_SIZE")
            .map_err(|e| own.bad("REPLAY_CACHE_SIZE", e.to_string()))?
        {
            group.replay_cache_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = own.positive("EPOCH_FRAGMENTS")? {
            group.epoch_fragments = n;
        }
        let mut queue = QueueLimits::default();
        if let Some(n) = own.number("CHANNEL_QUEUE")? {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            if n < 2 * queue.congested_at {
                return Err(own.bad(
                    "CHANNEL_QUEUE",
                    format!("must be at least {}", 2 * queue.congested_at),
                ));
            }
            queue.max_messages = n;
        }
        let cadet_socket = required_socket(cfg, "cadet")?;
        let statistics_socket = cfg.unix_path("statistics");
        let knobs = KnobsWatch::fixed(Knobs::from_config(cfg)?);
        let me = own_identity(cfg)?;
        Ok(Self {
            me,
            group,
            queue,
            cadet_socket,
            statistics_socket,
            knobs,
        })
    }

    /// Re-reads the privacy knobs when `file` (the service's `-c` file) changes, so a new
    /// level applies to the next message without a restart.
    pub fn watching(mut self, file: Option<PathBuf>) -> Self {
        let knobs = self.knobs.current().clone();
        self.knobs = KnobsWatch::new(file, knobs);
        self
    }
}

fn own_identity(cfg: &Config) -> Result<PeerIdentity, ServiceError> {
    gnunet_service::core::this_peer(cfg, Duration::from_secs(30))
        .map_err(|e| ServiceError::Identity(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration with a host key file (so no CORE is asked) plus `extra`.
    fn config(dir: &tempfile::TempDir, extra: &str) -> Config {
        let key = dir.path().join("host.key");
        std::fs::write(&key, [7u8; 32]).unwrap();
        let mut cfg = Config::with_install_paths();
        cfg.parse_str(
            &format!(
                "[PEER]\nPRIVATE_KEY = {}\n[cadet]\nUNIXPATH = /tmp/cadet.sock\n[multicast]\n{extra}",
                key.display()
            ),
            "test.conf",
        )
        .unwrap();
        cfg
    }

    #[test]
    fn knobs_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let c = ServiceConfig::from_config(&config(&dir, "")).unwrap();
        assert_eq!(c.group, GroupConfig::default());
        assert_eq!(
            c.me,
            PeerIdentity::from_private_key(&gnunet_service::crypto::eddsa::PrivateKey([7; 32]))
        );
        let c = ServiceConfig::from_config(&config(
            &dir,
            "MAX_CHILDREN = 3\nCHANNEL_QUEUE = 100\nREPLAY_CACHE_SIZE = 2 MiB\n",
        ))
        .unwrap();
        assert_eq!(c.group.max_children, 3);
        assert_eq!(c.queue.max_messages, 100);
        assert_eq!(c.group.replay_cache_bytes, 2 << 20);
        for bad in [
            "MAX_CHILDREN = 0\n",
            "CHANNEL_QUEUE = 10\n",
            "REPLAY_CACHE_SIZE = lots\n",
        ] {
            assert!(
                ServiceConfig::from_config(&config(&dir, bad)).is_err(),
                "{bad}"
            );
        }
    }
}
