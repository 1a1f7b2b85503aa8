//! secushare-rs `multicast`: GNUnet's multicast service, wire-compatible with the 2019 C
//! original, with the dissemination tree the original never built.
//!
//! - [`msg`]: every message, client↔service and peer↔peer (types 750–762).
//! - [`port`]: the group's CADET port and internal id.
//! - [`crypto`]: group and member signatures behind [`crypto::GroupCrypto`].
//! - [`group`]: the sans-IO state machine of one peer's service (origin, member, relay).
//! - [`client`]: what a client sends and receives, for any event loop.
//! - [`sim`]: the group logic on a simulated network, with scenario files and metrics.
//! - [`service`]: the driver of the service binary `gnunet-service-multicast` (mio, CADET,
//!   statistics).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod client;
pub mod crypto;
pub mod epoch;
pub mod group;
pub mod msg;
pub mod port;
pub mod service;
pub mod sim;
