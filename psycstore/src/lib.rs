//! secushare-rs `psycstore`: GNUnet's PSYCstore service without its IO loop.
//!
//! - [`msg`]: the client↔service messages 660–677, byte-compatible with the 2019 C structs.
//! - [`fragment`]: the multicast fragment it stores — `multicast::msg::Fragment` — nested in
//!   its messages, and the group generation as the C plugin files it.
//! - [`store`]: the [`store::Store`] trait and its sqlite backend, on the C plugin's schema.
//! - [`handler`]: turns decoded requests into replies, exactly as the C service answers them.
//! - [`client`]: builds requests, checks replies, and [`client::Session`], the sans-IO
//!   request/answer matching by op id (with what to re-send after a reconnect) that every
//!   client of the service drives.
//! - [`blocking`]: [`Client`], a blocking client of the running service for tools and tests.
//! - [`service`]: the driver that serves the handler on the runtime's loop (the
//!   `gnunet-service-psycstore` binary).
//!
//! Where we deliberately differ from the C original (`psycstore.md` §12), visible to C clients:
//! - STATE_HASH_UPDATE copies current state values to signed values instead of deleting the
//!   channel's state (gap S1).
//! - A STATE_MODIFY that finds no fragment or fails rolls its transaction back instead of
//!   leaving it open (gap S2); transient-modifier continuations are skipped safely (S3).
//! - STATE_MODIFY reads the stored message's parts with the strict receiver of `psyc-format`
//!   ([`store::assignments`]): a malformed part (bad name, unknown operator, END without a
//!   METHOD) ends the fragment instead of being skipped. Messages the C psyc service stores
//!   pass it.
//! - Id ranges use unsigned semantics: an upper bound above 2^63−1 means "up to the largest
//!   storable id" instead of matching nothing (S11/§8.6); ids above 2^63−1 are still refused
//!   on store.
//! - State values that would not fit into one RESULT_STATE message are not stored by
//!   STATE_MODIFY and are skipped on read (S9) instead of aborting the service.
//! - STATE_SYNC names whose `name_size` points outside the message get −1 (S10).
//! - A store failure is answered −1 with the error as RESULT_CODE text (§4.1 allows it; the C
//!   service never sent text, the C library hands it to the result callback).
//! - Unknown message types drop the client with a log line instead of stalling it.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod blocking;
pub mod client;
pub mod cursor;
pub mod fragment;
pub mod handler;
pub mod keys;
pub mod msg;
pub mod service;
pub mod store;

pub use blocking::Client;
