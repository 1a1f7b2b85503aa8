//! What the social service reads from the configuration (`[social]`, `social.md` §1), and why
//! it may refuse to start.

use std::path::PathBuf;
use std::time::Duration;

use gnunet_service::config::{required_socket, Config, ServiceSection};
use gnunet_service::peer::PeerIdentity;
use gnunet_service::privacy::Knobs;
use tracing::error;

/// Config section of the service.
pub const SECTION: &str = "social";

/// How long start-up waits for CORE when the host key file cannot be read.
const CORE_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the service cannot start (shared by the workspace's services).
pub use gnunet_service::config::StartError as ServiceError;

/// Overrides of the place logic's limits from `[social]`; `None` keeps the logic's default
/// (the defaults live with the logic, so they are written down once). Every number is at
/// least 1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogicKnobs {
    /// `RELAY`: relay guest requests a host client asked MSG_PROC RELAY for (the C service
    /// never did on little-endian hosts, gap G2; `NO` gives its behaviour, which the C
    /// acceptance test `test_social` expects).
    pub relay: Option<bool>,
    /// `MAX_PLACES`: places in memory, hosted and entered; more are refused.
    pub max_places: Option<usize>,
    /// `MAX_CLIENTS_PER_PLACE`: client connections attached to one place.
    pub max_clients_per_place: Option<usize>,
    /// `MAX_PENDING_ENTRIES`: entry requests a host place keeps waiting for a decision;
    /// further ones are refused at once.
    pub max_pending_entries: Option<usize>,
    /// `TRANSMIT_QUEUE`: client messages one place holds for sending, all its clients
    /// together; a client that sends beyond it is dropped.
    pub max_transmit_entries: Option<usize>,
    /// `TRANSMIT_QUEUE_SIZE` (a size, e.g. `4 MiB`): bytes one place holds for sending.
    pub max_transmit_bytes: Option<usize>,
}

impl LogicKnobs {
    /// Puts the overrides into `logic`; what is not set keeps the logic's default.
    pub fn apply(&self, logic: &mut crate::place::LogicConfig) {
        let set = |value: Option<usize>, field: &mut usize| {
            if let Some(v) = value {
                *field = v;
            }
        };
        if let Some(relay) = self.relay {
            logic.relay = relay;
        }
        set(self.max_places, &mut logic.max_places);
        set(self.max_clients_per_place, &mut logic.max_clients_per_place);
        set(self.max_pending_entries, &mut logic.max_pending_entries);
        set(self.max_transmit_entries, &mut logic.max_transmit_entries);
        set(self.max_transmit_bytes, &mut logic.max_transmit_bytes);
    }
}

/// Everything the service reads from the configuration.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// `[social] DATA_HOME` (expanded): where places are saved (§9). `None` if it is not set
    /// or empty: then, as the C service did, an error is logged and the service runs without
    /// loading or saving places.
    pub data_home: Option<PathBuf>,
    /// This peer: the origin of hosted places and of the PLACE records the service writes.
    pub me: PeerIdentity,
    /// Limits of the place logic.
    pub knobs: LogicKnobs,
    /// The privacy knobs at start-up (`[secushare]`); the driver re-reads them when the `-c`
    /// file changes.
    pub privacy: Knobs,
    /// The psyc service's socket.
    pub psyc_socket: PathBuf,
    /// The identity service's socket (egos).
    pub identity_socket: PathBuf,
    /// The gns service's socket (entering a place by name).
    pub gns_socket: PathBuf,
    /// The namestore service's socket (PLACE and PKEY records).
    pub namestore_socket: PathBuf,
    /// The statistics service's socket, if configured.
    pub statistics_socket: Option<PathBuf>,
}

impl ServiceConfig {
    /// Reads `[social]` (`DATA_HOME` and the knobs of [`LogicKnobs`]), the sockets of psyc,
    /// identity, gns, namestore and statistics, and this peer's identity (from
    /// `[PEER] PRIVATE_KEY`, else by asking CORE, waiting up to 30 s).
    pub fn from_config(cfg: &Config) -> Result<Self, ServiceError> {
        // An empty value would expand to the working directory: it counts as missing.
        let data_home = cfg
            .get_raw(SECTION, "DATA_HOME")
            .filter(|v| !v.trim().is_empty())
            .and_then(|_| cfg.get_filename(SECTION, "DATA_HOME"));
        if data_home.is_none() {
            error!("configuration value [social] DATA_HOME is missing: places are neither loaded nor saved");
        }
        let own = ServiceSection::new(cfg, SECTION);
        let knobs = LogicKnobs {
            relay: own.yesno("RELAY")?,
            max_places: own.positive_count("MAX_PLACES")?,
            max_clients_per_place: own.positive_count("MAX_CLIENTS_PER_PLACE")?,
            max_pending_entries: own.positive_count("MAX_PENDING_ENTRIES")?,
            max_transmit_entries: own.positive_count("TRANSMIT_QUEUE")?,
            max_transmit_bytes: own.positive_size("TRANSMIT_QUEUE_SIZE")?,
        };
        Ok(Self {
            psyc_socket: required_socket(cfg, "psyc")?,
            identity_socket: required_socket(cfg, "identity")?,
            gns_socket: required_socket(cfg, "gns")?,
            namestore_socket: required_socket(cfg, "namestore")?,
            statistics_socket: cfg.unix_path("statistics"),
            me: gnunet_service::core::this_peer(cfg, CORE_TIMEOUT)
                .map_err(|e| ServiceError::Identity(e.to_string()))?,
            data_home,
            knobs,
            privacy: Knobs::from_config(cfg)?,
        })
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
