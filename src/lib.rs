//! secushare-rs: GNUnet's secure social messaging stack (multicast, psyc, psycstore, social) as
//! drop-in Rust services for a GNUnet 0.19 node.
//!
//! This root package only anchors the workspace: it checks at build time that GNUnet 0.19 is
//! installed and owns the cross-service tests under `tests/`. The services live in their own
//! crates.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// Version of libgnunetutil this workspace was built against, as pkg-config reported it.
pub const GNUNET_VERSION: &str = env!("SECUSHARE_GNUNET_VERSION");
