//! Client side of GNUnet 0.19's IDENTITY service: follow, list, look up, create, rename and
//! delete egos.
//!
//! Egos carry a key type in 0.19 (ECDSA or EdDSA); keys travel as the 36-byte private key blob
//! (type u32 BE, then 32 key bytes).
//!
//! - [`Monitor`]: the egos as a stream of [`EgoEvent`]s over a reconnecting connection,
//!   sans-IO, for a service's mio loop (social).
//! - [`IdentityClient`], [`IdentityMonitor`]: blocking, for tools and tests.

mod client;
mod monitor;
pub mod msg;

pub use client::{Ego, IdentityClient, IdentityError, IdentityMonitor, CODE_NOT_FOUND};
pub use monitor::{EgoEvent, Monitor, MonitorError};
