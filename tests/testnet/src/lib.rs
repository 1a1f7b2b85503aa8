//! Test harness: N (1..=5) real GNUnet 0.19.3 peers on loopback, with the secushare-rs
//! services registered in their ARM configs.
//!
//! Ported from `multipeer.sh` (spec `gnunet019.md` §7): every peer gets its own directories
//! under one short temp dir (`/tmp/snXXXXXX/pK/…`, so UNIX socket paths stay short), its own
//! leased TCP port, loopback-only transport, and no included HELLOs. The peers are connected
//! by exchanging HELLOs and the harness waits until `gnunet-core` shows every expected link.
//!
//! ```no_run
//! use testnet::{ServiceConf, Testnet, Topology};
//! let net = Testnet::builder()
//!     .peers(3)
//!     .topology(Topology::Line)
//!     .service_conf(ServiceConf::workspace("psycstore")?)
//!     .start()?;
//! let socket = net.peer(0).service_socket("psycstore");
//! # let _ = socket;
//! net.stop(); // or just drop it, also on panic
//! # Ok::<(), testnet::TestnetError>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod binaries;
mod error;
mod peer;
mod peer_config;
mod peer_id;
mod ports;
mod procs;
mod sections;
mod testnet;

pub use binaries::{
    binary_search_dirs, build_workspace_bins, service_binary, try_service_binary, BIN_DIR_ENV,
};
pub use error::TestnetError;
/// The privacy level a test network runs at ([`TestnetBuilder::privacy`]).
pub use gnunet_service::privacy::Level as PrivacyLevel;
pub use peer::Peer;
pub use peer_id::{decode_peer_id, encode_peer_id, PEER_ID_CHARS};
pub use ports::{FIRST_PORT, LAST_PORT, PORT_LOCK_DIR};
pub use procs::pids_naming;
pub use sections::{parse_config, repo_conf_file, ConfigSection, ServiceConf, ServiceSection};
pub use testnet::{
    Testnet, TestnetBuilder, Topology, DEFAULT_CONNECT_TIMEOUT, KEEP_ENV, MAX_PEERS,
};
