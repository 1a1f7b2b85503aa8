//! The runtime every secushare-rs daemon and client shares.
//!
//! - [`wire`]: the GNUnet message header, the [`wire::Codec`] trait every wire type implements,
//!   and a stream framer that tells an incomplete message from an invalid one.
//! - [`config`]: GNUnet configuration files read the way libgnunetutil reads them.
//! - [`crypto`]: hashes, EdDSA and ECDSA signatures and base32, byte-identical to libgnunetutil.
//! - [`peer`]: our own peer identity.
//! - [`server`], [`client`]: the mio service loop and clients of other services.
//! - [`cadet`], [`core`], [`identity`], [`namestore`], [`gns`], [`statistics`]: thin clients of
//!   the C services we call; [`gnsrecord`] is the GNS record format NAMESTORE and GNS share,
//!   [`error_code`] the `GNUNET_ErrorCode` 0.19 services answer with.
// The only unsafe code takes over the listening sockets ARM hands down (server::listen).
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod cadet;
pub mod client;
pub mod config;
pub mod core;
pub mod crypto;
pub mod daemon;
pub mod error_code;
pub mod gns;
pub mod gnsrecord;
pub mod identity;
pub mod logging;
pub mod namestore;
pub mod options;
pub mod peer;
pub mod privacy;
pub mod requests;
pub mod server;
pub mod statistics;
pub mod wire;
