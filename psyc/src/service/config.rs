//! What the psyc service reads from the configuration, and why it may refuse to start.

use std::path::PathBuf;

use gnunet_service::config::Config;

use super::SECTION;
use crate::channel::Config as ChannelConfig;

/// Why the service cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// A config value could not be read or is out of range.
    #[error("bad configuration value [{section}] {option}: {reason}")]
    BadValue {
        /// Section.
        section: &'static str,
        /// Option.
        option: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A service we need has no UNIXPATH.
    #[error("[{0}] UNIXPATH is not set")]
    NoSocket(&'static str),
}

/// Everything the service reads from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Knobs of the channel logic.
    pub channel: ChannelConfig,
    /// The multicast service's socket (one connection per channel record).
    pub multicast_socket: PathBuf,
    /// The psycstore service's socket (one connection for all records).
    pub psycstore_socket: PathBuf,
    /// The statistics service's socket, if configured.
    pub statistics_socket: Option<PathBuf>,
}

impl ServiceConfig {
    /// Reads `[psyc]`:
    /// - `TRANSMIT_QUEUE`: client messages a channel record holds for sending (default 256);
    /// - `FRAGMENTS_IN_FLIGHT`: fragments a record hands to multicast before multicast
    ///   acknowledged the oldest (default 4);
    /// - `RECEIVE_WINDOW`: how many message ids past the next one to deliver are buffered
    ///   (default 256);
    /// - `MAX_REPLAYS`: replay requests a record keeps outstanding (default 8);
    /// - `REPLAY_TIMEOUT`: how long to wait for a replayed fragment (default 5 s);
    /// - `MAX_STATE_CHAIN`: stateful messages a late slave fetches to catch up with the
    ///   channel state (default 1,024; 0 turns catch-up off);
    ///
    /// and the sockets of multicast, psycstore and statistics.
    pub fn from_config(cfg: &Config) -> Result<Self, ServiceError> {
        let mut channel = ChannelConfig::default();
        if let Some(n) = positive(cfg, "TRANSMIT_QUEUE")? {
            channel.max_transmit_queue = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = positive(cfg, "FRAGMENTS_IN_FLIGHT")? {
            channel.max_fragments_in_flight = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = positive(cfg, "RECEIVE_WINDOW")? {
            channel.receive_window = n;
        }
        if let Some(n) = positive(cfg, "MAX_REPLAYS")? {
            channel.max_replays = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = cfg
            .get_number(SECTION, "MAX_STATE_CHAIN")
            .map_err(|e| bad("MAX_STATE_CHAIN", e.to_string()))?
        {
            channel.max_state_chain = n;
        }
        if let Some(t) = cfg
            .get_time(SECTION, "REPLAY_TIMEOUT")
            .map_err(|e| bad("REPLAY_TIMEOUT", e.to_string()))?
        {
            if t.is_zero() {
                return Err(bad("REPLAY_TIMEOUT", "must be above zero".into()));
            }
            channel.replay_timeout = t;
        }
        Ok(Self {
            channel,
            multicast_socket: cfg
                .unix_path("multicast")
                .ok_or(ServiceError::NoSocket("multicast"))?,
            psycstore_socket: cfg
                .unix_path("psycstore")
                .ok_or(ServiceError::NoSocket("psycstore"))?,
            statistics_socket: cfg.unix_path("statistics"),
        })
    }
}

fn bad(option: &'static str, reason: String) -> ServiceError {
    ServiceError::BadValue {
        section: SECTION,
        option,
        reason,
    }
}

/// A number option that must be at least 1 when given.
fn positive(cfg: &Config, option: &'static str) -> Result<Option<u64>, ServiceError> {
    match cfg
        .get_number(SECTION, option)
        .map_err(|e| bad(option, e.to_string()))?
    {
        Some(0) => Err(bad(option, "must be at least 1".into())),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let mut cfg = Config::with_install_paths();
        cfg.parse_str(
            &format!(
                "[multicast]\nUNIXPATH = /tmp/m.sock\n[psycstore]\nUNIXPATH = /tmp/p.sock\n[psyc]\n{extra}"
            ),
            "test.conf",
        )
        .unwrap();
        cfg
    }

    #[test]
    fn knobs_and_sockets_are_read_and_checked() {
        let c = ServiceConfig::from_config(&config("")).unwrap();
        assert_eq!(c.multicast_socket, PathBuf::from("/tmp/m.sock"));
        assert_eq!(c.psycstore_socket, PathBuf::from("/tmp/p.sock"));
        assert_eq!(
            c.channel.max_transmit_queue,
            ChannelConfig::default().max_transmit_queue
        );
        let c = ServiceConfig::from_config(&config(
            "TRANSMIT_QUEUE = 9\nFRAGMENTS_IN_FLIGHT = 2\nRECEIVE_WINDOW = 17\nMAX_REPLAYS = 2\nREPLAY_TIMEOUT = 700 ms\nMAX_STATE_CHAIN = 0\n",
        ))
        .unwrap();
        assert_eq!(c.channel.max_transmit_queue, 9);
        assert_eq!(c.channel.max_fragments_in_flight, 2);
        assert_eq!(c.channel.receive_window, 17);
        assert_eq!(c.channel.max_replays, 2);
        assert_eq!(c.channel.max_state_chain, 0);
        assert_eq!(
            c.channel.replay_timeout,
            std::time::Duration::from_millis(700)
        );
        for bad in [
            "TRANSMIT_QUEUE = 0\n",
            "RECEIVE_WINDOW = many\n",
            "REPLAY_TIMEOUT = 0 ms\n",
        ] {
            assert!(ServiceConfig::from_config(&config(bad)).is_err(), "{bad}");
        }
        let mut no_store = Config::with_install_paths();
        no_store
            .parse_str("[multicast]\nUNIXPATH = /tmp/m.sock\n", "t.conf")
            .unwrap();
        assert!(matches!(
            ServiceConfig::from_config(&no_store),
            Err(ServiceError::NoSocket("psycstore"))
        ));
    }
}
