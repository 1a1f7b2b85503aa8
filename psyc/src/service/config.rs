//! What the psyc service reads from the configuration, and why it may refuse to start.

use std::path::PathBuf;

use gnunet_service::config::{required_socket, Config, ServiceSection};
use gnunet_service::privacy::Knobs;

use super::SECTION;
use crate::channel::Config as ChannelConfig;

/// Why the service cannot start (shared by the workspace's services).
pub use gnunet_service::config::StartError as ServiceError;

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
    /// The privacy knobs (`[secushare]`) at start-up; the padding scheme is the one psyc uses.
    pub privacy: Knobs,
    /// The `-c` file, watched for changes of the privacy knobs (see [`Self::watching`]).
    pub config_file: Option<PathBuf>,
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
    /// the privacy knobs of `[secushare]` (the padding scheme, see
    /// [`crate::channel::pad`]), and the sockets of multicast, psycstore and statistics.
    pub fn from_config(cfg: &Config) -> Result<Self, ServiceError> {
        let own = ServiceSection::new(cfg, SECTION);
        let mut channel = ChannelConfig::default();
        if let Some(n) = own.positive_count("TRANSMIT_QUEUE")? {
            channel.max_transmit_queue = n;
        }
        if let Some(n) = own.positive_count("FRAGMENTS_IN_FLIGHT")? {
            channel.max_fragments_in_flight = n;
        }
        if let Some(n) = own.positive("RECEIVE_WINDOW")? {
            channel.receive_window = n;
        }
        if let Some(n) = own.positive_count("MAX_REPLAYS")? {
            channel.max_replays = n;
        }
        if let Some(n) = own.number("MAX_STATE_CHAIN")? {
            channel.max_state_chain = n;
        }
        if let Some(t) = own.positive_time("REPLAY_TIMEOUT")? {
            channel.replay_timeout = t;
        }
        Ok(Self {
            channel,
            multicast_socket: required_socket(cfg, "multicast")?,
            psycstore_socket: required_socket(cfg, "psycstore")?,
            statistics_socket: cfg.unix_path("statistics"),
            privacy: Knobs::from_config(cfg)?,
            config_file: None,
        })
    }

    /// The same, re-reading the privacy knobs whenever `file` (the `-c` file the config was
    /// loaded from) changes, so that a new `PRIVACY` or `PADDING` pads the next message.
    pub fn watching(self, file: Option<PathBuf>) -> Self {
        Self {
            config_file: file,
            ..self
        }
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
        // The privacy knobs: balanced (Padmé) by default, the level or PADDING on top.
        assert_eq!(c.privacy.padding, gnunet_service::privacy::Padding::Padme);
        let mut strict = config("");
        strict
            .parse_str("[secushare]\nPRIVACY = strict\nPADDING = none\n", "s.conf")
            .unwrap();
        let c = ServiceConfig::from_config(&strict).unwrap();
        assert_eq!(c.privacy.level, gnunet_service::privacy::Level::Strict);
        assert!(c.privacy.padding.is_none());
        let mut bad = config("");
        bad.parse_str("[secushare]\nPADDING = lots\n", "b.conf")
            .unwrap();
        assert!(ServiceConfig::from_config(&bad).is_err());
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
