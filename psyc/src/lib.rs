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
//!
//! # Size padding (privacy, issue 13)
//!
//! The service pads every message it sends for a channel — announcements (multicast
//! fragments), requests, join messages, join responses — so that the multicast message on
//! the CADET channel has the size of a class of the `[secushare] PADDING` scheme (none,
//! Padmé, buckets 512/4096/32768/max, fixed; set by `PRIVACY` = convenient / balanced /
//! strict or on its own), at most the largest CADET message. Replay answers are the stored,
//! already padded fragments. The scheme is re-read from the configuration file before each
//! message, so a new level takes effect without a restart
//! ([`channel::pad`], [`service`]).
//!
//! Wire form ([`format::padding`]): one padding part, type 690 (unused in GNUnet 0.19), a
//! header and zero bytes, appended after the message's parts. The receiving psyc service
//! removes it before anything else sees the message: before part validation, before live
//! delivery, history results, join requests and join decisions reach its clients, and before
//! its catch-up and history logic look at parts; psycstore keeps the fragment as signed,
//! with its padding (the multicast signature covers it, so replays stay verifiable), and
//! ignores the padding when it applies state. **Padding is between psyc services of this
//! implementation only**: a C psyc peer would not understand the padding part (it would take
//! a padded fragment as malformed); **C clients never see it** (our psyc strips it); **C
//! multicast peers relay it opaquely**. At `convenient` (no padding) nothing is added, and C
//! psyc peers take part as before.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod channel;
pub mod client;
pub use psyc_format as format;
pub mod msg;
pub mod service;
