//! secushare-rs `psyc`: the PSYC message format, and (later) the psyc service and client API.
//!
//! - [`format`](mod@format): the message format every PSYC user shares — message parts and their
//!   containers, environments of modifiers, names and their families, the validating
//!   receiver, the segmenting transmitter and the slicer that dispatches by method family.
//!   It is the leaf crate `psyc-format`, re-exported here, so that `psycstore` (which this
//!   crate's service will depend on) parses stored messages with the same code.
//! - [`channel`]: the sans-IO channel logic of the psyc service — master and slave records,
//!   transmission, ordered reception with gap recovery, psycstore queries.
//! - [`client`]: the client API — a sans-IO [`client::Session`] for one master or slave
//!   connection, and a blocking [`client::Client`] over the service's socket.
//! - [`msg`]: the client↔service messages of the psyc service (types 680–705), byte-compatible
//!   with the 2019 C library and service.
//! - [`service`]: the driver of `gnunet-service-psyc`, which puts [`channel`] on the service
//!   runtime, a client of the peer's multicast and psycstore services.
//!
//! Where this crate deliberately differs from the 2019 C original (its known gaps), the item
//! concerned says so in its documentation.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod channel;
pub mod client;
pub use psyc_format as format;
pub mod msg;
pub mod service;
